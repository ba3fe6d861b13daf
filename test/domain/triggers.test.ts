/**
 * Event classification: every fixture under test/fixtures/events (hand-written from AWS's documented shapes)
 * gives the decision written next to it here; malformed events are `invalid` with a one-line reason that
 * says what and where; execution names, run ids, the execution input, coalescing and sweeps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OrganizationTree, OrganizationTreeSchema } from '../../functions/domain/organization.ts';
import { validatePolicy } from '../../functions/domain/policy.ts';
import {
  classifyEvent,
  coalesce,
  EXECUTION_NAME_PATTERN,
  ExecutionInputSchema,
  executionInput,
  executionName,
  MAX_VPC_IDS,
  runIdOf,
  sweepTriggers,
  type Trigger,
  type TriggerDecision,
  TriggerSchema,
} from '../../functions/domain/triggers.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/events');
const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const REGION = 'us-east-1';
const V1 = 'vpc-0a1b2c3d4e5f60718';
const V2 = 'vpc-0fedcba9876543210';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
}

interface ExpectedRun {
  readonly run: {
    readonly source: Trigger['source'];
    readonly vpcIds: string[] | null;
    readonly reason: RegExp;
    readonly accountId?: string;
    readonly region?: string;
    readonly eventId?: string;
  };
}
type Expected = ExpectedRun | { readonly ignored: RegExp } | { readonly invalid: RegExp };

const ct = (vpcIds: string[] | null, reason: RegExp): Expected => ({
  run: { source: 'cloudtrail', vpcIds, reason },
});
const cfg = (vpcIds: string[] | null, reason: RegExp): Expected => ({
  run: { source: 'config', vpcIds, reason },
});

/** The decision each fixture must give. A new fixture without an entry fails the suite. */
const EXPECTED: Record<string, Expected> = {
  'cloudtrail-create-vpc': {
    run: {
      source: 'cloudtrail',
      vpcIds: [V1],
      reason: /^CreateVpc: a VPC was created$/,
      accountId: ACCOUNT,
      region: REGION,
      // The envelope's id and CloudTrail's own eventID: one call, one key.
      eventId: '6f1f3e2a-0c55-4b8e-9d0a-1f2e3d4c5b01/a3c1e7d2-5b6f-4a8e-9c0d-1e2f3a4b5c01',
    },
  },
  'cloudtrail-delete-vpc': ct([V2], /^DeleteVpc: a VPC was deleted/),
  'cloudtrail-create-vpc-encryption-control': ct([V1], /^CreateVpcEncryptionControl: /),
  'cloudtrail-modify-vpc-encryption-control': ct([V1], /^ModifyVpcEncryptionControl: /),
  'cloudtrail-delete-vpc-encryption-control': ct(null, /whole scope: the call names the control \(vpcec-…\)/),
  'cloudtrail-run-instances': ct([V1], /^RunInstances: instances were launched/),
  'cloudtrail-modify-instance-type': ct(
    null,
    /instance's type changed; whole scope: CloudTrail names the instance/,
  ),
  'cloudtrail-modify-instance-termination': {
    ignored: /^ModifyInstanceAttribute changed an attribute other than the instance type$/,
  },
  'cloudtrail-attach-internet-gateway': ct([V1], /^AttachInternetGateway: /),
  'cloudtrail-create-egress-only-igw': ct([V1], /^CreateEgressOnlyInternetGateway: /),
  'cloudtrail-create-nat-gateway': ct([V1], /^CreateNatGateway: /),
  'cloudtrail-attach-vpn-gateway': ct([V2], /^AttachVpnGateway: /),
  // The peer VPC belongs to 222222222222: not ours to run on.
  'cloudtrail-create-vpc-peering-cross-account': ct([V1], /^CreateVpcPeeringConnection: /),
  'cloudtrail-accept-vpc-peering': ct([V2], /^AcceptVpcPeeringConnection: /),
  'cloudtrail-create-tgw-vpc-attachment': ct([V1], /^CreateTransitGatewayVpcAttachment: /),
  'cloudtrail-modify-transit-gateway': ct(null, /whole scope: a Transit Gateway reaches every attached VPC/),
  'cloudtrail-create-flow-logs': ct([V1], /^CreateFlowLogs: a flow log was created$/),
  'cloudtrail-delete-flow-logs': ct(null, /whole scope: the call names flow logs/),
  'cloudtrail-create-vpc-unauthorized': {
    ignored: /^CreateVpc failed with Client\.UnauthorizedOperation: nothing changed$/,
  },
  'cloudtrail-describe-vpcs': { ignored: /^DescribeVpcs does not change encryption posture$/ },
  'config-vpc-created': {
    run: {
      source: 'config',
      vpcIds: [V1],
      reason: /^Config: AWS::EC2::VPC vpc-0a1b2c3d4e5f60718 CREATE$/,
      // The item's resource and recorded state, not the envelope: a re-sent item is the same change.
      eventId: 'vpc-0a1b2c3d4e5f60718@1795483869111',
    },
  },
  'config-instance-type-changed': cfg([V1], /^Config: AWS::EC2::Instance i-0123456789abcdef0 UPDATE$/),
  // Deleted: no configuration or relationships left; the VPC comes from the diff.
  'config-instance-deleted': cfg([V2], /DELETE$/),
  'config-internet-gateway-attached': cfg([V1], /AWS::EC2::InternetGateway/),
  'config-nat-gateway': cfg([V1], /AWS::EC2::NatGateway/),
  'config-vpc-peering': cfg([V2], /AWS::EC2::VPCPeeringConnection/),
  'config-transit-gateway': cfg(null, /whole scope: a Transit Gateway reaches every attached VPC/),
  'config-transit-gateway-attachment': cfg([V1], /AWS::EC2::TransitGatewayAttachment/),
  'config-oversized-vpc': cfg([V2], /AWS::EC2::VPC vpc-0fedcba9876543210 UPDATE/),
  'config-s3-bucket': {
    ignored: /^Config change of AWS::S3::Bucket vecguard-flow-logs: not a resource type/,
  },
  'scheduled-sweep': {
    run: { source: 'schedule', vpcIds: null, reason: /^scheduled sweep \(rule vecguard-sweep\)/ },
  },
  'securityhub-custom-action-unrelated': { ignored: /^none of the 1 selected finding\(s\) names a VPC/ },
  'invalid-missing-detail': { invalid: /^EventBridge event: detail is missing \(expected record\)$/ },
  'invalid-account': {
    invalid: /^EventBridge event: account: an AWS account id is 12 digits \(got "11111111111a"\)$/,
  },
};

function expectDecision(decision: TriggerDecision, expected: Expected) {
  if ('run' in expected) {
    expect(decision.kind, JSON.stringify(decision)).toBe('run');
    if (decision.kind !== 'run') return;
    expect(decision.triggers).toHaveLength(1);
    const [t] = decision.triggers;
    expect(TriggerSchema.parse(t)).toEqual(t);
    expect(t?.source).toBe(expected.run.source);
    expect(t?.vpcIds).toEqual(expected.run.vpcIds);
    expect(t?.reason).toMatch(expected.run.reason);
    expect(t?.accountId).toBe(expected.run.accountId ?? ACCOUNT);
    expect(t?.region).toBe(expected.run.region ?? REGION);
    if (expected.run.eventId) expect(t?.eventId).toBe(expected.run.eventId);
  } else if ('ignored' in expected) {
    expect(decision).toEqual({ kind: 'ignored', reason: expect.stringMatching(expected.ignored) });
  } else {
    expect(decision).toEqual({ kind: 'invalid', reason: expect.stringMatching(expected.invalid) });
  }
}

describe('classifyEvent on the fixtures', () => {
  const names = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''));

  it('has an expected decision for every fixture (and a fixture for every expectation)', () => {
    const covered = [...Object.keys(EXPECTED), 'securityhub-custom-action'].sort();
    expect(names.sort()).toEqual(covered);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name} → ${'run' in expected ? `run ${JSON.stringify(expected.run.vpcIds)}` : Object.keys(expected)[0]}`, () => {
      expectDecision(classifyEvent(fixture(name)), expected);
    });
  }

  it('a Security Hub custom action runs one scope per account and Region of its findings; a Transit Gateway finding widens its scope', () => {
    const decision = classifyEvent(fixture('securityhub-custom-action'));
    expect(decision).toEqual({
      kind: 'run',
      triggers: [
        {
          accountId: ACCOUNT,
          region: REGION,
          vpcIds: [V1, V2],
          source: 'securityhub-action',
          eventId: 'e350a722-6cf8-4419-85ba-1567a0027a20',
          time: '2026-11-24T01:45:00Z',
          reason: 'Security Hub custom action "vecguard-run" on 4 finding(s)',
        },
        {
          accountId: OTHER,
          region: 'eu-west-1',
          vpcIds: null,
          source: 'securityhub-action',
          eventId: 'e350a722-6cf8-4419-85ba-1567a0027a20',
          time: '2026-11-24T01:45:00Z',
          reason: expect.stringContaining('a Transit Gateway finding reaches every attached VPC'),
        },
      ],
    });
  });

  it('every reason is one line', () => {
    for (const name of names) {
      const d = classifyEvent(fixture(name));
      const reasons = d.kind === 'run' ? d.triggers.map((t) => t.reason) : [d.reason];
      for (const r of reasons) expect(r, name).not.toMatch(/[\r\n]/);
    }
  });
});

describe('classifyEvent on malformed and unwanted events', () => {
  const base = () => fixture('cloudtrail-create-vpc');
  const withDetail = (patch: Record<string, unknown>) => {
    const e = base();
    e.detail = { ...(e.detail as object), ...patch };
    return e;
  };

  it.each([
    [null, /^expected an EventBridge event \(a JSON object\), got null$/],
    ['CreateVpc', /^expected an EventBridge event \(a JSON object\), got "CreateVpc"$/],
    [[1, 2], /got an array$/],
    [{}, /^EventBridge event: id is missing \(expected string\) \(and 6 more problems\)$/],
  ])('%j is invalid', (event, reason) => {
    expect(classifyEvent(event)).toEqual({ kind: 'invalid', reason: expect.stringMatching(reason) });
  });

  it('a time that is not ISO-8601 is invalid and says so', () => {
    const e = { ...base(), time: 'yesterday' };
    expect(classifyEvent(e)).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(/^EventBridge event: time: Invalid ISO datetime \(got "yesterday"\)$/),
    });
  });

  it('a Region that is not one is invalid', () => {
    expect(classifyEvent({ ...base(), region: 'moon-base' })).toEqual({
      kind: 'invalid',
      reason: 'EventBridge event: region: a Region looks like us-east-1 (got "moon-base")',
    });
  });

  it('a CloudTrail record without eventName is invalid, naming detail.eventName', () => {
    const e = base();
    delete (e.detail as Record<string, unknown>).eventName;
    expect(classifyEvent(e)).toEqual({
      kind: 'invalid',
      reason: 'CloudTrail record: detail.eventName is missing (expected string)',
    });
  });

  it('a CloudTrail record with errorCode is ignored whatever the call (dry runs included)', () => {
    expect(classifyEvent(withDetail({ errorCode: 'Client.DryRunOperation' }))).toEqual({
      kind: 'ignored',
      reason: 'CreateVpc failed with Client.DryRunOperation: nothing changed',
    });
  });

  it('a call from another service is ignored', () => {
    expect(
      classifyEvent(withDetail({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy' })),
    ).toEqual({
      kind: 'ignored',
      reason: 'PutBucketPolicy from s3.amazonaws.com: vecguard reacts to EC2 calls only',
    });
  });

  it('StartInstances and StopInstances are ignored (vecguard reacts to the type change, not to power state)', () => {
    for (const eventName of ['StartInstances', 'StopInstances']) {
      expect(classifyEvent(withDetail({ eventName }))).toEqual({
        kind: 'ignored',
        reason: `${eventName} does not change encryption posture`,
      });
    }
  });

  it('an inherited property name is not mistaken for a known call', () => {
    expect(classifyEvent(withDetail({ eventName: 'constructor' })).kind).toBe('ignored');
    expect(classifyEvent(withDetail({ eventName: '__proto__' })).kind).toBe('ignored');
  });

  it('CreateVpc without responseElements runs the whole scope and says why', () => {
    const d = classifyEvent(withDetail({ responseElements: null }));
    expect(d.kind === 'run' && d.triggers[0]).toMatchObject({
      vpcIds: null,
      reason: 'CreateVpc: a VPC was created; whole scope: the record carries no response with the new VPC id',
    });
  });

  it('ModifyInstanceAttribute in the attribute/value form still counts as a type change', () => {
    const d = classifyEvent(
      withDetail({
        eventName: 'ModifyInstanceAttribute',
        requestParameters: {
          instanceId: 'i-0123456789abcdef0',
          attribute: 'instanceType',
          value: 'm7i.large',
        },
      }),
    );
    expect(d.kind).toBe('run');
  });

  it('a forged aws-looking event from a custom source is ignored, not obeyed', () => {
    const sweep = { ...fixture('scheduled-sweep'), source: 'my.app' };
    expect(classifyEvent(sweep)).toEqual({
      kind: 'ignored',
      reason: '"Scheduled Event" came from source "my.app", not aws.events: only AWS may emit it',
    });
  });

  it('an unknown detail-type is ignored', () => {
    expect(classifyEvent({ ...base(), 'detail-type': 'EC2 Instance State-change Notification' })).toEqual({
      kind: 'ignored',
      reason:
        'detail-type "EC2 Instance State-change Notification" from aws.ec2 is not an event vecguard subscribes to',
    });
  });

  it('a Config change without a configuration item is invalid', () => {
    const e = fixture('config-vpc-created');
    delete (e.detail as Record<string, unknown>).configurationItem;
    expect(classifyEvent(e)).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(
        /^Config change: detail\.configurationItem is missing \(expected the changed/,
      ),
    });
  });

  it('a Config item with a malformed awsAccountId is invalid, naming the path', () => {
    const e = fixture('config-vpc-created');
    (e.detail as { configurationItem: Record<string, unknown> }).configurationItem.awsAccountId = '42';
    expect(classifyEvent(e)).toEqual({
      kind: 'invalid',
      reason:
        'Config change: detail.configurationItem.awsAccountId: an AWS account id is 12 digits (got "42")',
    });
  });

  it('a Config item naming another account or Region than the event that carried it starts nothing', () => {
    for (const [field, value] of [
      ['awsAccountId', '999999999999'],
      ['awsRegion', 'ap-south-2'],
    ] as const) {
      const e = fixture('config-vpc-created');
      (e.detail as { configurationItem: Record<string, unknown> }).configurationItem[field] = value;
      const decision = classifyEvent(e);
      expect(decision.kind, field).toBe('invalid');
      expect(JSON.stringify(decision), field).not.toContain('"accountId":"999999999999"');
      expect(decision).toMatchObject({
        reason: expect.stringMatching(
          new RegExp(`names .*${value}.* but the event came from ${e.account}/${e.region}`),
        ),
      });
    }
  });

  it('a Config compliance message is ignored', () => {
    const e = fixture('config-vpc-created');
    (e.detail as Record<string, unknown>).messageType = 'ComplianceChangeNotification';
    expect(classifyEvent(e)).toEqual({
      kind: 'ignored',
      reason: 'Config message ComplianceChangeNotification is not a configuration item change',
    });
  });

  it('a Security Hub action with no findings, or a finding with a bad account, is invalid', () => {
    const empty = fixture('securityhub-custom-action');
    (empty.detail as Record<string, unknown>).findings = [];
    expect(classifyEvent(empty)).toEqual({
      kind: 'invalid',
      reason: 'Security Hub custom action: detail.findings: expected at least one finding (got an array)',
    });
    const bad = fixture('securityhub-custom-action');
    (bad.detail as { findings: Record<string, unknown>[] }).findings[2] = {
      ...(bad.detail as { findings: Record<string, unknown>[] }).findings[2],
      AwsAccountId: 'x',
    };
    expect(classifyEvent(bad)).toEqual({
      kind: 'invalid',
      reason:
        'Security Hub custom action: detail.findings[2].AwsAccountId: an AWS account id is 12 digits (got "x")',
    });
  });

  const customAction = (findings: unknown[]) => {
    const e = fixture('securityhub-custom-action');
    (e.detail as Record<string, unknown>).findings = findings;
    return e;
  };

  it('a vecguard finding without ProductFields or Region is read from its Id', () => {
    const d = classifyEvent(
      customAction([
        { Id: `vecguard/${OTHER}/eu-west-1/${V2}/vpc-encryption-enforced`, AwsAccountId: OTHER },
      ]),
    );
    expect(d.kind === 'run' && d.triggers).toEqual([
      expect.objectContaining({ accountId: OTHER, region: 'eu-west-1', vpcIds: [V2] }),
    ]);
  });

  it('a finding from another tool on a Transit Gateway runs the whole scope; on a peering, only our side', () => {
    const tgw = classifyEvent(
      customAction([
        {
          Id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.23/finding/1',
          AwsAccountId: ACCOUNT,
          Region: REGION,
          Resources: [
            { Type: 'AwsEc2TransitGateway', Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:transit-gateway/tgw-1` },
          ],
        },
      ]),
    );
    expect(tgw.kind === 'run' && tgw.triggers[0]?.vpcIds).toBeNull();
    const peering = classifyEvent(
      customAction([
        {
          Id: 'some-tool/peering/1',
          AwsAccountId: ACCOUNT,
          Region: REGION,
          Resources: [
            {
              Type: 'AwsEc2VpcPeeringConnection',
              Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc-peering-connection/pcx-1`,
              Details: {
                AwsEc2VpcPeeringConnection: {
                  RequesterVpcInfo: { VpcId: V1, OwnerId: ACCOUNT, Region: REGION },
                  AccepterVpcInfo: { VpcId: 'vpc-0999999999999999a', OwnerId: OTHER, Region: REGION },
                },
              },
            },
            // A VPC resource of another account (ARN) is not ours either.
            { Type: 'AwsEc2Vpc', Id: `arn:aws:ec2:${REGION}:${OTHER}:vpc/vpc-0999999999999999b` },
          ],
        },
      ]),
    );
    expect(peering.kind === 'run' && peering.triggers.map((t) => t.vpcIds)).toEqual([[V1]]);
  });

  it('a finding with an unreadable Region is invalid', () => {
    expect(classifyEvent(customAction([{ Id: 'x', AwsAccountId: ACCOUNT, Region: 'Mars' }]))).toEqual({
      kind: 'invalid',
      reason:
        'Security Hub custom action: detail.findings[0].Region "Mars" is not a Region (expected e.g. us-east-1)',
    });
  });

  it('CreateVpcPeeringConnection without a response takes our VPC and the peer only when it is ours too', () => {
    const peering = (peer: Record<string, unknown>) =>
      withDetail({
        eventName: 'CreateVpcPeeringConnection',
        requestParameters: { vpcId: V1, peerVpcId: V2, ...peer },
        responseElements: null,
      });
    const vpcIdsOf = (d: TriggerDecision) => (d.kind === 'run' ? d.triggers[0]?.vpcIds : undefined);
    expect(vpcIdsOf(classifyEvent(peering({})))).toEqual([V1, V2]);
    expect(vpcIdsOf(classifyEvent(peering({ peerOwnerId: OTHER })))).toEqual([V1]);
    expect(vpcIdsOf(classifyEvent(peering({ peerRegion: 'eu-west-1' })))).toEqual([V1]);
  });

  it('an event naming more VPCs than the cap runs the whole scope', () => {
    const items = Array.from({ length: MAX_VPC_IDS + 1 }, (_, i) => ({
      vpcId: `vpc-${i.toString(16).padStart(8, '0')}`,
    }));
    const d = classifyEvent(
      withDetail({ eventName: 'RunInstances', responseElements: { instancesSet: { items } } }),
    );
    expect(d.kind === 'run' && d.triggers[0]).toMatchObject({
      vpcIds: null,
      reason: expect.stringMatching(/whole scope: more than 200 VPCs$/),
    });
  });

  it('the same event always gives the same decision', () => {
    for (const name of ['cloudtrail-run-instances', 'securityhub-custom-action', 'invalid-account']) {
      expect(classifyEvent(fixture(name))).toEqual(classifyEvent(fixture(name)));
    }
  });
});

const trigger = (over: Partial<Trigger> = {}): Trigger => ({
  accountId: ACCOUNT,
  region: REGION,
  vpcIds: [V1],
  reason: 'CreateVpc: a VPC was created',
  source: 'cloudtrail',
  eventId: 'a3c1e7d2-5b6f-4a8e-9c0d-1e2f3a4b5c01',
  time: '2026-11-24T01:30:00Z',
  ...over,
});

describe('executionName and runIdOf', () => {
  it('reads as source, scope and event time, and ends with a digest of the event', () => {
    expect(executionName(trigger())).toMatch(/^ct-111111111111-us-east-1-20261124T013000Z-[0-9a-f]{16}$/);
    expect(runIdOf(trigger())).toMatch(/^run-20261124T013000Z-[0-9a-f]{8}$/);
  });

  it('is the same for a re-delivered event, different for another event on the same VPC', () => {
    expect(executionName(trigger())).toBe(executionName(trigger({ reason: 'anything else' })));
    expect(executionName(trigger())).not.toBe(executionName(trigger({ eventId: 'another-event' })));
    expect(runIdOf(trigger())).not.toBe(runIdOf(trigger({ eventId: 'another-event' })));
  });

  it('differs between the scopes of one event', () => {
    expect(executionName(trigger())).not.toBe(executionName(trigger({ region: 'eu-west-1' })));
    expect(executionName(trigger())).not.toBe(executionName(trigger({ accountId: OTHER })));
  });

  it('stays within 80 characters of [A-Za-z0-9_-] with a long Region and odd characters', () => {
    const name = executionName(
      trigger({ region: 'ap-southeast-with-a-very-long-name-indeed-12', accountId: 'a b/c' }),
    );
    expect(name).toMatch(EXECUTION_NAME_PATTERN);
    expect(name.length).toBeLessThanOrEqual(80);
  });
});

describe('executionInput', () => {
  const policy = validatePolicy({ version: 1, approval: { timeoutMinutes: 90 } });

  it('follows docs/loop.md: run id, scope, no role by default, the loop bounds, approval timeout from the policy', () => {
    expect(executionInput(trigger(), { policy })).toEqual({
      runId: runIdOf(trigger()),
      accountId: ACCOUNT,
      region: REGION,
      roleArn: null,
      vpcIds: [V1],
      organizationalUnitIds: [],
      sweepId: null,
      maxIterations: 6,
      pollSeconds: 30,
      maxPolls: 40,
      approvalTimeoutSeconds: 5400,
    });
  });

  it('names the sweep of a scheduled event, the same for every scope and every re-delivery, and none for other events', () => {
    const sched = (region: string, id = 'evt-1') =>
      executionInput(trigger({ source: 'schedule', region, eventId: id, vpcIds: null }), { policy }).sweepId;
    expect(sched('us-east-1')).toMatch(/^sweep-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(sched('eu-west-1')).toBe(sched('us-east-1'));
    expect(sched('us-east-1', 'evt-2')).not.toBe(sched('us-east-1'));
    expect(executionInput(trigger(), { policy }).sweepId).toBeNull();
  });

  it('builds the member role ARN in the Region’s partition', () => {
    expect(executionInput(trigger(), { policy, memberRoleName: 'vecguard-member' }).roleArn).toBe(
      'arn:aws:iam::111111111111:role/vecguard-member',
    );
    expect(executionInput(trigger({ region: 'cn-north-1' }), { policy, memberRoleName: 'vg' }).roleArn).toBe(
      'arn:aws-cn:iam::111111111111:role/vg',
    );
  });

  it('carries the parent chain it is given, and the result validates', () => {
    const input = executionInput(trigger(), { policy }, ['ou-ab12-prod0001', 'r-ab12']);
    expect(input.organizationalUnitIds).toEqual(['ou-ab12-prod0001', 'r-ab12']);
    expect(ExecutionInputSchema.parse(input)).toEqual(input);
  });
});

describe('coalesce', () => {
  it('merges one scope into one trigger with the union of VPC ids, sorted', () => {
    const merged = coalesce([
      trigger({ vpcIds: [V2], eventId: 'e2', reason: 'b' }),
      trigger({ vpcIds: [V1], eventId: 'e1', reason: 'a' }),
      trigger({ vpcIds: [V1], eventId: 'e3', reason: 'a' }),
    ]);
    expect(merged).toEqual([trigger({ vpcIds: [V1, V2], eventId: 'e1+e2+e3', reason: 'a; b' })]);
  });

  it('lets the whole scope (null) win', () => {
    expect(
      coalesce([trigger({ vpcIds: [V1] }), trigger({ vpcIds: null, eventId: 'z' })])[0]?.vpcIds,
    ).toBeNull();
  });

  it('keeps scopes apart and orders them', () => {
    const merged = coalesce([trigger({ region: 'us-west-2' }), trigger({ accountId: OTHER }), trigger()]);
    expect(merged.map((t) => `${t.accountId}/${t.region}`)).toEqual([
      '111111111111/us-east-1',
      '111111111111/us-west-2',
      '222222222222/us-east-1',
    ]);
  });

  it('widens to the whole scope past the VPC-id cap', () => {
    const many = Array.from({ length: MAX_VPC_IDS + 1 }, (_, i) =>
      trigger({ vpcIds: [`vpc-${i.toString(16).padStart(8, '0')}`], eventId: `e${i}` }),
    );
    const [merged] = coalesce(many);
    expect(merged?.vpcIds).toBeNull();
    expect(merged?.reason).toMatch(/more than 200 VPCs: the whole scope$/);
  });

  it('does not depend on the order of its input', () => {
    const ts = [
      trigger({ eventId: 'b', vpcIds: [V2] }),
      trigger({ eventId: 'a' }),
      trigger({ region: 'eu-west-1' }),
    ];
    expect(coalesce(ts)).toEqual(coalesce([...ts].reverse()));
  });
});

describe('sweepTriggers', () => {
  const sweep = trigger({ source: 'schedule', vpcIds: null, eventId: 'sweep-1', reason: 'scheduled sweep' });

  it('covers every account × Region the non-ignored targets name, plus the hub scope', () => {
    const policy = validatePolicy({
      version: 1,
      targets: [
        { name: 'prod', accounts: [OTHER], regions: ['eu-west-1', REGION], mode: 'enforce' },
        { name: 'lab', accounts: ['333333333333'], mode: 'ignore' },
        { name: 'dev', regions: ['us-west-2'], mode: 'monitor' },
      ],
    });
    expect(sweepTriggers(sweep, policy).map((t) => `${t.accountId}/${t.region}`)).toEqual([
      '111111111111/us-east-1',
      '111111111111/us-west-2',
      '222222222222/eu-west-1',
      '222222222222/us-east-1',
    ]);
  });

  it('skips the hub scope when the defaults ignore everything not targeted', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'ignore' },
      targets: [{ name: 'prod', accounts: [OTHER], regions: ['eu-west-1'], mode: 'enforce' }],
    });
    expect(sweepTriggers(sweep, policy).map((t) => `${t.accountId}/${t.region}`)).toEqual([
      '222222222222/eu-west-1',
    ]);
  });

  it('leaves other triggers alone', () => {
    expect(sweepTriggers(trigger(), validatePolicy({ version: 1 }))).toEqual([trigger()]);
  });

  it('gives every swept scope its own execution name', () => {
    const policy = validatePolicy({
      version: 1,
      targets: [{ name: 'prod', accounts: [OTHER], regions: ['eu-west-1', REGION], mode: 'enforce' }],
    });
    const names = sweepTriggers(sweep, policy).map(executionName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('sweepTriggers with organizational units', () => {
  const sweep = trigger({ source: 'schedule', vpcIds: null, eventId: 'sweep-1', reason: 'scheduled sweep' });
  const ROOT = 'r-ab12';
  const WORKLOADS = 'ou-ab12-workload';
  const PROD = 'ou-ab12-prod0001';
  const SANDBOX = 'ou-ab12-sandbox1';
  // root ─ 111 (hub, management) · workloads ─ prod ─ 222 · sandbox ─ 333, 444 (suspended) · 555 under root
  const organization: OrganizationTree = OrganizationTreeSchema.parse({
    roots: [{ id: ROOT }],
    organizationalUnits: [
      { id: WORKLOADS, name: 'workloads', parentId: ROOT },
      { id: PROD, name: 'prod', parentId: WORKLOADS },
      { id: SANDBOX, name: 'sandbox', parentId: WORKLOADS },
    ],
    accounts: [
      { id: ACCOUNT, state: 'ACTIVE', parentId: ROOT },
      { id: OTHER, state: 'ACTIVE', parentId: PROD },
      { id: '333333333333', state: 'ACTIVE', parentId: SANDBOX },
      { id: '444444444444', state: 'SUSPENDED', parentId: SANDBOX },
      { id: '555555555555', state: 'ACTIVE', parentId: ROOT },
    ],
  });
  const scopes = (policy: Parameters<typeof sweepTriggers>[1], tree?: OrganizationTree) =>
    sweepTriggers(sweep, policy, tree).map((t) => `${t.accountId}/${t.region}`);

  it('sweeps every active account anywhere below the OU, in the target’s Regions', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'ignore' },
      targets: [
        { name: 'workloads', organizationalUnits: [WORKLOADS], regions: ['eu-west-1'], mode: 'enforce' },
      ],
    });
    // 444444444444 is suspended: not swept. 555555555555 sits beside the OU, not below it.
    expect(scopes(policy, organization)).toEqual(['222222222222/eu-west-1', '333333333333/eu-west-1']);
  });

  it('a root id covers the whole organisation; without Regions, the hub’s Region', () => {
    const policy = validatePolicy({
      version: 1,
      targets: [{ name: 'all', organizationalUnits: [ROOT], mode: 'monitor' }],
    });
    expect(scopes(policy, organization)).toEqual([
      '111111111111/us-east-1',
      '222222222222/us-east-1',
      '333333333333/us-east-1',
      '555555555555/us-east-1',
    ]);
  });

  it('a target with both OUs and accounts sweeps only the listed accounts below the OUs', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'ignore' },
      targets: [
        {
          name: 'some',
          organizationalUnits: [WORKLOADS],
          accounts: ['333333333333', '555555555555'],
          mode: 'enforce',
        },
      ],
    });
    expect(scopes(policy, organization)).toEqual(['333333333333/us-east-1']);
  });

  it('an ignore target under an OU sweeps nothing of its own', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'ignore' },
      targets: [
        { name: 'lab', organizationalUnits: [SANDBOX], mode: 'ignore' },
        { name: 'prod', organizationalUnits: [PROD], mode: 'enforce' },
      ],
    });
    expect(scopes(policy, organization)).toEqual(['222222222222/us-east-1']);
  });

  it('an OU the organisation does not hold sweeps nothing (on-event warns about it)', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'ignore' },
      targets: [{ name: 'gone', organizationalUnits: ['ou-ab12-deleted1'], mode: 'enforce' }],
    });
    expect(scopes(policy, organization)).toEqual([]);
  });

  it('refuses to sweep a policy with OU targets without the organisation, rather than sweep less', () => {
    const policy = validatePolicy({
      version: 1,
      targets: [{ name: 'prod', organizationalUnits: [PROD], mode: 'enforce' }],
    });
    expect(() => sweepTriggers(sweep, policy)).toThrow(
      /the policy targets organizational units \(ou-ab12-prod0001\); pass the organisation tree/,
    );
    // Only a sweep needs the tree: an event names its own scope.
    expect(sweepTriggers(trigger(), policy)).toEqual([trigger()]);
  });

  it('a policy without OU targets sweeps the same with or without the organisation', () => {
    const policy = validatePolicy({
      version: 1,
      targets: [{ name: 'prod', accounts: [OTHER], regions: ['eu-west-1'], mode: 'enforce' }],
    });
    expect(scopes(policy, organization)).toEqual(scopes(policy));
  });
});

describe('dedup keys name one event and no other', () => {
  const only = (event: unknown): Trigger => {
    const decision = classifyEvent(event);
    if (decision.kind !== 'run') throw new Error(JSON.stringify(decision));
    return decision.triggers[0] as Trigger;
  };
  const withDetail = (event: Record<string, unknown>, over: Record<string, unknown>) => ({
    ...event,
    detail: { ...(event.detail as Record<string, unknown>), ...over },
  });

  it('two different CloudTrail calls sharing an EventBridge envelope id are not duplicates of each other', () => {
    const event = fixture('cloudtrail-create-vpc');
    const first = only(event);
    const second = only(withDetail(event, { eventID: 'b4d2f8e3-6c7a-4b9f-8d1e-2f3a4b5c6d02' }));
    expect(executionName(second)).not.toBe(executionName(first));
    expect(coalesce([first, second])[0]?.eventId.split('+')).toHaveLength(2);
  });

  it('two envelopes carrying the same eventID are two events', () => {
    const event = fixture('cloudtrail-create-vpc');
    const again = only({ ...event, id: '7a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c04' });
    expect(executionName(again)).not.toBe(executionName(only(event)));
  });

  it('a re-delivered CloudTrail event (same envelope, same record) keeps its key', () => {
    const event = fixture('cloudtrail-create-vpc');
    expect(executionName(only(structuredClone(event)))).toBe(executionName(only(event)));
  });

  it('a Config item re-sent in a new envelope (new id and time) is the same change: same name, same run id', () => {
    const event = fixture('config-vpc-created');
    const resent = only({
      ...event,
      id: '99999999-b14d-496e-8a0f-6abcdef55515',
      time: '2026-11-24T03:00:00Z',
    });
    expect(executionName(resent)).toBe(executionName(only(event)));
    expect(runIdOf(resent)).toBe(runIdOf(only(event)));
  });

  it('a later recorded state of the same Config resource is a new change', () => {
    const event = fixture('config-vpc-created');
    const detail = event.detail as { configurationItem: Record<string, unknown> };
    const later = only(
      withDetail(event, {
        configurationItem: { ...detail.configurationItem, configurationStateId: 1795483869999 },
      }),
    );
    expect(executionName(later)).not.toBe(executionName(only(event)));
  });

  it('an id holding + cannot split into other events’ keys when triggers coalesce', () => {
    const event = fixture('cloudtrail-create-vpc');
    const t = only(withDetail(event, { eventID: 'x+y' }));
    expect(t.eventId.split('+')).toHaveLength(1);
  });
});
