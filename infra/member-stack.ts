/**
 * The role vecguard assumes in each account it manages (deploy it in every member account, and in the hub
 * account too when the hub is given a member role name: executions assume it for the hub's own scope as
 * well). It trusts only the hub's function roles (IAM path /vecguard/ in the hub account) and grants, in its
 * own account, the EC2 reads of the inventory, the remediation registry's actions and the Security Hub import.
 *
 * Outside the hub's account and Region it also forwards this account's encryption-relevant events to the
 * hub's default event bus (./constructs/event-forwarder.ts), so a change here starts the loop at once instead
 * of at the next sweep.
 */
import {
  Aws,
  CfnCondition,
  CfnOutput,
  CfnResource,
  Fn,
  type ICfnConditionExpression,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { EventForwarder } from './constructs/event-forwarder.ts';
import {
  acknowledgeRemediationArns,
  checkExternalId,
  checkOrganizationId,
  defaultExternalId,
  ec2ReadStatement,
  HUB_ROLE_PATH,
  remediationStatements,
  securityHubStatements,
} from './permissions.ts';

export interface MemberStackProps extends StackProps {
  /**
   * The account vecguard's hub runs in: the role trusts its function roles, and this account's events are
   * forwarded to its default bus. @default - this stack's own account (the hub manages itself)
   */
  readonly hubAccountId?: string;
  /** Must equal the hub's `memberRoleName`. @default 'vecguard-member' */
  readonly roleName?: string;
  /**
   * The Region of the hub's event bus, where this account's events are forwarded.
   * @default - this stack's own Region
   */
  readonly hubRegion?: string;
  /**
   * Required in `sts:ExternalId`, always. Give the hub the same value (`memberExternalId`), which its
   * functions send on every AssumeRole (`VECGUARD_MEMBER_EXTERNAL_ID`).
   * @default - `vecguard-<hubAccountId>`, what the hub sends when it is given none
   */
  readonly externalId?: string;
  /**
   * The hub's AWS Organization (`o-…`): the role also requires `aws:PrincipalOrgID` to equal it.
   * @default - no organisation condition
   */
  readonly organizationId?: string;
  /**
   * The flow-log delivery role create-flow-log passes (the policy's `flowLogs.deliverLogsPermissionArn`):
   * `iam:PassRole` on exactly this ARN, to VPC Flow Logs only. @default - no iam:PassRole
   */
  readonly flowLogDeliveryRoleArn?: string;
  /** The registry's `allPermissions()` (functions/adapters/actions/registry.ts). */
  readonly remediationPermissions: readonly string[];
}

export const DEFAULT_MEMBER_ROLE_NAME = 'vecguard-member';

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export class MemberStack extends Stack {
  readonly role: iam.Role;
  /** Absent when the hub's bus is this account's own, in this Region: its rules see the events already. */
  readonly forwarder?: EventForwarder;

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, props);
    if (props.hubAccountId !== undefined && !ACCOUNT_ID.test(props.hubAccountId)) {
      throw new Error(
        `hubAccountId "${props.hubAccountId}" is not an AWS account id: give the hub's 12 digits`,
      );
    }
    const roleName = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
    if (!ROLE_NAME.test(roleName)) {
      throw new Error(
        `roleName "${roleName}" is not an IAM role name: use 1–64 of A–Z a–z 0–9 + = , . @ _ -`,
      );
    }
    if (props.hubRegion !== undefined && !REGION.test(props.hubRegion)) {
      throw new Error(
        `hubRegion "${props.hubRegion}" is not an AWS Region: give the hub stack's Region, e.g. us-east-1`,
      );
    }
    if (props.externalId !== undefined) checkExternalId('externalId', props.externalId);
    if (props.organizationId !== undefined) checkOrganizationId('organizationId', props.organizationId);
    const hubAccount = props.hubAccountId ?? this.account;

    this.role = new iam.Role(this, 'Role', {
      roleName,
      description: 'Assumed by vecguard (hub account) to audit and enforce VPC Encryption Controls here',
      assumedBy: new iam.AccountPrincipal(hubAccount).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${this.partition}:iam::${hubAccount}:role${HUB_ROLE_PATH}*` },
        StringEquals: {
          'sts:ExternalId': props.externalId ?? defaultExternalId(hubAccount),
          ...(props.organizationId === undefined ? {} : { 'aws:PrincipalOrgID': props.organizationId }),
        },
      }),
    });
    for (const statement of [
      ec2ReadStatement(),
      ...remediationStatements(this, props.remediationPermissions, {
        ...(props.flowLogDeliveryRoleArn === undefined
          ? {}
          : { flowLogDeliveryRoleArn: props.flowLogDeliveryRoleArn }),
      }),
      ...securityHubStatements(this),
    ]) {
      this.role.addToPrincipalPolicy(statement);
    }
    const ack = (id: string, reason: string) => Validations.of(this.role).acknowledge({ id, reason });
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      "Only EC2 Describe*/Get* and CloudWatch Logs' log-delivery actions, which take no resource; every mutating action is on this account's ARNs.",
    );
    acknowledgeRemediationArns(this.role);
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default]',
      "Findings are imported in the scope's Region, any Region the policy targets, only into this account's own product.",
    );
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default]',
      "Findings are read back in the scope's Region, any Region the policy targets, only from this account's hub.",
    );
    new CfnOutput(this, 'RoleArn', { value: this.role.roleArn });

    this.forwarder = this.forwardEvents(hubAccount, props.hubRegion ?? this.region);
  }

  /**
   * Forwards to the hub's bus unless it is this stack's own (a rule sending the default bus's events back to
   * it would loop). An environment-agnostic stack cannot tell at synth: CloudFormation decides, by condition.
   */
  private forwardEvents(hubAccount: string, hubRegion: string): EventForwarder | undefined {
    const same = (a: string, b: string) =>
      a === b ? true : Token.isUnresolved(a) || Token.isUnresolved(b) ? undefined : false;
    const sameAccount = same(hubAccount, this.account);
    const sameRegion = same(hubRegion, this.region);
    if (sameAccount === true && sameRegion === true) return undefined;

    const hubEventBus = events.EventBus.fromEventBusArn(
      this,
      'HubEventBus',
      this.formatArn({
        service: 'events',
        account: hubAccount,
        region: hubRegion,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    const forwarder = new EventForwarder(this, 'EventForwarder', { hubEventBus });
    const output = new CfnOutput(this, 'ForwardingDeadLetterQueueUrl', {
      value: forwarder.deadLetterQueue.queueUrl,
    });
    if (sameAccount === false || sameRegion === false) return forwarder;

    const atHub = [
      ...(sameAccount === true ? [] : [Fn.conditionEquals(Aws.ACCOUNT_ID, hubAccount)]),
      ...(sameRegion === true ? [] : [Fn.conditionEquals(Aws.REGION, hubRegion)]),
    ];
    const notHub = new CfnCondition(this, 'OutsideHubAccountAndRegion', {
      expression: Fn.conditionNot(
        atHub.length === 1 ? (atHub[0] as ICfnConditionExpression) : Fn.conditionAnd(...atHub),
      ),
    });
    for (const child of forwarder.node.findAll()) {
      if (child instanceof CfnResource) child.cfnOptions.condition = notHub;
    }
    output.condition = notHub;
    return forwarder;
  }
}
