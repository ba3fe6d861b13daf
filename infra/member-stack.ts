/**
 * The role vecguard assumes in each account it manages (deploy it in every member account, and in the hub
 * account too when the hub is given a member role name: executions assume it for the hub's own scope as
 * well). It trusts only the hub's function roles (IAM path /vecguard/ in the hub account) and grants, in its
 * own account, the EC2 reads of the inventory, the remediation registry's actions and the Security Hub import.
 */
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  ec2ReadStatement,
  HUB_ROLE_PATH,
  remediationStatements,
  securityHubStatements,
} from './permissions.ts';

export interface MemberStackProps extends StackProps {
  /**
   * The account vecguard's hub runs in. @default - this stack's own account (the hub manages itself)
   */
  readonly hubAccountId?: string;
  /** Must equal the hub's `memberRoleName`. @default 'vecguard-member' */
  readonly roleName?: string;
  /**
   * Required in `sts:ExternalId` when set. The hub's handlers do not send one today
   * (functions/handlers/deps.ts): set it only once they do. @default - none
   */
  readonly externalId?: string;
  /** The registry's `allPermissions()` (functions/adapters/actions/registry.ts). */
  readonly remediationPermissions: readonly string[];
}

export const DEFAULT_MEMBER_ROLE_NAME = 'vecguard-member';

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

export class MemberStack extends Stack {
  readonly role: iam.Role;

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
    if (props.externalId !== undefined && !EXTERNAL_ID.test(props.externalId)) {
      throw new Error('externalId must be 2–1224 of A–Z a–z 0–9 + = , . @ : / _ -');
    }
    const hubAccount = props.hubAccountId ?? this.account;

    this.role = new iam.Role(this, 'Role', {
      roleName,
      description: 'Assumed by vecguard (hub account) to audit and enforce VPC Encryption Controls here',
      assumedBy: new iam.AccountPrincipal(hubAccount).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${this.partition}:iam::${hubAccount}:role${HUB_ROLE_PATH}*` },
        ...(props.externalId === undefined ? {} : { StringEquals: { 'sts:ExternalId': props.externalId } }),
      }),
    });
    for (const statement of [
      ec2ReadStatement(),
      ...remediationStatements(this, props.remediationPermissions),
      ...securityHubStatements(this),
    ]) {
      this.role.addToPrincipalPolicy(statement);
    }
    const ack = (id: string, reason: string) => Validations.of(this.role).acknowledge({ id, reason });
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      "EC2 Describe*/Get* and CloudWatch Logs' log-delivery actions take no resource, and the VPCs, controls and instances acted on are found at run time; the actions are listed one by one (the remediation registry's).",
    );
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]',
      'iam:PassRole for the flow-log delivery role the policy names, only to vpc-flow-logs.amazonaws.com (iam:PassedToService).',
    );
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default]',
      "Findings are imported in the scope's Region, any Region the policy targets, only into this account's own product.",
    );
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default]',
      "Findings are read back in the scope's Region, any Region the policy targets, only from this account's hub.",
    );
    new CfnOutput(this, 'RoleArn', { value: this.role.roleArn });
  }
}
