/**
 * Issue 9, problem 9: every grant of the hub and member stacks no wider than a unit needs, asserted on the
 * synthesized templates (bundling skipped). Each check names the statement it narrows; the negative ones scan
 * every inline policy of both stacks.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { allPermissions, grantedPermissions } from '../../functions/adapters/actions/registry.ts';
import { HubStack } from '../../infra/hub-stack.ts';
import { MemberStack } from '../../infra/member-stack.ts';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resource = { Type: string; Properties: Record<string, unknown> };

const HUB = '111111111111';
const MEMBER = '222222222222';
const ORG = 'o-a1b2c3d4e5';
const DELIVERY_ROLE = 'arn:aws:iam::111111111111:role/flow-logs-delivery';
const POLICY = 'test/infra/fixtures/flow-logs-to-cloudwatch.policy.yaml';

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const MUTATING_EC2 = /^ec2:(?!Describe|Get)/;

function hub(props: { organizationId?: string } = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(
    new HubStack(app, 'Hub', {
      env: { account: HUB, region: 'us-east-1' },
      // Everything any unit declares: the stacks must still not widen it.
      remediationPermissions: allPermissions(),
      memberRoleName: 'vecguard-member',
      memberAccountIds: [MEMBER],
      policyFile: POLICY,
      ...props,
    }),
  );
}

function member(props: { organizationId?: string; externalId?: string } = {}): Template {
  const app = new App();
  return Template.fromStack(
    new MemberStack(app, 'Member', {
      env: { account: MEMBER, region: 'us-east-1' },
      remediationPermissions: allPermissions(),
      hubAccountId: HUB,
      flowLogDeliveryRoleArn: DELIVERY_ROLE,
      ...props,
    }),
  );
}

/** Every statement of every inline policy, with the role it is attached to. */
function statements(t: Template): { role: string; s: Statement }[] {
  return Object.values(t.toJSON().Resources as Record<string, Resource>)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) =>
      (r.Properties.Roles as { Ref: string }[]).flatMap((ref) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((s) => ({
          role: ref.Ref,
          s,
        })),
      ),
    );
}

/** The role of the function whose description is `vecguard: <module>`. */
function roleOf(t: Template, module: string): string {
  const fn = Object.values(t.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Description === `vecguard: ${module}`,
  );
  const role = fn?.Properties.Role?.['Fn::GetAtt']?.[0] as string | undefined;
  if (!role) throw new Error(`no role for ${module}`);
  return role;
}

let h: Template;
let m: Template;
beforeAll(() => {
  h = hub();
  m = member();
});

describe('EC2: mutating actions on this account’s ARNs, none no unit needs', () => {
  it('no mutating EC2 action is allowed on "*", in the hub or the member role', () => {
    for (const t of [h, m]) {
      const wide = statements(t).filter(
        ({ s }) =>
          s.Effect === 'Allow' &&
          actionsOf(s).some((a) => MUTATING_EC2.test(a)) &&
          resourcesOf(s).includes('*'),
      );
      expect(wide.map(({ s }) => s.Sid)).toEqual([]);
    }
  });

  it.each([
    ['ec2:ModifyVpcEncryptionControl', ['vpc-encryption-control']],
    ['ec2:CreateVpcEncryptionControl', ['vpc', 'vpc-encryption-control']],
    ['ec2:StopInstances', ['instance']],
    ['ec2:ModifyInstanceAttribute', ['instance']],
    ['ec2:ModifyTransitGateway', ['transit-gateway']],
    ['ec2:CreateFlowLogs', ['vpc', 'vpc-flow-log']],
  ])('%s is granted on arn:<partition>:ec2:*:<account>:%s/*', (action, types) => {
    for (const [t, account] of [
      [m, MEMBER],
      [h, HUB],
    ] as const) {
      const granting = statements(t).filter(({ s }) => s.Effect === 'Allow' && actionsOf(s).includes(action));
      expect(granting.length, account).toBeGreaterThan(0);
      for (const { s } of granting) {
        expect(resourcesOf(s), `${account} ${action}`).toEqual(
          types.map((type) => ({
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:*:${account}:${type}/*`]],
          })),
        );
      }
    }
  });

  it('DeleteVpcEncryptionControl (only an undo calls it, and nothing deployed undoes) is granted to nobody', () => {
    expect(grantedPermissions()).not.toContain('ec2:DeleteVpcEncryptionControl');
    expect(grantedPermissions()).not.toContain('ec2:DeleteFlowLogs');
    expect(allPermissions()).toContain('ec2:DeleteVpcEncryptionControl');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const t = Template.fromStack(
      new HubStack(app, 'Hub', {
        remediationPermissions: grantedPermissions(),
        memberRoleName: 'vecguard-member',
      }),
    );
    const m2 = Template.fromStack(
      new MemberStack(new App(), 'Member', {
        remediationPermissions: grantedPermissions(),
        hubAccountId: HUB,
      }),
    );
    for (const tpl of [t, m2]) {
      expect(JSON.stringify(tpl.findResources('AWS::IAM::Policy'))).not.toContain(
        'DeleteVpcEncryptionControl',
      );
    }
  });
});

describe('iam:PassRole: only the flow-log delivery role, only to VPC Flow Logs', () => {
  it('no PassRole on role/* anywhere', () => {
    for (const t of [h, m]) {
      const wide = statements(t).filter(
        ({ s }) =>
          actionsOf(s).includes('iam:PassRole') && JSON.stringify(s.Resource).match(/role\/\*|"\*"/) !== null,
      );
      expect(wide).toEqual([]);
    }
  });

  it('Apply and the member role pass exactly the policy’s delivery role, with iam:PassedToService', () => {
    const expected = {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: DELIVERY_ROLE,
      Condition: { StringEquals: { 'iam:PassedToService': 'vpc-flow-logs.amazonaws.com' } },
    };
    for (const [t, role] of [
      [h, roleOf(h, 'apply')],
      [m, ''],
    ] as const) {
      const pass = statements(t).filter(
        ({ role: r, s }) => (role === '' || r === role) && actionsOf(s).includes('iam:PassRole'),
      );
      expect(pass.map(({ s }) => s)).toEqual([expect.objectContaining(expected)]);
    }
  });
});

describe('sts:AssumeRole: the configured accounts or the organisation, never any account', () => {
  it('without an organisation id: the member role in the hub’s account and the member accounts, listed', () => {
    const assume = statements(h).filter(({ s }) => actionsOf(s).includes('sts:AssumeRole'));
    // Inventory, PublishFindings, Apply, PollTransitions, and Report/FailureReport (reading back open intents).
    expect(assume.length).toBe(6);
    for (const { s } of assume) {
      expect(JSON.stringify(s.Resource)).not.toContain(':iam::*:');
      expect(s.Resource).toEqual([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${HUB}:role/vecguard-member`]] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MEMBER}:role/vecguard-member`]] },
      ]);
    }
  });

  it('with an organisation id: any account only under aws:ResourceOrgID', () => {
    const assume = statements(hub({ organizationId: ORG })).filter(({ s }) =>
      actionsOf(s).includes('sts:AssumeRole'),
    );
    expect(assume.length).toBe(6);
    for (const { s } of assume) {
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': ORG } });
    }
  });
});

describe('trust policies bound to exact ARNs', () => {
  it('the state machine role trusts Step Functions only for this state machine, in this account', () => {
    h.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'states.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': HUB },
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      `:states:us-east-1:${HUB}:stateMachine:vecguard-enforcement-loop`,
                    ],
                  ],
                },
              },
            },
          }),
        ],
      },
    });
    const machine = Object.values(h.findResources('AWS::StepFunctions::StateMachine'))[0];
    const roleId = machine?.Properties.RoleArn?.['Fn::GetAtt']?.[0] as string;
    const trust = h.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Condition.ArnEquals['aws:SourceArn']).toBeDefined();
  });

  it('the member role requires an external id by default, vecguard-<hub account>', () => {
    m.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'vecguard-member',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: Match.objectLike({ StringEquals: { 'sts:ExternalId': `vecguard-${HUB}` } }),
          }),
        ],
      },
    });
  });

  it('the member role requires aws:PrincipalOrgID when given the organisation', () => {
    member({ organizationId: ORG, externalId: 'vecguard-7f3a' }).hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'vecguard-member',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: Match.objectLike({
              StringEquals: { 'sts:ExternalId': 'vecguard-7f3a', 'aws:PrincipalOrgID': ORG },
            }),
          }),
        ],
      },
    });
  });

  it('the hub sends the same default external id to the member role', () => {
    const fn = Object.values(h.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.Description === 'vecguard: apply',
    );
    expect(fn?.Properties.Environment.Variables.VECGUARD_MEMBER_EXTERNAL_ID).toBe(`vecguard-${HUB}`);
  });
});

describe('state table: per role by dynamodb:LeadingKeys; the audit log append-only', () => {
  const ITEM = /^dynamodb:(GetItem|BatchGetItem|Query|PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/;
  const tableStatements = (t: Template) =>
    statements(t).filter(({ s }) => actionsOf(s).some((a) => ITEM.test(a)));

  it('every item grant carries dynamodb:LeadingKeys prefixes (and requires the key present)', () => {
    const allows = tableStatements(h).filter(({ s }) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(10);
    for (const { role, s } of allows) {
      const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
      expect(keys, `${role} ${s.Sid}`).toEqual(
        expect.arrayContaining([expect.stringMatching(/^[A-Z]+#\*$/)]),
      );
      expect(s.Condition?.Null, `${role} ${s.Sid}`).toEqual({ 'dynamodb:LeadingKeys': 'false' });
    }
  });

  it('every role with table access is denied UpdateItem/DeleteItem/BatchWriteItem on AUDIT# items', () => {
    const roles = new Set(tableStatements(h).map(({ role }) => role));
    expect(roles.size).toBeGreaterThanOrEqual(11);
    for (const role of roles) {
      const deny = statements(h).find(
        ({ role: r, s }) =>
          r === role &&
          s.Effect === 'Deny' &&
          JSON.stringify(s.Condition?.['ForAnyValue:StringLike']) ===
            JSON.stringify({ 'dynamodb:LeadingKeys': ['AUDIT#*'] }),
      );
      expect(deny, role).toBeDefined();
      expect(actionsOf(deny?.s as Statement)).toEqual(
        expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
      );
    }
  });

  it('only Apply, PollTransitions, Report, FailureReport and Inventory (closing intents) may put AUDIT# items, and PutItem only', () => {
    const appenders = ['apply', 'poll-transitions', 'report', 'failure-report', 'inventory'].map((mod) =>
      roleOf(h, mod),
    );
    for (const { role, s } of tableStatements(h)) {
      if (s.Effect !== 'Allow') continue;
      const keys = (s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []) as string[];
      if (!keys.includes('AUDIT#*')) continue;
      const writes = actionsOf(s).filter((a) => /Put|Update|Delete|BatchWrite/.test(a));
      if (writes.length === 0) continue;
      expect(appenders, role).toContain(role);
      expect(writes, role).toEqual(['dynamodb:PutItem']);
    }
    for (const role of appenders) {
      expect(
        tableStatements(h).some(
          ({ role: r, s }) =>
            r === role &&
            s.Effect === 'Allow' &&
            actionsOf(s).includes('dynamodb:PutItem') &&
            JSON.stringify(s.Condition).includes('AUDIT#*'),
        ),
        role,
      ).toBe(true);
    }
  });

  it.each([
    ['inventory', ['AUDIT#*', 'RUN#*'], ['RUN#*']],
    ['audit', ['HISTORY#*', 'RUN#*'], ['HISTORY#*', 'RUN#*']],
    ['publish-findings', ['RUN#*'], []],
    ['load-page', ['RUN#*'], []],
    ['request-approval', ['APPROVAL#*', 'RUN#*'], ['APPROVAL#*']],
    ['record-rejection', ['APPROVAL#*'], ['APPROVAL#*']],
    // The run and sweep change counters: Plan reads what the caps leave, Apply reserves.
    ['plan', ['APPROVAL#*', 'RUN#*', 'SWEEP#*'], ['RUN#*']],
    ['apply', ['APPROVAL#*', 'AUDIT#*', 'RUN#*', 'SWEEP#*'], ['RUN#*', 'SWEEP#*']],
    ['on-event', ['SCOPE#*'], ['SCOPE#*']],
  ])('%s reads %j and writes %j, nothing else', (module, reads, writes) => {
    const of = (sid: string) =>
      tableStatements(h)
        .filter(({ role, s }) => role === roleOf(h, module) && s.Sid === sid)
        .flatMap(({ s }) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[]);
    expect(of('TableRead')).toEqual(reads);
    expect(of('TableWrite')).toEqual(writes);
  });
});
