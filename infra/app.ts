/**
 * The vecguard CDK app: `npx cdk synth` / `npx cdk deploy` (docs/deploy.md). Settings come from context
 * (`-c name=value` or cdk.json):
 *
 * - `policyFile`: the policy bundled with every function, relative to the repository root
 *   (default examples/vecguard.policy.yaml);
 * - `memberRoleName`: the role executions assume in each scope's account (default vecguard-member; an empty
 *   value makes the hub act in its own account with its functions' roles, and skips the member stack);
 * - `schedule`: the sweep's EventBridge schedule (default rate(1 day));
 * - `dryRun`: true or false, overriding the policy's dryRun (default: the policy decides);
 * - `memberExternalId`: the external id the member role requires and the hub's functions send when they
 *   assume it; one setting for both stacks (default: none);
 * - `memberAccountIds` (comma-separated, or a list in cdk.json), `organizationId`: who may forward events to
 *   the hub's default event bus (default: no other account);
 * - `hubAccountId`, `hubRegion`: for the member stack, where the hub runs: its role trusts that account and
 *   its events go to that account's bus in that Region (default: this account and Region: no forwarding).
 *
 * The remediation registry's IAM actions are read here, the app being the one place that composes the
 * stacks: the constructs take them as a prop and never import adapter code.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { grantedPermissions } from '../functions/adapters/actions/registry.ts';
import { DEFAULT_POLICY_FILE, HubStack } from './hub-stack.ts';
import { DEFAULT_MEMBER_ROLE_NAME, MemberStack } from './member-stack.ts';

const app = new App();

function context(name: string): string | undefined {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null) return undefined;
  return String(value).trim();
}

function booleanContext(name: string): boolean | undefined {
  const value = context(name);
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`context ${name} must be true or false, got "${value}" (-c ${name}=true)`);
}

const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const memberRoleName = context('memberRoleName') ?? DEFAULT_MEMBER_ROLE_NAME;
const remediationPermissions = grantedPermissions();
const dryRun = booleanContext('dryRun');
const schedule = context('schedule');
const hubAccountId = context('hubAccountId');
const hubRegion = context('hubRegion');
const memberExternalId = context('memberExternalId');
const memberAccountIds = (context('memberAccountIds') ?? '').split(/[\s,]+/).filter((id) => id !== '');
const organizationId = context('organizationId');
if (context('externalId') !== undefined) {
  // The member stack's former setting: ignoring it would drop the role's sts:ExternalId condition unseen.
  throw new Error(
    'context externalId is now memberExternalId, which sets both the member role and the hub: -c memberExternalId=…',
  );
}

new HubStack(app, 'VecguardHub', {
  env,
  description: 'vecguard hub: keeps every VPC encrypting traffic in transit (VPC Encryption Controls)',
  policyFile: context('policyFile') || DEFAULT_POLICY_FILE,
  remediationPermissions,
  ...(memberRoleName === '' ? {} : { memberRoleName }),
  ...(memberExternalId ? { memberExternalId } : {}),
  ...(memberAccountIds.length > 0 ? { memberAccountIds } : {}),
  ...(organizationId ? { organizationId } : {}),
  ...(schedule ? { schedule } : {}),
  ...(dryRun === undefined ? {} : { dryRun }),
});

if (memberRoleName !== '') {
  new MemberStack(app, 'VecguardMember', {
    env,
    description: 'vecguard member role: what the vecguard hub may do in this account',
    roleName: memberRoleName,
    remediationPermissions,
    ...(hubAccountId ? { hubAccountId } : {}),
    ...(hubRegion ? { hubRegion } : {}),
    ...(memberExternalId ? { externalId: memberExternalId } : {}),
    ...(organizationId ? { organizationId } : {}),
    ...(context('flowLogDeliveryRoleArn')
      ? { flowLogDeliveryRoleArn: context('flowLogDeliveryRoleArn') }
      : {}),
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
