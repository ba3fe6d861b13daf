/**
 * The IAM actions vecguard's functions need, in one place, so the hub's function roles and the member role
 * grant the same things. The remediation actions are not listed here: they come from the action registry
 * (`allPermissions()` in functions/adapters/actions/registry.ts), handed in by the app, so a new action unit
 * is granted by declaring its permissions, nowhere else.
 */
import { Aws, type Stack, Validations } from 'aws-cdk-lib';
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
 * The resource types each mutating action of the registry acts on (the Service Authorization Reference for
 * Amazon EC2, docs/design.md §2): granted on this account's ARNs of those types, never on `*`. An EC2 action
 * that is neither here nor a read (`Describe*`/`Get*`) fails synth: declare its resources first.
 */
export const EC2_ACTION_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  'ec2:CreateVpcEncryptionControl': ['vpc', 'vpc-encryption-control'],
  'ec2:ModifyVpcEncryptionControl': ['vpc-encryption-control'],
  'ec2:DeleteVpcEncryptionControl': ['vpc-encryption-control'],
  'ec2:StopInstances': ['instance'],
  'ec2:StartInstances': ['instance'],
  'ec2:ModifyInstanceAttribute': ['instance'],
  'ec2:ModifyTransitGateway': ['transit-gateway'],
  'ec2:CreateFlowLogs': ['vpc', 'vpc-flow-log'],
  'ec2:DeleteFlowLogs': ['vpc-flow-log'],
};

/** Actions that take no resource (Service Authorization Reference: no resource type), granted on `*`. */
const RESOURCELESS = /^(ec2:(Describe|Get)[A-Za-z]+|logs:(Create|Delete)LogDelivery)$/;

export interface RemediationOptions {
  /**
   * The one role create-flow-log passes to VPC Flow Logs (the policy's `flowLogs.deliverLogsPermissionArn`).
   * @default - none: `iam:PassRole` is not granted (S3 delivery passes no role)
   */
  readonly flowLogDeliveryRoleArn?: string;
}

/**
 * The statements that grant the registry's permissions in the account of `scope`:
 * - reads (EC2's Describe and Get actions) and CloudWatch Logs' log delivery on `*`: they take no resource;
 * - each mutating EC2 action on this account's ARNs of the resource types it acts on (any Region: a scope
 *   names its Region at run time), never on `*`;
 * - `iam:PassRole` only for the flow-log delivery role, and only to VPC Flow Logs (`iam:PassedToService`).
 */
export function remediationStatements(
  scope: Stack,
  permissions: readonly string[],
  options: RemediationOptions = {},
): iam.PolicyStatement[] {
  checkRemediationPermissions(permissions);
  const unique = [...new Set(permissions)].sort();
  const reads = unique.filter((p) => RESOURCELESS.test(p));
  const mutating = unique.filter((p) => p !== 'iam:PassRole' && !RESOURCELESS.test(p));
  const undeclared = mutating.filter((p) => EC2_ACTION_RESOURCES[p] === undefined);
  if (undeclared.length > 0) {
    throw new Error(
      `no resource types known for ${undeclared.join(', ')}: add them to EC2_ACTION_RESOURCES in infra/permissions.ts (from the Service Authorization Reference) so they are not granted on *`,
    );
  }
  const statements: iam.PolicyStatement[] = [];
  if (reads.length > 0) {
    statements.push(new iam.PolicyStatement({ sid: 'RemediationReads', actions: reads, resources: ['*'] }));
  }
  const arn = (type: string) =>
    scope.formatArn({ service: 'ec2', region: '*', resource: type, resourceName: '*' });
  const byResources = new Map<string, string[]>();
  for (const action of mutating) {
    const key = (EC2_ACTION_RESOURCES[action] ?? []).join(',');
    byResources.set(key, [...(byResources.get(key) ?? []), action]);
  }
  for (const [key, actions] of byResources) {
    const types = key.split(',');
    statements.push(
      new iam.PolicyStatement({
        sid: `Remediation${types.map((t) => t.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())).join('')}`,
        actions,
        resources: types.map(arn),
      }),
    );
  }
  if (unique.includes('iam:PassRole') && options.flowLogDeliveryRoleArn !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'PassFlowLogDeliveryRole',
        actions: ['iam:PassRole'],
        resources: [options.flowLogDeliveryRoleArn],
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

/**
 * `sts:AssumeRole` on the member role: in the organisation `organizationId` (`aws:ResourceOrgID`: the role's
 * account must belong to it), else exactly in `accounts` (the hub's own and the configured member accounts).
 * Never on any account without a condition.
 */
export function assumeMemberRoleStatement(
  roleName: string,
  where: { readonly accounts: readonly string[]; readonly organizationId?: string },
): iam.PolicyStatement {
  if (where.organizationId !== undefined) {
    return new iam.PolicyStatement({
      sid: 'AssumeMemberRole',
      actions: ['sts:AssumeRole'],
      resources: [`arn:${Aws.PARTITION}:iam::*:role/${roleName}`],
      conditions: { StringEquals: { 'aws:ResourceOrgID': where.organizationId } },
    });
  }
  return new iam.PolicyStatement({
    sid: 'AssumeMemberRole',
    actions: ['sts:AssumeRole'],
    resources: [...new Set(where.accounts)].map((a) => `arn:${Aws.PARTITION}:iam::${a}:role/${roleName}`),
  });
}

/**
 * The external id the member role requires and the hub sends when none is configured: `vecguard-<hub account
 * id>`, which both stacks know without sharing a secret (the hub's account is the member stack's
 * `hubAccountId`). It stops another party's deployment of vecguard (a confused deputy) from being pointed at
 * this role; set `memberExternalId` (both stacks) to use your own.
 */
export function defaultExternalId(hubAccount: string): string {
  return `vecguard-${hubAccount}`;
}

const ORG_ID = /^o-[a-z0-9]{10,32}$/;

/** Throws, naming the setting, when `organizationId` is not an AWS Organizations id. */
export function checkOrganizationId(setting: string, organizationId: string): void {
  if (!ORG_ID.test(organizationId)) {
    throw new Error(
      `${setting} "${organizationId}" is not an AWS Organizations id (o- and 10–32 of a–z 0–9)`,
    );
  }
}

/** The partition-key prefixes of the state table (functions/adapters/store/table.ts `keys`, docs/loop.md). */
export const KEY_PREFIXES = {
  /** Blob chunks, run counters (`RUN#<runId>#…`). */
  run: 'RUN#',
  history: 'HISTORY#',
  approval: 'APPROVAL#',
  audit: 'AUDIT#',
  /** Per-scope leases (`SCOPE#<account>#<region>`). */
  scope: 'SCOPE#',
  /** Per-sweep counters (`SWEEP#<sweepId>`). */
  sweep: 'SWEEP#',
} as const;

export type KeyPrefix = (typeof KEY_PREFIXES)[keyof typeof KEY_PREFIXES];

/** What one role may do in the state table, by partition-key prefix. */
export interface TableAccess {
  /** GetItem, Query, BatchGetItem on items of these prefixes. */
  readonly read?: readonly KeyPrefix[];
  /** PutItem, UpdateItem, DeleteItem, BatchWriteItem on items of these prefixes (never `AUDIT#`). */
  readonly write?: readonly KeyPrefix[];
  /** UpdateItem only, on items of these prefixes: a role that changes existing items and creates none. */
  readonly update?: readonly KeyPrefix[];
  /** PutItem only on `AUDIT#` items: appends to the audit log (the code always puts with attribute_not_exists). */
  readonly appendsAudit?: true;
  /** Scan (names no key, so no `dynamodb:LeadingKeys`): reads the whole table. Only approval listings need it. */
  readonly scan?: true;
}

const READ_ITEM_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const WRITE_ITEM_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];

/**
 * The statements of `access` on `tableArn`: every item action bound by `dynamodb:LeadingKeys` to the
 * prefixes it needs (and the key required present, `Null`), and an explicit Deny of changing or deleting an
 * audit entry (UpdateItem, DeleteItem, BatchWriteItem on `AUDIT#…`; PutItem too unless the role appends), so
 * the audit log is append-only by IAM whatever else a role is given.
 */
export function tableStatements(tableArn: string, access: TableAccess): iam.PolicyStatement[] {
  if (access.write?.includes(KEY_PREFIXES.audit) || access.update?.includes(KEY_PREFIXES.audit)) {
    throw new Error('no role may write AUDIT# items: give it appendsAudit (PutItem only) instead');
  }
  const bound = (prefixes: readonly string[]) => ({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...new Set(prefixes)].sort().map((p) => `${p}*`) },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  });
  const statements: iam.PolicyStatement[] = [];
  const allow = (sid: string, actions: string[], prefixes: readonly string[] | undefined) => {
    if ((prefixes?.length ?? 0) === 0) return;
    statements.push(
      new iam.PolicyStatement({ sid, actions, resources: [tableArn], conditions: bound(prefixes ?? []) }),
    );
  };
  allow('TableRead', READ_ITEM_ACTIONS, access.read);
  allow('TableWrite', WRITE_ITEM_ACTIONS, access.write);
  allow('TableUpdate', ['dynamodb:UpdateItem'], access.update);
  allow('AuditAppend', ['dynamodb:PutItem'], access.appendsAudit ? [KEY_PREFIXES.audit] : undefined);
  if (access.scan) {
    statements.push(
      new iam.PolicyStatement({ sid: 'TableScan', actions: ['dynamodb:Scan'], resources: [tableArn] }),
    );
  }
  statements.push(
    new iam.PolicyStatement({
      sid: 'AuditAppendOnly',
      effect: iam.Effect.DENY,
      actions: [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:UpdateItem',
        ...(access.appendsAudit ? [] : ['dynamodb:PutItem']),
      ],
      resources: [tableArn],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${KEY_PREFIXES.audit}*`] } },
    }),
  );
  return statements;
}

/** The cdk-nag acknowledgements of `remediationStatements`' account-scoped ARNs (any Region, any id). */
export function acknowledgeRemediationArns(role: iam.IRole): void {
  const types = [...new Set(Object.values(EC2_ACTION_RESOURCES).flat())].sort();
  for (const type of types) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:${type}/*]`,
      reason: `Mutating EC2 actions on this account's ${type} resources only: which ones is decided at run time by the audit, in the Region the scope names.`,
    });
  }
}
