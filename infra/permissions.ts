/**
 * The IAM actions vecguard's functions need, in one place, so the hub's function roles and the member role
 * grant the same things. The remediation actions are not listed here: they come from the action registry
 * (`allPermissions()` in functions/adapters/actions/registry.ts), handed in by the app, so a new action unit
 * is granted by declaring its permissions, nowhere else.
 */
import { Aws, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * EC2 reads of the inventory (functions/adapters/inventory.ts, also the final pass's FinalInventory) and of
 * PollTransitions. None of them supports resource-level permissions, so they are granted on `*`.
 * test/infra/permissions.test.ts fails when a handler sends a command that is not here.
 */
export const EC2_READ_ACTIONS = [
  'ec2:DescribeAccountVpcEncryptionControl',
  'ec2:DescribeEgressOnlyInternetGateways',
  'ec2:DescribeFlowLogs',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstances',
  'ec2:DescribeInternetGateways',
  'ec2:DescribeNatGateways',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeTransitGatewayAttachments',
  'ec2:DescribeTransitGateways',
  'ec2:DescribeVpcEncryptionControls',
  'ec2:DescribeVpcPeeringConnections',
  'ec2:DescribeVpcs',
  'ec2:DescribeVpnGateways',
  'ec2:GetVpcResourcesBlockingEncryptionEnforcement',
] as const;

/**
 * AWS Organizations reads of on-event (functions/adapters/organizations.ts), granted only when the policy
 * targets OUs: the sweep walks the tree, an event climbs its account's chain. Organizations answers them only
 * to the management account or a delegated administrator, whatever IAM allows.
 * test/infra/contracts.test.ts fails when the adapter sends a command that is not here.
 */
export const ORGANIZATIONS_READ_ACTIONS = [
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListParents',
  'organizations:ListRoots',
] as const;

/** Findings are imported into, and read back from, the scope's own account (functions/adapters/securityhub-publisher.ts). */
export const SECURITY_HUB_ACTIONS = ['securityhub:BatchImportFindings', 'securityhub:GetFindings'] as const;

/**
 * Hub roles live under this IAM path, so the member role can trust exactly them (`aws:PrincipalArn`), not
 * every principal of the hub account.
 */
export const HUB_ROLE_PATH = '/vecguard/';

/** The service a flow-log delivery role is passed to (create-flow-log's `iam:PassRole`). */
const FLOW_LOGS_SERVICE = 'vpc-flow-logs.amazonaws.com';

const IAM_ACTION = /^[a-z0-9-]+:[A-Za-z0-9]+$/;

/**
 * Checks the registry's permissions before they are granted: non-empty, one exact action each (no `*`).
 * Throws with what to fix in the registry.
 */
export function checkRemediationPermissions(permissions: readonly string[]): void {
  if (permissions.length === 0) {
    throw new Error(
      'remediationPermissions is empty: pass allPermissions() from functions/adapters/actions/registry.ts (the app does)',
    );
  }
  const bad = permissions.filter((p) => !IAM_ACTION.test(p));
  if (bad.length > 0) {
    throw new Error(
      `remediationPermissions must be exact IAM actions (service:Action, no wildcards); fix the action unit that declares ${bad.map((b) => `"${b}"`).join(', ')}`,
    );
  }
}

/**
 * The statements that grant the registry's permissions in the account of `scope`:
 * - `iam:PassRole` only for roles passed to VPC Flow Logs (create-flow-log's CloudWatch Logs delivery role);
 * - everything else on `*`: EC2's Describe* and CloudWatch Logs' log-delivery actions take no resource, and
 *   the VPCs, controls and instances acted on are found at run time anywhere in the scope.
 */
export function remediationStatements(scope: Stack, permissions: readonly string[]): iam.PolicyStatement[] {
  checkRemediationPermissions(permissions);
  const unique = [...new Set(permissions)].sort();
  const passRole = unique.filter((p) => p === 'iam:PassRole');
  const rest = unique.filter((p) => p !== 'iam:PassRole');
  const statements: iam.PolicyStatement[] = [];
  if (rest.length > 0) {
    statements.push(new iam.PolicyStatement({ sid: 'Remediation', actions: rest, resources: ['*'] }));
  }
  if (passRole.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'PassFlowLogDeliveryRole',
        actions: passRole,
        resources: [scope.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
        conditions: { StringEquals: { 'iam:PassedToService': FLOW_LOGS_SERVICE } },
      }),
    );
  }
  return statements;
}

/** EC2 reads on `*` (no resource-level permissions for Describe*). */
export function ec2ReadStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'Ec2Read', actions: [...EC2_READ_ACTIONS], resources: ['*'] });
}

/**
 * Security Hub import and read in the account of `scope`, any Region (a scope names its Region). The import is
 * authorised on the account's own product ARN, the read on its hub.
 */
export function securityHubStatements(scope: Stack): iam.PolicyStatement[] {
  const account = scope.account;
  return [
    new iam.PolicyStatement({
      sid: 'SecurityHubImport',
      actions: ['securityhub:BatchImportFindings'],
      resources: [
        scope.formatArn({
          service: 'securityhub',
          region: '*',
          resource: 'product',
          resourceName: `${account}/default`,
        }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'SecurityHubRead',
      actions: ['securityhub:GetFindings'],
      resources: [
        scope.formatArn({ service: 'securityhub', region: '*', resource: 'hub', resourceName: 'default' }),
      ],
    }),
  ];
}

/** STS's constraint on `ExternalId` (AssumeRole), which the member role's `sts:ExternalId` condition compares. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** Throws, naming the setting, when `externalId` is not one STS would send. */
export function checkExternalId(setting: string, externalId: string): void {
  if (!EXTERNAL_ID.test(externalId)) {
    throw new Error(
      `${setting} must be 2–1224 of A–Z a–z 0–9 + = , . @ : / _ - (what STS accepts as ExternalId)`,
    );
  }
}

/** The ARN pattern of the member role in any account. */
export function memberRoleArnPattern(roleName: string): string {
  return `arn:${Aws.PARTITION}:iam::*:role/${roleName}`;
}
