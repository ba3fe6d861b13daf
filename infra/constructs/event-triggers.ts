/**
 * What starts the loop: EventBridge rules for the four trigger sources of functions/domain/triggers.ts —
 * CloudTrail EC2 calls that change encryption posture, AWS Config changes of the resource types the
 * classifier reads, a schedule, and the Security Hub "re-scan" custom action — all to the events queue, whose
 * event source mapping hands on-event what arrived within its batching window as one batch; on-event starts
 * one execution per scope at a time (docs/loop.md "One run per scope at a time"). The CloudTrail and Config
 * rules match events of any account: member accounts forward theirs to this bus (./event-forwarder.ts,
 * admitted by ./member-event-access.ts).
 *
 * Nothing is dropped: an event EventBridge cannot deliver lands in one encrypted queue (`DeadLetters`), and a
 * message on-event failed `maxReceiveCount` times (an invalid event, a StartExecution that kept failing) in the
 * events queue's own (`EventsDeadLetters`), each to be read and redriven. EventBridge delivers at least once
 * and the queue too, so a message may arrive twice: dedup keys and the scope lease make that harmless.
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EVENT_BUFFER } from '../../functions/domain/scope-lease.ts';
import { CONFIG_RESOURCE_TYPES, TRANSIT_GATEWAY_PREFIX } from '../../functions/domain/triggers.ts';
import { cloudTrailEventPattern, configEventPattern } from '../event-patterns.ts';
import { KEY_PREFIXES, ORGANIZATIONS_READ_ACTIONS, tableStatements } from '../permissions.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { ENFORCEMENT_LOOP_NAME } from './enforcement-loop.ts';
import { VecguardFunction } from './vecguard-function.ts';

/**
 * The Config resource types the classifier acts on (functions/domain/triggers.ts): anything else it ignores,
 * so the rule does not deliver it. The Transit Gateway family is matched by prefix.
 */
export { CONFIG_RESOURCE_TYPES, TRANSIT_GATEWAY_PREFIX as CONFIG_RESOURCE_TYPE_PREFIX };

const SCHEDULE = /^(rate|cron)\(.+\)$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export interface EventTriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Only for the shared configuration every vecguard function reads; on-event does not touch it. */
  readonly table: dynamodb.ITable;
  /** Only for the shared configuration every vecguard function reads; on-event does not publish. */
  readonly topic: sns.ITopic;
  /** The policy file, relative to the repository root (approval timeout and sweep scopes). */
  readonly policyFile: string;
  /**
   * An EventBridge schedule expression for the sweep of every scope the policy names.
   * @default 'rate(1 day)'
   */
  readonly schedule?: string;
  /** The member-account role executions assume (`VECGUARD_MEMBER_ROLE_NAME`). @default - own credentials */
  readonly memberRoleName?: string;
  /** @default - the policy decides */
  readonly dryRun?: boolean;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The policy targets organizational units: on-event reads AWS Organizations (the tree for a sweep, an
   * account's parents for an event), so its role may. The hub must then run in the organization's management
   * account or a delegated administrator's (docs/deploy.md). @default false
   */
  readonly readsOrganization?: boolean;
}

export class EventTriggers extends Construct {
  readonly function: VecguardFunction;
  /** Where EventBridge puts what it could not deliver to the events queue. */
  readonly deadLetterQueue: sqs.Queue;
  /** The buffer between EventBridge and on-event (batched by its event source mapping). */
  readonly eventsQueue: sqs.Queue;
  /** Where a message on-event failed `EVENT_BUFFER.maxReceiveCount` times ends. */
  readonly eventsDeadLetterQueue: sqs.Queue;
  readonly rescanAction: securityhub.CfnActionTarget;

  constructor(scope: Construct, id: string, props: EventTriggersProps) {
    super(scope, id);
    const schedule = props.schedule ?? 'rate(1 day)';
    if (!SCHEDULE.test(schedule)) {
      throw new Error(
        `schedule "${schedule}" is not an EventBridge schedule expression: use rate(…) or cron(…), e.g. rate(6 hours)`,
      );
    }
    if (props.memberRoleName !== undefined && !ROLE_NAME.test(props.memberRoleName)) {
      throw new Error(
        `memberRoleName "${props.memberRoleName}" is not an IAM role name: use 1–64 of A–Z a–z 0–9 + = , . @ _ -`,
      );
    }

    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetters',
      'the EventBridge targets (events it could not deliver to the events queue)',
    );
    this.eventsDeadLetterQueue = deadLetterQueue(
      this,
      'EventsDeadLetters',
      'the events queue (messages on-event failed on every receive)',
    );
    const timeout = Duration.minutes(1);
    this.eventsQueue = new sqs.Queue(this, 'Events', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // Lambda's advice: six times the function's timeout, plus the batching window.
      // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
      visibilityTimeout: Duration.seconds(6 * timeout.toSeconds() + EVENT_BUFFER.batchingWindowSeconds),
      deadLetterQueue: { queue: this.eventsDeadLetterQueue, maxReceiveCount: EVENT_BUFFER.maxReceiveCount },
    });

    this.function = new VecguardFunction(this, 'OnEvent', {
      handlerModule: 'on-event',
      policyFile: props.policyFile,
      timeout,
      memorySize: 256,
      environment: {
        VECGUARD_TABLE_NAME: props.table.tableName,
        VECGUARD_TOPIC_ARN: props.topic.topicArn,
        VECGUARD_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        ...(props.memberRoleName === undefined ? {} : { VECGUARD_MEMBER_ROLE_NAME: props.memberRoleName }),
        ...(props.dryRun === undefined ? {} : { VECGUARD_DRY_RUN: String(props.dryRun) }),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    const onEvent = this.function.function;
    // Batches: what arrived within the window, up to the batch size; only the failed messages return to the
    // queue (ReportBatchItemFailures), so one bad event does not replay the whole batch. The mapping grants
    // the function receive, delete and visibility on this queue only.
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-batchfailurereporting.html
    onEvent.addEventSource(
      new SqsEventSource(this.eventsQueue, {
        batchSize: EVENT_BUFFER.batchSize,
        maxBatchingWindow: Duration.seconds(EVENT_BUFFER.batchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    props.stateMachine.grantStartExecution(onEvent);
    // Whether the run holding a scope's lease is over (docs/loop.md "One run per scope at a time"): the
    // loop's executions only.
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLeaseHolderExecution',
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${ENFORCEMENT_LOOP_NAME}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(this.function.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${ENFORCEMENT_LOOP_NAME}:*]`,
      reason:
        'DescribeExecution of the enforcement loop’s executions only: which execution holds a scope’s lease is known at run time (the lease names it).',
    });
    // The per-scope lease (SCOPE#<account>#<region>) that coalesces event storms; nothing else of the table.
    for (const statement of tableStatements(props.table.tableArn, {
      read: [KEY_PREFIXES.scope],
      write: [KEY_PREFIXES.scope],
    })) {
      onEvent.addToRolePolicy(statement);
    }
    if (props.readsOrganization) {
      onEvent.addToRolePolicy(
        new iam.PolicyStatement({ actions: [...ORGANIZATIONS_READ_ACTIONS], resources: ['*'] }),
      );
      Validations.of(this.function.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'The policy targets OUs: a sweep reads the whole organisation. ListRoots takes no resource, and the OU, root and account ARNs of the other reads embed the management account and organisation ids, unknown at deploy; the four List actions are named one by one, and Organizations answers them only to the management account or a delegated administrator.',
      });
    }

    const target = new targets.SqsQueue(this.eventsQueue, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });

    new events.Rule(this, 'CloudTrailRule', {
      description: 'vecguard: EC2 API calls that change encryption in transit',
      eventPattern: cloudTrailEventPattern(),
      targets: [target],
    });

    new events.Rule(this, 'ConfigRule', {
      description: 'vecguard: AWS Config changes of resources that affect encryption in transit',
      eventPattern: configEventPattern(),
      targets: [target],
    });

    new events.Rule(this, 'ScheduleRule', {
      description: 'vecguard: sweep every scope the policy names',
      schedule: events.Schedule.expression(schedule),
      targets: [target],
    });

    this.rescanAction = new securityhub.CfnActionTarget(this, 'RescanAction', {
      id: 'VecguardRescan',
      name: 'vecguard re-scan',
      description: 'Run the vecguard enforcement loop now for the VPCs of the selected findings',
    });
    new events.Rule(this, 'SecurityHubActionRule', {
      description: 'vecguard: the Security Hub "re-scan" custom action',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: ['Security Hub Findings - Custom Action'],
        resources: [this.rescanAction.attrActionTargetArn],
      },
      targets: [target],
    });
  }
}
