/**
 * The hub: where vecguard runs. The state table, the notification topic, the loop's functions and state
 * machine, the triggers, the approver policy, and the member accounts' permission to put their events on its
 * bus. Member accounts hold the role the hub assumes and the rules that forward their events
 * (./member-stack.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type Policy, parsePolicy, policyNeedsOrganization } from '../functions/domain/policy.ts';
import { ApproverEndpoint } from './constructs/approver-endpoint.ts';
import { ApproverPolicy } from './constructs/approver-policy.ts';
import { ASL_FILE, EnforcementLoop, mapConcurrency } from './constructs/enforcement-loop.ts';
import { EventTriggers } from './constructs/event-triggers.ts';
import { LoopFunctions } from './constructs/loop-functions.ts';
import { MemberEventAccess } from './constructs/member-event-access.ts';
import { NotificationTopic } from './constructs/notification-topic.ts';
import { StateTable } from './constructs/state-table.ts';
import { PROJECT_ROOT } from './constructs/vecguard-function.ts';

export interface HubStackProps extends StackProps {
  /**
   * The policy file, relative to the repository root: bundled with every function, which reads it from
   * `VECGUARD_POLICY_FILE`. Validated at synth. @default 'examples/vecguard.policy.yaml'
   */
  readonly policyFile?: string;
  /**
   * The IAM actions the remediation registry needs: pass `allPermissions()` from
   * functions/adapters/actions/registry.ts. Apply is granted exactly these.
   */
  readonly remediationPermissions: readonly string[];
  /**
   * The role each scope's account holds for vecguard (./member-stack.ts); executions assume it, in the hub
   * account too. @default - none: vecguard acts in the hub account with its functions' own roles
   */
  readonly memberRoleName?: string;
  /**
   * Sent as `ExternalId` whenever the functions assume the member role: give the member stacks the same
   * `externalId`. Needs `memberRoleName`. @default - `vecguard-<hub account id>`, the member stack's default
   */
  readonly memberExternalId?: string;
  /**
   * Member accounts allowed to put events on the hub's default event bus: their member stacks forward
   * their CloudTrail and Config events there. @default - none by id
   */
  readonly memberAccountIds?: readonly string[];
  /**
   * An AWS Organization (`o-…`) all of whose accounts may put events on the hub's default event bus
   * (`aws:PrincipalOrgID`), and whose accounts' member roles the functions may assume (`aws:ResourceOrgID`;
   * without it, only the hub's account and `memberAccountIds`). With neither this nor `memberAccountIds`,
   * the bus admits no other account.
   * @default - none
   */
  readonly organizationId?: string;
  /** The sweep's EventBridge schedule. @default 'rate(1 day)' */
  readonly schedule?: string;
  /** Overrides the policy's `dryRun` in every function. @default - the policy decides */
  readonly dryRun?: boolean;
  /** @default 'vecguard-state' */
  readonly tableName?: string;
  /** Apply's reserved concurrency (EC2's write buckets). @default 10 */
  readonly applyConcurrency?: number;
  /** Functions' log retention. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export const DEFAULT_POLICY_FILE = 'examples/vecguard.policy.yaml';

export class HubStack extends Stack {
  readonly table: StateTable;
  readonly topic: NotificationTopic;
  readonly loopFunctions: LoopFunctions;
  readonly loop: EnforcementLoop;
  readonly triggers: EventTriggers;
  readonly approverEndpoint: ApproverEndpoint;
  readonly approverPolicy: ApproverPolicy;
  /** Absent when the hub admits no member account's events (single account). */
  readonly memberEventAccess?: MemberEventAccess;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    const policyFile = props.policyFile ?? DEFAULT_POLICY_FILE;
    const policy = checkPolicyFile(policyFile);
    const asl = readFileSync(ASL_FILE, 'utf8');

    this.table = new StateTable(
      this,
      'State',
      props.tableName === undefined ? {} : { tableName: props.tableName },
    );
    this.topic = new NotificationTopic(this, 'Notifications');
    const shared = {
      policyFile,
      ...(props.memberRoleName === undefined ? {} : { memberRoleName: props.memberRoleName }),
      ...(props.dryRun === undefined ? {} : { dryRun: props.dryRun }),
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    };
    this.loopFunctions = new LoopFunctions(this, 'LoopFunctions', {
      ...shared,
      table: this.table.table,
      topic: this.topic.topic,
      remediationPermissions: props.remediationPermissions,
      ...(props.memberExternalId === undefined ? {} : { memberExternalId: props.memberExternalId }),
      ...(props.memberAccountIds === undefined ? {} : { memberAccountIds: props.memberAccountIds }),
      ...(props.organizationId === undefined ? {} : { organizationId: props.organizationId }),
      ...(policy.flowLogs?.deliverLogsPermissionArn === undefined
        ? {}
        : { flowLogDeliveryRoleArn: policy.flowLogs.deliverLogsPermissionArn }),
      applyWorkersPerScope: mapConcurrency(asl, 'Groups') ?? 1,
      ...(props.applyConcurrency === undefined ? {} : { applyConcurrency: props.applyConcurrency }),
    });
    this.loop = new EnforcementLoop(this, 'EnforcementLoop', {
      functions: this.loopFunctions.substitutionFunctions(),
    });
    this.triggers = new EventTriggers(this, 'Triggers', {
      ...shared,
      stateMachine: this.loop.stateMachine,
      table: this.table.table,
      topic: this.topic.topic,
      ...(props.schedule === undefined ? {} : { schedule: props.schedule }),
      readsOrganization: policyNeedsOrganization(policy),
    });
    this.approverEndpoint = new ApproverEndpoint(this, 'ApproverEndpoint', {
      table: this.table.table,
      topic: this.topic.topic,
      stateMachine: this.loop.stateMachine,
      policyFile,
      ...(props.dryRun === undefined ? {} : { dryRun: props.dryRun }),
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    this.approverPolicy = new ApproverPolicy(this, 'Approver', {
      endpoint: this.approverEndpoint.function,
    });
    if ((props.memberAccountIds?.length ?? 0) > 0 || props.organizationId !== undefined) {
      this.memberEventAccess = new MemberEventAccess(this, 'MemberEvents', {
        ...(props.memberAccountIds === undefined ? {} : { memberAccountIds: props.memberAccountIds }),
        ...(props.organizationId === undefined ? {} : { organizationId: props.organizationId }),
      });
    }

    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topic.topicArn });
    new CfnOutput(this, 'StateMachineArn', { value: this.loop.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ApproverPolicyArn', { value: this.approverPolicy.policy.managedPolicyArn });
    new CfnOutput(this, 'ApproverUrl', {
      value: this.approverEndpoint.url.url,
      description: 'vecguard approvals / approve / reject --approver-url (or VECGUARD_APPROVER_URL)',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.triggers.deadLetterQueue.queueUrl });
    // Events on-event failed on every receive (invalid, or their run could not start): read and redrive them.
    new CfnOutput(this, 'EventsDeadLetterQueueUrl', {
      value: this.triggers.eventsDeadLetterQueue.queueUrl,
    });
  }
}

/** The policy file must exist, be .json/.yaml/.yml and parse: a bad policy fails `cdk synth`, not Lambda. */
function checkPolicyFile(policyFile: string): Policy {
  const path = resolve(PROJECT_ROOT, policyFile);
  if (!existsSync(path)) {
    throw new Error(
      `policyFile "${policyFile}" does not exist; pass a path relative to the repository root (-c policyFile=…), e.g. ${DEFAULT_POLICY_FILE}`,
    );
  }
  if (!/\.(json|ya?ml)$/i.test(policyFile)) {
    throw new Error(`policyFile "${policyFile}" must be a .json, .yaml or .yml file`);
  }
  return parsePolicy(readFileSync(path, 'utf8'), policyFile);
}
