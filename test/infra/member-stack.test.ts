import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { allPermissions } from '../../functions/adapters/actions/registry.ts';
import { MemberStack, type MemberStackProps } from '../../infra/member-stack.ts';
import { EC2_READ_ACTIONS } from '../../infra/permissions.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function synth(props: Partial<MemberStackProps> = {}): Template {
  const app = new App();
  return Template.fromStack(
    new MemberStack(app, 'Member', {
      remediationPermissions: allPermissions(),
      hubAccountId: '111111111111',
      ...props,
    }),
  );
}

function role(t: Template) {
  return Object.values(t.findResources('AWS::IAM::Role'))[0]?.Properties;
}

function actions(t: Template): string[] {
  const all = Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  return [...new Set(all)].sort();
}

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
        },
      },
    ]);
  });

  it('requires the external id when one is given', () => {
    const r = role(synth({ externalId: 'vecguard-7f3a' }));
    expect(r.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toEqual({
      'sts:ExternalId': 'vecguard-7f3a',
    });
  });

  it('grants the inventory reads, the registry’s actions and the Security Hub import, nothing else', () => {
    const expected = [
      ...new Set([
        ...EC2_READ_ACTIONS,
        ...allPermissions(),
        'securityhub:BatchImportFindings',
        'securityhub:GetFindings',
      ]),
    ].sort();
    expect(actions(synth())).toEqual(expected);
    expect(actions(synth()).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('refuses a hub account that is not 12 digits, and a bad role name, saying what to give', () => {
    expect(() => synth({ hubAccountId: '1234' })).toThrow(/give the hub's 12 digits/);
    expect(() => synth({ roleName: 'a/b' })).toThrow(/not an IAM role name/);
  });
});
