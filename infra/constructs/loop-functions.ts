/**
 * The enforcement loop's Task functions (docs/loop.md "Handlers"), one per Task `Resource` substitution, each
 * granted only what its handler calls:
 *
 * | function | table | SNS | EC2 | Security Hub | assumes the member role |
 * |---|---|---|---|---|---|
 * | Inventory | read/write | | reads | | yes |
 * | Audit, Plan, RecordRejection | read/write | | | | |
 * | RequestApproval | read/write | publish | | | |
 * | PublishFindings | read | | | import/read | yes |
 * | LoadPage | read | | | | |
 * | Apply | read/write | | the registry's `allPermissions()` | | yes |
 * | PollTransitions | | | reads | | yes |
 * | Report | read/write | publish | | | |
 * | FailureReport | | publish | | | |
 *
 * Those that assume the member role are also the only ones given the external id it requires
 * (`VECGUARD_MEMBER_EXTERNAL_ID`), when the hub sets one.
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  acknowledgeRemediationArns,
  assumeMemberRoleStatement,
  checkExternalId,
  checkRemediationPermissions,
  defaultExternalId,
  ec2ReadStatement,
  KEY_PREFIXES as K,
  remediationStatements,
  securityHubStatements,
  type TableAccess,
  tableStatements,
} from '../permissions.ts';
import { ENFORCEMENT_LOOP_NAME } from './enforcement-loop.ts';
import { VecguardFunction } from './vecguard-function.ts';

interface LoopFunctionSpec {
  /** functions/handlers/<module>.ts */
  readonly module: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Its state table access, by key prefix (infra/permissions.ts `tableStatements`). */
  readonly table?: TableAccess;
  readonly publishes?: true;
  readonly ec2?: 'read' | 'remediate';
  readonly securityHub?: true;
  /**
   * Answers its own approval task when a retry finds the approval already decided: SendTaskSuccess/Failure
   * on the enforcement loop (named, not referenced: the state machine refers to these functions).
   */
  readonly answersTasks?: true;
  /** Reads its own executions' history (GetExecutionHistory on the loop's executions only). */
  readonly readsHistory?: true;
  /** Calls AWS in the scope's account: assumes the member role when the execution names one. */
  readonly inScope?: true;
  /**
   * Ends a run: starts the one follow-up run for the VPCs events named meanwhile (StartExecution on the
   * enforcement loop, named, not referenced, and `VECGUARD_STATE_MACHINE_ARN` formatted from its name).
   */
  readonly startsFollowUps?: true;
}

/**
 * Keyed by construct id; the state machine substitution is `<id>FunctionArn` (docs/loop.md "Substitutions",
 * local/loop.ts `LOOP_FUNCTIONS`). The ids are a contract: renaming one replaces the function.
 */
export const LOOP_FUNCTION_SPECS = {
  // A whole scope at 5,000 VPCs, paced by EC2's read buckets (bench/sweep.ts).
  Inventory: {
    module: 'inventory',
    timeout: Duration.minutes(10),
    memorySize: 1024,
    // Before a run changes anything, it closes the intents an earlier run left open (reads them back).
    table: { read: [K.run, K.audit], write: [K.run], appendsAudit: true },
    ec2: 'read',
    inScope: true,
  },
  Audit: {
    module: 'audit',
    timeout: Duration.minutes(2),
    memorySize: 1024,
    table: { read: [K.run, K.history], write: [K.run, K.history] },
  },
  // BatchImportFindings takes 100 findings a call at about 10 TPS.
  PublishFindings: {
    module: 'publish-findings',
    timeout: Duration.minutes(5),
    memorySize: 512,
    table: { read: [K.run] },
    securityHub: true,
    inScope: true,
  },
  // listForRun scans the approvals (no index on them); the run and sweep counters say what the caps leave.
  Plan: {
    module: 'plan',
    timeout: Duration.minutes(2),
    memorySize: 1024,
    table: { read: [K.run, K.sweep, K.approval], write: [K.run], scan: true },
  },
  LoadPage: { module: 'load-page', timeout: Duration.seconds(30), memorySize: 256, table: { read: [K.run] } },
  // Long enough to stop an instance, change its type and start it again (move-instance polls both ways).
  Apply: {
    module: 'apply',
    timeout: Duration.minutes(10),
    memorySize: 512,
    // Run and sweep counters (the caps), the approval it applies under, the audit log it appends to.
    table: { read: [K.run, K.sweep, K.approval, K.audit], write: [K.run, K.sweep], appendsAudit: true },
    ec2: 'remediate',
    inScope: true,
  },
  RequestApproval: {
    module: 'request-approval',
    timeout: Duration.minutes(1),
    memorySize: 256,
    table: { read: [K.run, K.approval], write: [K.approval] },
    publishes: true,
    answersTasks: true,
  },
  RecordRejection: {
    module: 'record-rejection',
    timeout: Duration.minutes(1),
    memorySize: 256,
    table: { read: [K.approval], write: [K.approval] },
  },
  PollTransitions: {
    module: 'poll-transitions',
    timeout: Duration.minutes(2),
    memorySize: 512,
    // Reconciles open intents: reads the audit log and appends outcomes.
    table: { read: [K.run, K.audit], appendsAudit: true },
    ec2: 'read',
    inScope: true,
  },
  // Reads what the steps stored (the final pass reads the scope again, as Inventory), and reads EC2 back only
  // to close an intent a stopped step left open: no EC2 change, no Security Hub.
  Report: {
    module: 'report',
    // Reads every iteration's audit and plan: at 5,000 VPCs several MB each.
    timeout: Duration.minutes(5),
    memorySize: 1024,
    // Closes the run's unanswered approvals (a Scan), releases the scope's lease, closes open intents.
    table: {
      read: [K.run, K.approval, K.audit, K.scope],
      write: [K.run, K.approval, K.scope],
      appendsAudit: true,
      scan: true,
    },
    publishes: true,
    ec2: 'read',
    inScope: true,
    startsFollowUps: true,
  },
  FailureReport: {
    module: 'failure-report',
    timeout: Duration.minutes(1),
    memorySize: 256,
    table: {
      read: [K.run, K.approval, K.audit, K.scope],
      write: [K.approval, K.scope],
      appendsAudit: true,
      scan: true,
    },
    publishes: true,
    // Reads back what a step that died left unrecorded, so the notice lists every change; the history
    // names what a step could not write to the table.
    ec2: 'read',
    inScope: true,
    readsHistory: true,
    startsFollowUps: true,
  },
} as const satisfies Record<string, LoopFunctionSpec>;

export type LoopFunctionId = keyof typeof LOOP_FUNCTION_SPECS;

export interface LoopFunctionsProps {
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /** The policy file, relative to the repository root. */
  readonly policyFile: string;
  /** The IAM actions of the remediation registry (`allPermissions()`): Apply's EC2 grant, exactly. */
  readonly remediationPermissions: readonly string[];
  /**
   * The member-account role the functions assume for a scope that names one; they may assume only a role of
   * this name. @default - none: the functions act in the hub account only
   */
  readonly memberRoleName?: string;
  /**
   * Sent as `ExternalId` when the functions that reach into a scope assume the member role
   * (`VECGUARD_MEMBER_EXTERNAL_ID`); the member role's `sts:ExternalId` condition must equal it. Needs
   * `memberRoleName`. @default - none sent
   */
  readonly memberExternalId?: string;
  /**
   * The accounts whose member role the functions may assume (besides the hub's own), when no
   * `organizationId` is given. @default - the hub's account only
   */
  readonly memberAccountIds?: readonly string[];
  /**
   * The AWS Organization (`o-…`) whose accounts' member roles the functions may assume (`aws:ResourceOrgID`).
   * @default - only the hub's account and `memberAccountIds`
   */
  readonly organizationId?: string;
  /** The flow-log delivery role create-flow-log passes (the policy's). @default - no iam:PassRole */
  readonly flowLogDeliveryRoleArn?: string;
  /** Overrides the policy's `dryRun` in every function. @default - the policy decides */
  readonly dryRun?: boolean;
  /**
   * How many Apply invocations may run at once, across all executions: EC2 allows 5 mutating calls a second
   * per account and Region, so a runaway fan-out must not drain it. @default 10
   */
  readonly applyConcurrency?: number;
  /**
   * How many Apply workers one scope runs at once (the `Groups` Map's MaxConcurrency); each worker's
   * client-side limiter uses this share of EC2's buckets (`VECGUARD_EC2_RATE_SHARE`). @default 10
   */
  readonly applyWorkersPerScope?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export class LoopFunctions extends Construct {
  readonly functions: Readonly<Record<LoopFunctionId, lambda.IFunction>>;

  constructor(scope: Construct, id: string, props: LoopFunctionsProps) {
    super(scope, id);
    checkRemediationPermissions(props.remediationPermissions);
    const applyConcurrency = props.applyConcurrency ?? 10;
    if (!Number.isInteger(applyConcurrency) || applyConcurrency < 1 || applyConcurrency > 1000) {
      throw new Error(`applyConcurrency must be an integer from 1 to 1000, got ${applyConcurrency}`);
    }
    const workers = props.applyWorkersPerScope ?? 10;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new Error(
        `applyWorkersPerScope must be a positive integer (the Groups Map's MaxConcurrency), got ${workers}`,
      );
    }
    if (props.memberExternalId !== undefined) {
      checkExternalId('memberExternalId', props.memberExternalId);
      if (props.memberRoleName === undefined) {
        throw new Error(
          'memberExternalId is set but memberRoleName is not: the external id is sent when assuming the member role; set memberRoleName (e.g. vecguard-member) or drop memberExternalId',
        );
      }
    }
    const stack = Stack.of(this);
    const environment: Record<string, string> = {
      VECGUARD_TABLE_NAME: props.table.tableName,
      VECGUARD_TOPIC_ARN: props.topic.topicArn,
      ...(props.dryRun === undefined ? {} : { VECGUARD_DRY_RUN: String(props.dryRun) }),
    };

    const loopArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: ENFORCEMENT_LOOP_NAME,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const functions = {} as Record<LoopFunctionId, lambda.IFunction>;
    for (const [fid, spec] of Object.entries(LOOP_FUNCTION_SPECS) as [LoopFunctionId, LoopFunctionSpec][]) {
      const isApply = spec.ec2 === 'remediate';
      const fn = new VecguardFunction(this, fid, {
        handlerModule: spec.module,
        policyFile: props.policyFile,
        timeout: spec.timeout,
        memorySize: spec.memorySize,
        environment: {
          ...environment,
          ...(isApply ? { VECGUARD_EC2_RATE_SHARE: String(1 / workers) } : {}),
          ...(spec.inScope && props.memberRoleName !== undefined
            ? { VECGUARD_MEMBER_EXTERNAL_ID: props.memberExternalId ?? defaultExternalId(stack.account) }
            : {}),
          ...(spec.startsFollowUps ? { VECGUARD_STATE_MACHINE_ARN: loopArn } : {}),
        },
        ...(isApply ? { reservedConcurrentExecutions: applyConcurrency } : {}),
        ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
      });
      const grantee = fn.function;
      if (spec.publishes) props.topic.grantPublish(grantee);
      const statements: iam.PolicyStatement[] = [];
      if (spec.table !== undefined) statements.push(...tableStatements(props.table.tableArn, spec.table));
      if (spec.ec2 === 'read') statements.push(ec2ReadStatement());
      if (spec.ec2 === 'remediate')
        statements.push(
          ...remediationStatements(stack, props.remediationPermissions, {
            ...(props.flowLogDeliveryRoleArn === undefined
              ? {}
              : { flowLogDeliveryRoleArn: props.flowLogDeliveryRoleArn }),
          }),
        );
      if (spec.securityHub) statements.push(...securityHubStatements(stack));
      if (spec.answersTasks)
        statements.push(
          new iam.PolicyStatement({
            sid: 'AnswerOwnApprovalTask',
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
            resources: [
              stack.formatArn({
                service: 'states',
                resource: 'stateMachine',
                resourceName: ENFORCEMENT_LOOP_NAME,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            ],
          }),
        );
      if (spec.readsHistory)
        statements.push(
          new iam.PolicyStatement({
            sid: 'ReadOwnExecutionHistory',
            actions: ['states:GetExecutionHistory'],
            resources: [
              stack.formatArn({
                service: 'states',
                resource: 'execution',
                resourceName: `${ENFORCEMENT_LOOP_NAME}:*`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            ],
          }),
        );
      if (spec.startsFollowUps)
        statements.push(
          new iam.PolicyStatement({
            sid: 'StartFollowUpRun',
            actions: ['states:StartExecution'],
            resources: [loopArn],
          }),
        );
      if (spec.inScope && props.memberRoleName !== undefined) {
        statements.push(
          assumeMemberRoleStatement(props.memberRoleName, {
            accounts: [stack.account, ...(props.memberAccountIds ?? [])],
            ...(props.organizationId === undefined ? {} : { organizationId: props.organizationId }),
          }),
        );
      }
      for (const statement of statements) fn.role.addToPrincipalPolicy(statement);
      acknowledgeScopedWildcards(fn.role, spec, props.memberRoleName);
      functions[fid] = fn.function;
    }
    this.functions = functions;
  }

  /** The functions by state machine substitution name: `<id>FunctionArn` (docs/loop.md "Substitutions"). */
  substitutionFunctions(): Record<string, lambda.IFunction> {
    return Object.fromEntries(Object.entries(this.functions).map(([fid, fn]) => [`${fid}FunctionArn`, fn]));
  }
}

/** The wildcards a loop function's grants carry by design, each with the reason it cannot be narrower. */
function acknowledgeScopedWildcards(role: iam.IRole, spec: LoopFunctionSpec, memberRoleName?: string): void {
  const ack = (id: string, reason: string) => Validations.of(role).acknowledge({ id, reason });
  if (spec.ec2 !== undefined) {
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      "EC2 Describe*/Get* take no resource, and the VPCs, controls and instances acted on are found at run time in the scope; the actions are listed one by one (Apply's are exactly the remediation registry's).",
    );
  }
  if (spec.ec2 === 'remediate') acknowledgeRemediationArns(role);
  if (spec.readsHistory) {
    ack(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${ENFORCEMENT_LOOP_NAME}:*]`,
      'GetExecutionHistory of the enforcement loop’s executions only: the failing run’s execution is known at run time (the state machine passes its id).',
    );
  }
  if (spec.securityHub) {
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default]',
      "Findings are imported in the scope's Region, any Region the policy targets, and only into this account's own product.",
    );
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default]',
      "Findings are read back in the scope's Region, any Region the policy targets, and only from this account's hub.",
    );
  }
  if (spec.inScope && memberRoleName !== undefined) {
    ack(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${memberRoleName}]`,
      'Only with an organisation id: the member role in any account of that organisation (aws:ResourceOrgID), one name everywhere; without one, the configured accounts are listed one by one.',
    );
  }
  if (spec.publishes) {
    ack(
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      "Publishing to the encrypted topic needs data keys from its key, and only that key (grantPublish's statement names it).",
    );
  }
}
