/**
 * cdk-nag's AwsSolutions pack over both stacks: every finding is either fixed or acknowledged, with a
 * reason, by its granular id, next to the construct that causes it.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { grantedPermissions } from '../../functions/adapters/actions/registry.ts';
import { HubStack } from '../../infra/hub-stack.ts';
import { MemberStack } from '../../infra/member-stack.ts';

function nagged(build: (app: App) => void): () => void {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return () => app.synth();
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the hub and member stacks', { timeout: 60_000 }, () => {
    const synth = nagged((app) => {
      // Multi-account: the hub admits member events, the member (account unknown at synth) forwards them.
      new HubStack(app, 'Hub', {
        remediationPermissions: grantedPermissions(),
        memberRoleName: 'vecguard-member',
        memberExternalId: 'vecguard-7f3a',
        memberAccountIds: ['222222222222'],
        organizationId: 'o-a1b2c3d4e5',
      });
      new MemberStack(app, 'Member', {
        remediationPermissions: grantedPermissions(),
        hubAccountId: '111111111111',
        externalId: 'vecguard-7f3a',
      });
    });
    expect(synth).not.toThrow();
  });

  it('finds nothing unacknowledged in a hub whose policy targets OUs (it reads Organizations)', {
    timeout: 60_000,
  }, () => {
    const synth = nagged((app) => {
      new HubStack(app, 'Hub', {
        remediationPermissions: grantedPermissions(),
        memberRoleName: 'vecguard-member',
        policyFile: 'test/fixtures/policies/ou-targets.policy.yaml',
      });
    });
    expect(synth).not.toThrow();
  });

  it('finds nothing unacknowledged with accounts listed (no organisation) and a flow-log delivery role', {
    timeout: 60_000,
  }, () => {
    const synth = nagged((app) => {
      new HubStack(app, 'Hub', {
        remediationPermissions: grantedPermissions(),
        memberRoleName: 'vecguard-member',
        memberAccountIds: ['222222222222'],
        policyFile: 'test/infra/fixtures/flow-logs-to-cloudwatch.policy.yaml',
      });
      new MemberStack(app, 'Member', {
        remediationPermissions: grantedPermissions(),
        hubAccountId: '111111111111',
        organizationId: 'o-a1b2c3d4e5',
        flowLogDeliveryRoleArn: 'arn:aws:iam::222222222222:role/flow-logs-delivery',
      });
    });
    expect(synth).not.toThrow();
  });

  it('does fail synth on an unacknowledged finding (the check above can fail)', { timeout: 60_000 }, () => {
    const synth = nagged((app) => {
      const stack = new Stack(app, 'Loose');
      new iam.Role(stack, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      }).addToPolicy(new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] }));
    });
    expect(synth).toThrow();
  });
});
