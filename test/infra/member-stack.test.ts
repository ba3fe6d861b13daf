import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { grantedPermissions } from '../../functions/adapters/actions/registry.ts';
import { HubStack } from '../../infra/hub-stack.ts';
import { MemberStack, type MemberStackProps } from '../../infra/member-stack.ts';
import { EC2_READ_ACTIONS } from '../../infra/permissions.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect?: string };
type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };
type RoleProperties = {
  RoleName?: string;
  AssumeRolePolicyDocument: { Statement: (Statement & { Condition?: Record<string, unknown> })[] };
};

const HUB = '111111111111';
const MEMBER = '222222222222';

function synth(props: Partial<MemberStackProps> = {}): Template {
  const app = new App();
  return Template.fromStack(
    new MemberStack(app, 'Member', {
      remediationPermissions: grantedPermissions(),
      hubAccountId: HUB,
      ...props,
    }),
  );
}

/** A member stack deployed in the member account, in the hub's Region. */
const inMemberAccount = (props: Partial<MemberStackProps> = {}) =>
  synth({ env: { account: MEMBER, region: 'us-east-1' }, ...props });

const resourcesOf = (t: Template) => t.toJSON().Resources as Record<string, Resource>;

/** The role the hub assumes (the forwarding role has no name). */
function memberRoleId(t: Template): string {
  const [id] = Object.entries(t.findResources('AWS::IAM::Role')).find(
    ([, r]) => r.Properties.RoleName !== undefined,
  ) ?? [''];
  return id;
}

function statementsOf(t: Template, roleId: string): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function role(t: Template): RoleProperties {
  return resourcesOf(t)[memberRoleId(t)]?.Properties as RoleProperties;
}

function actions(t: Template): string[] {
  const all = statementsOf(t, memberRoleId(t)).flatMap((s) =>
    Array.isArray(s.Action) ? s.Action : [s.Action],
  );
  return [...new Set(all)].sort();
}

const rulesOf = (t: Template) => Object.values(t.findResources('AWS::Events::Rule'));

/** `arn:<partition>:events:<region>:<account>:event-bus/default`, as CloudFormation joins it. */
const busArn = (region: string, account: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:${region}:${account}:event-bus/default`]],
});

describe('member role', () => {
  it('is named as the hub expects and trusts only the hub account’s vecguard roles', () => {
    const r = role(synth());
    expect(r.RoleName).toBe('vecguard-member');
    expect(r.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: {
          AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] },
        },
        Condition: {
          ArnLike: {
            'aws:PrincipalArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:role/vecguard/*']],
            },
          },
          // An external id by default: what the hub sends when it is given none.
          StringEquals: { 'sts:ExternalId': 'vecguard-111111111111' },
        },
      },
    ]);
  });

  it('requires the external id when one is given', () => {
    const r = role(synth({ externalId: 'vecguard-7f3a' }));
    expect(r.AssumeRolePolicyDocument.Statement[0]?.Condition?.StringEquals).toEqual({
      'sts:ExternalId': 'vecguard-7f3a',
    });
  });

  it('grants the inventory reads, the registry’s actions and the Security Hub import, nothing else', () => {
    const expected = [
      ...new Set([
        ...EC2_READ_ACTIONS,
        ...grantedPermissions().filter((a) => a !== 'iam:PassRole'),
        'securityhub:BatchImportFindings',
        'securityhub:GetFindings',
      ]),
    ].sort();
    expect(actions(synth())).toEqual(expected);
    expect(actions(synth()).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('refuses a hub account that is not 12 digits, a bad role name, Region or external id, saying what to give', () => {
    expect(() => synth({ hubAccountId: '1234' })).toThrow(/give the hub's 12 digits/);
    expect(() => synth({ roleName: 'a/b' })).toThrow(/not an IAM role name/);
    expect(() => synth({ hubRegion: 'Virginia' })).toThrow(
      /hubRegion "Virginia" is not an AWS Region: give the hub stack's Region/,
    );
    expect(() => synth({ externalId: 'has space' })).toThrow(/externalId must be 2–1224 of/);
  });
});

describe('event forwarding to the hub', () => {
  /** The hub's own rules, synthesized (bundling skipped), so the comparison is with what the hub deploys. */
  let hubPatterns: unknown[];

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const hub = Template.fromStack(
      new HubStack(app, 'Hub', {
        remediationPermissions: grantedPermissions(),
        memberRoleName: 'vecguard-member',
      }),
    );
    hubPatterns = rulesOf(hub)
      .map((r) => r.Properties.EventPattern as { source?: string[] } | undefined)
      .filter((p) => p?.source?.includes('aws.ec2') || p?.source?.includes('aws.config'));
    expect(hubPatterns).toHaveLength(2);
  });

  it('matches exactly the events of the hub’s CloudTrail and Config rules, and sends them to the hub’s default bus', () => {
    const t = inMemberAccount();
    const rules = rulesOf(t);
    const sorted = (patterns: unknown[]) => patterns.map((p) => JSON.stringify(p)).sort();
    expect(sorted(rules.map((r) => r.Properties.EventPattern))).toEqual(sorted(hubPatterns));
    const [queue] = Object.keys(t.findResources('AWS::SQS::Queue'));
    const forwardingRole = Object.keys(t.findResources('AWS::IAM::Role')).find(
      (id) => id !== memberRoleId(t),
    );
    for (const rule of rules) {
      expect(rule.Properties.EventBusName).toBeUndefined(); // the member account's default bus
      expect(rule.Properties.Targets).toEqual([
        {
          Id: expect.any(String),
          Arn: busArn('us-east-1', HUB),
          RoleArn: { 'Fn::GetAtt': [forwardingRole, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        },
      ]);
    }
  });

  it('forwards with a role EventBridge alone assumes, allowed only events:PutEvents on the hub’s bus', () => {
    const t = inMemberAccount();
    const forwardingRole = Object.keys(t.findResources('AWS::IAM::Role')).find(
      (id) => id !== memberRoleId(t),
    );
    const r = resourcesOf(t)[forwardingRole ?? '']?.Properties as RoleProperties;
    expect(r.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } },
    ]);
    expect(statementsOf(t, forwardingRole ?? '')).toEqual([
      { Action: 'events:PutEvents', Effect: 'Allow', Resource: busArn('us-east-1', HUB) },
    ]);
  });

  it('keeps what the hub’s bus does not take in an encrypted queue that refuses clients without TLS', () => {
    const t = inMemberAccount();
    expect(Object.keys(t.findResources('AWS::SQS::Queue'))).toHaveLength(1);
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    const [policy] = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
    const statements = policy?.Properties.PolicyDocument.Statement as Statement[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(t.toJSON().Outputs.ForwardingDeadLetterQueueUrl).toBeDefined();
  });

  it('targets the hub’s Region when the hub runs in another one', () => {
    const t = synth({ env: { account: MEMBER, region: 'eu-west-1' }, hubRegion: 'us-east-1' });
    for (const rule of rulesOf(t)) {
      expect((rule.Properties.Targets as { Arn: unknown }[])[0]?.Arn).toEqual(busArn('us-east-1', HUB));
    }
  });

  it('forwards nothing in the hub’s own account and Region, whose bus the hub’s rules already watch', () => {
    expect(rulesOf(synth({ env: { account: HUB, region: 'us-east-1' } }))).toEqual([]);
    expect(rulesOf(synth({ hubAccountId: undefined }))).toEqual([]);
    expect(
      rulesOf(synth({ env: { account: HUB, region: 'eu-west-1' }, hubRegion: 'us-east-1' })),
    ).toHaveLength(2);
  });

  it('leaves it to CloudFormation when the stack’s account is unknown at synth: nothing is forwarded in the hub account', () => {
    const t = synth();
    expect(t.toJSON().Conditions).toEqual({
      OutsideHubAccountAndRegion: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, HUB] }] },
    });
    const conditional = Object.values(resourcesOf(t)).filter(
      (r) => r.Condition === 'OutsideHubAccountAndRegion',
    );
    expect(conditional.map((r) => r.Type).sort()).toEqual([
      'AWS::Events::Rule',
      'AWS::Events::Rule',
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy',
    ]);
    // The member role itself is unconditional.
    expect(resourcesOf(t)[memberRoleId(t)]?.Condition).toBeUndefined();
  });
});
