import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ASFF_LIMITS, type Finding, FindingSchema, jsonByteLength } from '../../functions/domain/asff.ts';
import { audit } from '../../functions/domain/audit.ts';
import { BLOCKER_GUIDANCE } from '../../functions/domain/blockers.ts';
import { InvalidInputError } from '../../functions/domain/errors.ts';
import {
  assessVpcVerdict,
  CHECKS,
  findingForPeering,
  findingForTransitGateway,
  findingForVerdict,
  findingId,
  findingResourceId,
  findingsForAudit,
  PRODUCT_FIELD,
  VPC_ENCRYPTION_DOCS_URL,
} from '../../functions/domain/findings.ts';
import {
  BLOCKER_KINDS,
  type Blocker,
  type BlockerKind,
  EXCLUSION_NAMES,
} from '../../functions/domain/model.ts';
import {
  COMPLIANT_VERDICTS,
  type PeeringVerdict,
  type TransitGatewayVerdict,
  VERDICT_KINDS,
  type VerdictKind,
  type VpcVerdict,
  VpcVerdictSchema,
} from '../../functions/domain/verdict.ts';
import { ACCOUNT_ID, arbPolicy, arbSnapshot, REGION, TAKEN_AT } from './fixtures.ts';

const VPC_ID = 'vpc-0a1b2c3d4e5f';
const VPC_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:vpc/${VPC_ID}`;

function vpcVerdict(over: Partial<VpcVerdict> = {}): VpcVerdict {
  return VpcVerdictSchema.parse({
    vpcId: VPC_ID,
    name: 'payments',
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: 'ENFORCED',
    desiredMode: 'enforce',
    policySource: 'defaults',
    currentMode: 'enforce',
    controlState: 'available',
    reasons: [],
    blockers: [],
    exclusionsNeeded: [],
    exclusionsRefused: [],
    exclusionsEnabled: [],
    ...over,
  });
}

function blocker(id: string, kind: BlockerKind, over: Partial<Blocker> = {}): Blocker {
  return { id, kind, type: 'Unknown', description: `${kind} ${id}`, isExcludable: false, ...over };
}

function tgwVerdict(over: Partial<TransitGatewayVerdict> = {}): TransitGatewayVerdict {
  return {
    transitGatewayId: 'tgw-0123456789',
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: 'TGW_ENCRYPTION_DISABLED',
    encryptionSupport: 'disable',
    unmetPreconditions: [],
    attachedVpcIds: ['vpc-a', 'vpc-b'],
    reasons: [],
    ...over,
  };
}

function peeringVerdict(over: Partial<PeeringVerdict> = {}): PeeringVerdict {
  return {
    peeringConnectionId: 'pcx-0123',
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: 'PEERING_NEEDS_EXCLUSION',
    requesterVpcId: 'vpc-a',
    accepterVpcId: 'vpc-b',
    needsExclusionOn: ['vpc-a'],
    reasons: [],
    ...over,
  };
}

const ctx = { takenAt: TAKEN_AT };

/** Every limit the brief and Security Hub set, checked one by one so a failure names the limit. */
function expectWithinLimits(finding: Finding): void {
  expect(FindingSchema.safeParse(finding).error?.issues ?? []).toEqual([]);
  expect(finding.Title.length).toBeLessThanOrEqual(ASFF_LIMITS.titleLength);
  expect(finding.Description.length).toBeLessThanOrEqual(ASFF_LIMITS.descriptionLength);
  expect(finding.Remediation?.Recommendation.Text.length).toBeLessThanOrEqual(
    ASFF_LIMITS.recommendationTextLength,
  );
  expect(finding.Resources.length).toBeGreaterThanOrEqual(1);
  expect(finding.Resources.length).toBeLessThanOrEqual(32);
  expect(finding.Id.length).toBeLessThanOrEqual(ASFF_LIMITS.idLength);
  expect(jsonByteLength(finding)).toBeLessThanOrEqual(ASFF_LIMITS.findingBytes);
  expect(finding).not.toHaveProperty('Workflow');
}

describe('the finding shape', () => {
  it('is assignable to the SDK AwsSecurityFinding (BatchImportFindings input)', () => {
    expectTypeOf<Finding>().toExtend<AwsSecurityFinding>();
    const finding: AwsSecurityFinding = findingForVerdict(vpcVerdict(), ctx);
    expect(finding.SchemaVersion).toBe('2018-10-08');
  });

  it('carries the required top-level attributes, the custom-integration ProductArn and no Workflow', () => {
    const f = findingForVerdict(vpcVerdict(), ctx);
    expect(f).toMatchObject({
      Id: `vecguard/${ACCOUNT_ID}/${REGION}/${VPC_ID}/vpc-encryption-enforced`,
      ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT_ID}:product/${ACCOUNT_ID}/default`,
      GeneratorId: 'vecguard/vpc-encryption-enforced',
      AwsAccountId: ACCOUNT_ID,
      Region: REGION,
      CreatedAt: TAKEN_AT,
      UpdatedAt: TAKEN_AT,
      FirstObservedAt: TAKEN_AT,
      LastObservedAt: TAKEN_AT,
      RecordState: 'ACTIVE',
      Types: ['Software and Configuration Checks/AWS Security Best Practices', 'Effects/Data Exposure'],
    });
    expect(f.FindingProviderFields).toEqual({ Severity: f.Severity, Types: f.Types });
    expect(f.Remediation?.Recommendation.Url).toBe(VPC_ENCRYPTION_DOCS_URL);
    expect(f.Resources[0]).toMatchObject({
      Type: 'AwsEc2Vpc',
      Id: VPC_ARN,
      Partition: 'aws',
      Region: REGION,
    });
    expect(f.ProductFields).toMatchObject({
      [PRODUCT_FIELD.check]: CHECKS.vpc,
      [PRODUCT_FIELD.verdict]: 'ENFORCED',
      [PRODUCT_FIELD.desiredMode]: 'enforce',
      [PRODUCT_FIELD.resourceId]: VPC_ID,
    });
    expectWithinLimits(f);
  });

  it('uses the partition of China and GovCloud Regions in ARNs', () => {
    const f = findingForVerdict(vpcVerdict({ region: 'cn-north-1' }), ctx);
    expect(f.ProductArn).toBe(
      `arn:aws-cn:securityhub:cn-north-1:${ACCOUNT_ID}:product/${ACCOUNT_ID}/default`,
    );
    expect(f.Resources[0]?.Id).toBe(`arn:aws-cn:ec2:cn-north-1:${ACCOUNT_ID}:vpc/${VPC_ID}`);
    const gov = findingForVerdict(vpcVerdict({ region: 'us-gov-west-1' }), ctx);
    expect(gov.Resources[0]?.Partition).toBe('aws-us-gov');
  });

  it('refuses a verdict whose account, Region or clock cannot make a valid finding', () => {
    expect(() => findingForVerdict(vpcVerdict({ accountId: '123' }), ctx)).toThrow(InvalidInputError);
    expect(() => findingForVerdict(vpcVerdict({ region: 'moon' }), ctx)).toThrow(InvalidInputError);
    expect(() => findingForVerdict(vpcVerdict(), { takenAt: 'yesterday' })).toThrow(InvalidInputError);
    expect(() => findingForVerdict(vpcVerdict(), { takenAt: '2026-02-30T99:00:00Z' })).toThrow(
      InvalidInputError,
    );
  });
});

describe('compliance and severity per VPC verdict', () => {
  const cases: [VerdictKind, VpcVerdict['desiredMode'], 'monitor' | 'enforce' | null, string, string][] = [
    ['ENFORCED', 'enforce', 'enforce', 'PASSED', 'INFORMATIONAL'],
    ['ENFORCED_WITH_EXCLUSIONS', 'enforce', 'enforce', 'PASSED', 'INFORMATIONAL'],
    ['ENFORCED', 'monitor', 'enforce', 'PASSED', 'INFORMATIONAL'],
    ['READY_TO_ENFORCE', 'enforce', 'monitor', 'FAILED', 'LOW'],
    ['READY_TO_ENFORCE', 'monitor', 'monitor', 'PASSED', 'INFORMATIONAL'],
    ['BLOCKED', 'enforce', 'monitor', 'FAILED', 'MEDIUM'],
    ['BLOCKED', 'monitor', 'monitor', 'PASSED', 'INFORMATIONAL'],
    ['UNMONITORED', 'enforce', null, 'FAILED', 'HIGH'],
    ['UNMONITORED', 'monitor', null, 'FAILED', 'MEDIUM'],
    ['UNMONITORED', 'ignore', null, 'PASSED', 'INFORMATIONAL'],
    ['TRANSITIONING', 'enforce', 'monitor', 'WARNING', 'LOW'],
    ['TRANSITIONING', 'monitor', 'monitor', 'WARNING', 'LOW'],
    ['TRANSITION_FAILED', 'enforce', 'monitor', 'FAILED', 'HIGH'],
    ['TRANSITION_FAILED', 'monitor', 'monitor', 'FAILED', 'HIGH'],
    ['DRIFTED', 'enforce', 'monitor', 'FAILED', 'HIGH'],
    ['EXEMPT', 'ignore', null, 'PASSED', 'INFORMATIONAL'],
    ['MANAGED_ELSEWHERE', 'enforce', 'monitor', 'WARNING', 'LOW'],
    ['MANAGED_ELSEWHERE', 'enforce', 'enforce', 'PASSED', 'INFORMATIONAL'],
  ];

  it.each(cases)(
    '%s with %s desired and the control in %s → %s, %s',
    (verdict, desiredMode, currentMode, status, label) => {
      const f = findingForVerdict(vpcVerdict({ verdict, desiredMode, currentMode }), ctx);
      expect(f.Compliance?.Status).toBe(status);
      expect(f.FindingProviderFields.Severity).toEqual({ Label: label, Original: verdict });
      expect(f.Compliance?.StatusReasons?.[0]?.ReasonCode).toBe(verdict);
      expectWithinLimits(f);
    },
  );

  it('every verdict kind has a title, a description naming it and remediation text', () => {
    for (const verdict of VERDICT_KINDS) {
      const f = findingForVerdict(vpcVerdict({ verdict, currentMode: 'monitor' }), ctx);
      expect(f.Title, verdict).toContain(VPC_ID);
      expect(f.Description, verdict).toContain(verdict);
      expect(f.Remediation?.Recommendation.Text.length, verdict).toBeGreaterThan(20);
    }
  });

  it('the verdicts audit calls compliant pass whatever the desired mode and control', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COMPLIANT_VERDICTS),
        fc.constantFrom('enforce' as const, 'monitor' as const, 'ignore' as const),
        fc.constantFrom('enforce' as const, 'monitor' as const, null),
        (verdict, desiredMode, currentMode) => {
          expect(assessVpcVerdict({ verdict, desiredMode, currentMode, controlState: null }).status).toBe(
            'PASSED',
          );
        },
      ),
    );
  });

  it('a VPC in monitor whose policy asks for monitor says so and asks for no action', () => {
    const f = findingForVerdict(
      vpcVerdict({
        verdict: 'BLOCKED',
        desiredMode: 'monitor',
        currentMode: 'monitor',
        blockers: [blocker('i-0abc', 'instance', { instanceId: 'i-0abc' })],
      }),
      ctx,
    );
    expect(f.Title).toBe(`VPC payments (${VPC_ID}) monitors encryption in transit, as the policy asks`);
    expect(f.Remediation?.Recommendation.Text).toMatch(/^No action needed: the policy asks for monitor/);
  });
});

describe('remediation a person can act on', () => {
  it('BLOCKED lists the guidance of each blocker kind, kinds without an enforce path first', () => {
    const f = findingForVerdict(
      vpcVerdict({
        verdict: 'BLOCKED',
        currentMode: 'monitor',
        blockers: [
          blocker('eni-1', 'instance', { instanceId: 'i-1' }),
          blocker('eni-2', 'instance'),
          blocker('eni-3', 'network-firewall'),
        ],
      }),
      ctx,
    );
    const text = f.Remediation?.Recommendation.Text ?? '';
    expect(text.startsWith(`network-firewall (1): ${BLOCKER_GUIDANCE['network-firewall']}`)).toBe(true);
    expect(text).toContain('instance (2): ');
    expect(f.Description).toContain('Blocking resources: 3 (2 instance, 1 network-firewall).');
  });

  it('BLOCKED by exclusions the policy refuses says which and what to do', () => {
    const f = findingForVerdict(
      vpcVerdict({
        verdict: 'BLOCKED',
        currentMode: 'monitor',
        blockers: [blocker('igw-1', 'internet-gateway', { isExcludable: true })],
        exclusionsNeeded: ['InternetGateway'],
        exclusionsRefused: ['InternetGateway'],
      }),
      ctx,
    );
    expect(f.Remediation?.Recommendation.Text).toMatch(
      /^The policy does not accept the exclusion\(s\) InternetGateway: accept them in the policy/,
    );
    expect(f.ProductFields?.[PRODUCT_FIELD.exclusionsRefused]).toBe('InternetGateway');
  });

  it('a long guidance text is cut with a visible marker at 512 characters', () => {
    const blockers = BLOCKER_KINDS.map((kind, i) => blocker(`x-${i}`, kind));
    const f = findingForVerdict(vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor', blockers }), ctx);
    const text = f.Remediation?.Recommendation.Text ?? '';
    expect(text).toHaveLength(512);
    expect(text.endsWith('… [truncated]')).toBe(true);
  });

  it('UNMONITORED, READY_TO_ENFORCE and DRIFTED name the command or action that fixes them', () => {
    const text = (v: Partial<VpcVerdict>) =>
      findingForVerdict(vpcVerdict(v), ctx).Remediation?.Recommendation.Text;
    expect(text({ verdict: 'UNMONITORED', currentMode: null })).toContain(
      `create-vpc-encryption-control --vpc-id ${VPC_ID}`,
    );
    expect(
      text({ verdict: 'READY_TO_ENFORCE', currentMode: 'monitor', exclusionsNeeded: ['NatGateway'] }),
    ).toContain('enforce with the exclusion(s) NatGateway');
    expect(text({ verdict: 'DRIFTED', currentMode: 'monitor' })).toContain('restore-enforce');
    expect(text({ verdict: 'ENFORCED_WITH_EXCLUSIONS', exclusionsEnabled: ['Lambda'] })).toContain('Lambda');
    expect(text({ verdict: 'EXEMPT', desiredMode: 'ignore', policySource: 'tag:vecguard:ignore' })).toContain(
      'tag:vecguard:ignore',
    );
  });
});

describe('blockers as resources', () => {
  it('maps each blocker to the ASFF type that exists for it, else Other with its ARN or id', () => {
    const f = findingForVerdict(
      vpcVerdict({
        verdict: 'BLOCKED',
        currentMode: 'monitor',
        blockers: [
          blocker('eni-1', 'instance', { instanceId: 'i-9' }),
          blocker('i-2', 'instance'),
          blocker('igw-3', 'internet-gateway', { isExcludable: true }),
          blocker('nat-4', 'nat-gateway', { isExcludable: true }),
          blocker('pcx-5', 'vpc-peering', { isExcludable: true }),
          blocker('arn:aws:lambda:eu-west-1:111122223333:function:f', 'lambda', { isExcludable: true }),
          blocker('mystery-6', 'other'),
        ],
      }),
      ctx,
    );
    const arn = (t: string) => `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:${t}`;
    expect(f.Resources.map((r) => [r.Type, r.Id])).toEqual([
      ['AwsEc2Vpc', VPC_ARN],
      ['AwsEc2NetworkInterface', arn('network-interface/eni-1')],
      ['AwsEc2Instance', arn('instance/i-2')],
      ['Other', 'mystery-6'],
      ['Other', arn('internet-gateway/igw-3')],
      ['Other', arn('natgateway/nat-4')],
      ['AwsEc2VpcPeeringConnection', arn('vpc-peering-connection/pcx-5')],
      ['Other', 'arn:aws:lambda:eu-west-1:111122223333:function:f'],
    ]);
    expect(f.Resources[1]?.Details).toEqual({
      Other: {
        kind: 'instance',
        blockerType: 'Unknown',
        description: 'instance eni-1',
        isExcludable: 'false',
        instanceId: 'i-9',
      },
      AwsEc2NetworkInterface: { NetworkInterfaceId: 'eni-1', Attachment: { InstanceId: 'i-9' } },
    });
  });

  it('attaches at most 31 blockers, non-excludable first, and says how many more there are', () => {
    const blockers = [
      ...Array.from({ length: 30 }, (_, i) =>
        blocker(`igw-${i}`, 'internet-gateway', { isExcludable: true }),
      ),
      ...Array.from({ length: 10 }, (_, i) => blocker(`eni-${i}`, 'instance')),
    ];
    const f = findingForVerdict(vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor', blockers }), ctx);
    expect(f.Resources).toHaveLength(32);
    expect(f.Resources.slice(1, 11).every((r) => r.Type === 'AwsEc2NetworkInterface')).toBe(true);
    expect(f.Description).toMatch(/… and 9 more blocking resources not attached to this finding/);
    expect(f.ProductFields?.[PRODUCT_FIELD.blockerCount]).toBe('40');
  });

  it('keeps the "and N more" note visible when the description is cut', () => {
    const blockers = Array.from({ length: 50 }, (_, i) => blocker(`eni-${i}`, 'instance'));
    const f = findingForVerdict(
      vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor', blockers, reasons: ['x'.repeat(3000)] }),
      ctx,
    );
    expect(f.Description).toHaveLength(1024);
    expect(f.Description).toContain('… [truncated] … and 19 more blocking resources');
  });

  it('lists a blocker reported twice once, and never the VPC itself as its own blocker', () => {
    const f = findingForVerdict(
      vpcVerdict({
        verdict: 'BLOCKED',
        currentMode: 'monitor',
        blockers: [blocker('eni-1', 'instance'), blocker('eni-1', 'instance'), blocker(VPC_ID, 'other')],
      }),
      ctx,
    );
    expect(f.Resources.map((r) => r.Id)).toEqual([
      VPC_ARN,
      `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:network-interface/eni-1`,
    ]);
  });
});

describe('Transit Gateway findings', () => {
  it('a TGW without encryption support FAILS with the command and its unmet preconditions', () => {
    const f = findingForTransitGateway(
      tgwVerdict({
        unmetPreconditions: ['Multicast support is on'],
        reasons: ['Encryption support is disabled'],
      }),
      ctx,
    );
    expect(f.Id).toBe(`vecguard/${ACCOUNT_ID}/${REGION}/tgw-0123456789/tgw-encryption-support`);
    expect(f.GeneratorId).toBe('vecguard/tgw-encryption-support');
    expect(f.Compliance?.Status).toBe('FAILED');
    expect(f.Severity.Label).toBe('MEDIUM');
    expect(f.Remediation?.Recommendation.Text).toMatch(
      /^First: Multicast support is on\. Then enable encryption support: aws ec2 modify-transit-gateway --transit-gateway-id tgw-0123456789 --options EncryptionSupport=enable/,
    );
    expect(f.Resources.map((r) => r.Type)).toEqual(['AwsEc2TransitGateway', 'AwsEc2Vpc', 'AwsEc2Vpc']);
    expect(f.Resources[0]?.Id).toBe(`arn:aws:ec2:${REGION}:${ACCOUNT_ID}:transit-gateway/tgw-0123456789`);
    expectWithinLimits(f);
  });

  it.each([
    ['TGW_ENCRYPTION_ENABLED', 'PASSED', 'INFORMATIONAL'],
    ['TGW_ENCRYPTION_ENABLING', 'WARNING', 'LOW'],
    ['TGW_ENCRYPTION_DISABLED', 'FAILED', 'MEDIUM'],
  ] as const)('%s → %s, %s', (verdict, status, label) => {
    const f = findingForTransitGateway(tgwVerdict({ verdict }), ctx);
    expect([f.Compliance?.Status, f.Severity.Label]).toEqual([status, label]);
    expect(f.Title).toContain('tgw-0123456789');
  });

  it('attaches at most 31 VPCs and counts the rest', () => {
    const attachedVpcIds = Array.from({ length: 45 }, (_, i) => `vpc-${i}`);
    const f = findingForTransitGateway(tgwVerdict({ attachedVpcIds }), ctx);
    expect(f.Resources).toHaveLength(32);
    expect(f.Description).toContain('… and 14 more attached VPCs');
  });
});

describe('peering findings', () => {
  it('a peering that needs the exclusion FAILS and names the VPCs that need it', () => {
    const f = findingForPeering(peeringVerdict(), ctx);
    expect(f.Id).toBe(`vecguard/${ACCOUNT_ID}/${REGION}/pcx-0123/peering-encryption`);
    expect([f.Compliance?.Status, f.Severity.Label]).toEqual(['FAILED', 'MEDIUM']);
    expect(f.Remediation?.Recommendation.Text).toContain('enable the VpcPeering exclusion on vpc-a');
    expect(f.Resources[0]).toMatchObject({
      Type: 'AwsEc2VpcPeeringConnection',
      Details: {
        AwsEc2VpcPeeringConnection: {
          VpcPeeringConnectionId: 'pcx-0123',
          RequesterVpcInfo: { VpcId: 'vpc-a' },
          AccepterVpcInfo: { VpcId: 'vpc-b' },
        },
      },
    });
    expect(f.Resources.map((r) => r.Type)).toEqual(['AwsEc2VpcPeeringConnection', 'AwsEc2Vpc']);
    expectWithinLimits(f);
  });

  it.each([
    ['PEERING_ENCRYPTED', 'PASSED', 'INFORMATIONAL'],
    ['PEERING_NEEDS_EXCLUSION', 'FAILED', 'MEDIUM'],
    ['PEERING_NOT_APPLICABLE', 'NOT_AVAILABLE', 'INFORMATIONAL'],
  ] as const)('%s → %s, %s', (verdict, status, label) => {
    const f = findingForPeering(peeringVerdict({ verdict, needsExclusionOn: [] }), ctx);
    expect([f.Compliance?.Status, f.Severity.Label]).toEqual([status, label]);
    expect(f.Remediation?.Recommendation.Text.length).toBeGreaterThan(20);
  });
});

describe('identity and time', () => {
  it('the Id depends on account, Region, resource and check only', () => {
    const a = findingForVerdict(vpcVerdict({ verdict: 'ENFORCED' }), ctx);
    const b = findingForVerdict(vpcVerdict({ verdict: 'BLOCKED', name: 'renamed', currentMode: 'monitor' }), {
      takenAt: '2026-03-01T00:00:00Z',
    });
    expect(b.Id).toBe(a.Id);
    expect(findingForVerdict(vpcVerdict({ vpcId: 'vpc-other' }), ctx).Id).not.toBe(a.Id);
    expect(findingId(ACCOUNT_ID, REGION, VPC_ID, CHECKS.peering)).not.toBe(a.Id);
  });

  it('an over-long resource id gives a bounded Id that keeps the check and stays unique', () => {
    const long1 = `vpc-${'a'.repeat(2000)}1`;
    const long2 = `vpc-${'a'.repeat(2000)}2`;
    const id1 = findingId(ACCOUNT_ID, REGION, long1, CHECKS.vpc);
    expect(id1.length).toBeLessThanOrEqual(512);
    expect(id1.endsWith('/vpc-encryption-enforced')).toBe(true);
    expect(id1).not.toBe(findingId(ACCOUNT_ID, REGION, long2, CHECKS.vpc));
  });

  it('carries CreatedAt and FirstObservedAt over from the previous finding with the same Id', () => {
    const first = findingForVerdict(vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor' }), ctx);
    const later = '2026-01-16T10:00:00.000Z';
    const second = findingForVerdict(vpcVerdict(), { takenAt: later, previous: first });
    expect(second).toMatchObject({
      CreatedAt: TAKEN_AT,
      FirstObservedAt: TAKEN_AT,
      UpdatedAt: later,
      LastObservedAt: later,
    });
    const unrelated = findingForVerdict(vpcVerdict(), {
      takenAt: later,
      previous: { ...first, Id: 'vecguard/other' },
    });
    expect(unrelated.CreatedAt).toBe(later);
  });

  it('bumps UpdatedAt by 1 ms when the snapshot is not newer than the previous finding', () => {
    const first = findingForVerdict(vpcVerdict(), { takenAt: '2026-01-16T10:00:00.000Z' });
    const replay = findingForVerdict(vpcVerdict(), { takenAt: TAKEN_AT, previous: first });
    expect(replay.UpdatedAt).toBe('2026-01-16T10:00:00.001Z');
  });

  it('reads back the resource a finding is about', () => {
    const f = findingForVerdict(vpcVerdict(), ctx);
    expect(findingResourceId(f)).toBe(VPC_ID);
    expect(findingResourceId({ ...f, ProductFields: {} })).toBe(VPC_ID);
    expect(findingResourceId({ ...f, ProductFields: {}, Id: 'someone-else/1' })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property tests

const arbText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength: Math.min(maxLength, 200) }),
    // Control characters: each is six bytes of JSON (\u0001), the worst case for the size limit.
    fc.string({ unit: fc.constantFrom('\u0001', '\u001f', '"', '\\', '\ud83d\ude00'), maxLength }),
  );

const arbBlocker: fc.Arbitrary<Blocker> = fc.record({
  id: fc
    .oneof(
      fc
        .constantFrom('eni-', 'i-', 'igw-', 'nat-', 'pcx-', 'vgw-', 'arn:aws:lambda:x:', '')
        .chain((prefix) => arbText(80).map((rest) => `${prefix}${rest}`)),
      arbText(2000).map((rest) => `eni-${rest}`),
    )
    .filter((id) => id.length > 0),
  type: arbText(300),
  description: arbText(2000),
  isExcludable: fc.boolean(),
  kind: fc.constantFrom(...BLOCKER_KINDS),
  instanceId: fc.option(arbText(600), { nil: undefined }),
});

const arbVpcVerdict: fc.Arbitrary<VpcVerdict> = fc.record({
  vpcId: fc.oneof(
    fc.constant(VPC_ID),
    arbText(1500).map((s) => `vpc-${s}`),
  ),
  name: arbText(1500),
  accountId: fc.constant(ACCOUNT_ID),
  region: fc.constantFrom(REGION, 'us-east-1', 'cn-northwest-1', 'us-gov-east-1', 'ap-southeast-5'),
  verdict: fc.constantFrom(...VERDICT_KINDS),
  desiredMode: fc.constantFrom('enforce' as const, 'monitor' as const, 'ignore' as const),
  policySource: arbText(500),
  currentMode: fc.constantFrom('enforce' as const, 'monitor' as const, null),
  controlState: fc.option(arbText(300), { nil: null }),
  reasons: fc.array(arbText(800), { maxLength: 20 }),
  blockers: fc.oneof(
    fc.array(arbBlocker, { maxLength: 10 }),
    fc.array(arbBlocker, { minLength: 30, maxLength: 300 }),
  ),
  exclusionsNeeded: fc.subarray([...EXCLUSION_NAMES]),
  exclusionsRefused: fc.subarray([...EXCLUSION_NAMES]),
  exclusionsEnabled: fc.subarray([...EXCLUSION_NAMES]),
});

describe('limits hold for any verdict (property)', () => {
  it('any VPC verdict — huge blocker lists, long names, unicode — yields a valid finding within every limit', () => {
    fc.assert(
      fc.property(arbVpcVerdict, (verdict) => {
        const f = findingForVerdict(verdict, ctx);
        expectWithinLimits(f);
        const distinct = new Set(verdict.blockers.map((b) => b.id)).size;
        if (distinct > 32) expect(f.Description).toMatch(/ more blocking resources not attached/);
        if (f.Description.includes(' more blocking resources not attached'))
          expect(f.Resources).toHaveLength(32);
      }),
      { numRuns: 150 },
    );
  });

  it('the same verdict and context always give the same Id and the same JSON', () => {
    fc.assert(
      fc.property(arbVpcVerdict, (verdict) => {
        const copy = structuredClone(verdict);
        expect(JSON.stringify(findingForVerdict(copy, ctx))).toBe(
          JSON.stringify(findingForVerdict(verdict, ctx)),
        );
      }),
      { numRuns: 50 },
    );
  });

  it('the worst case — every string at its bound, in six-byte control characters — still fits 240 KB', () => {
    const worst = '\u0001'.repeat(10_000);
    const blockers = Array.from({ length: 200 }, (_, i) =>
      blocker(`eni-${i}${worst}`, 'instance', { type: worst, description: worst, instanceId: worst }),
    );
    const verdict = vpcVerdict({
      vpcId: `vpc-${worst}`,
      name: worst,
      verdict: 'BLOCKED',
      currentMode: 'monitor',
      controlState: worst,
      policySource: worst,
      reasons: Array.from({ length: 50 }, () => worst),
      blockers,
      exclusionsNeeded: [...EXCLUSION_NAMES],
      exclusionsRefused: [...EXCLUSION_NAMES],
      exclusionsEnabled: [...EXCLUSION_NAMES],
    });
    const f = findingForVerdict(verdict, ctx);
    expectWithinLimits(f);
    // Too big with every detail: the lean finding, without blockers' Details and optional product fields.
    expect(f.Resources).toHaveLength(32);
    expect(f.Resources[1]?.Details).toBeUndefined();
    expect(f.ProductFields?.[PRODUCT_FIELD.blockerIds]).toBeUndefined();
    expect(f.ProductFields?.[PRODUCT_FIELD.verdict]).toBe('BLOCKED');
  });

  it('keeps every detail when the finding fits, and goes lean only when it does not', () => {
    // 3 UTF-8 bytes a unit, the most a character keeps once displayText has escaped the controls.
    const big = '\u20ac'.repeat(1000);
    const blockers = Array.from({ length: 31 }, (_, i) =>
      blocker(`eni-${i}`, 'instance', { type: big, description: big, instanceId: big }),
    );
    const fits = findingForVerdict(
      vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor', blockers: blockers.slice(0, 3) }),
      ctx,
    );
    expect(fits.Resources[1]?.Details?.Other?.description).toHaveLength(1000);
    expect(fits.ProductFields?.[PRODUCT_FIELD.blockerIds]).toBe('eni-0, eni-1, eni-2');
    const lean = findingForVerdict(vpcVerdict({ verdict: 'BLOCKED', currentMode: 'monitor', blockers }), ctx);
    expectWithinLimits(lean);
    expect(lean.Resources).toHaveLength(32);
    expect(lean.Resources[1]?.Details).toBeUndefined();
    expect(lean.ProductFields?.[PRODUCT_FIELD.blockerIds]).toBeUndefined();
    expect(lean.ProductFields?.[PRODUCT_FIELD.blockerCount]).toBe('31');
  });

  it('Transit Gateway and peering findings stay within limits too', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: arbText(1000),
          vpcs: fc.array(arbText(600), { maxLength: 80 }),
          texts: fc.array(arbText(800), { maxLength: 20 }),
          tgw: fc.constantFrom(
            'TGW_ENCRYPTION_ENABLED',
            'TGW_ENCRYPTION_ENABLING',
            'TGW_ENCRYPTION_DISABLED',
          ),
          pcx: fc.constantFrom('PEERING_ENCRYPTED', 'PEERING_NEEDS_EXCLUSION', 'PEERING_NOT_APPLICABLE'),
        }),
        ({ id, vpcs, texts, tgw, pcx }) => {
          expectWithinLimits(
            findingForTransitGateway(
              tgwVerdict({
                transitGatewayId: `tgw-${id}`,
                verdict: tgw,
                encryptionSupport: texts[0] ?? '',
                unmetPreconditions: texts,
                attachedVpcIds: vpcs,
                reasons: texts,
              }),
              ctx,
            ),
          );
          expectWithinLimits(
            findingForPeering(
              peeringVerdict({
                peeringConnectionId: `pcx-${id}`,
                verdict: pcx,
                requesterVpcId: vpcs[0] ?? 'vpc-a',
                accepterVpcId: id,
                needsExclusionOn: vpcs,
                reasons: texts,
              }),
              ctx,
            ),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('every finding of any audit is valid, and Ids are unique within the report', () => {
    fc.assert(
      fc.property(arbSnapshot(), arbPolicy(), (snapshot, policy) => {
        const report = audit(snapshot, policy);
        const findings = findingsForAudit(report);
        expect(findings).toHaveLength(
          report.vpcs.length + report.transitGateways.length + report.peerings.length,
        );
        for (const f of findings) expectWithinLimits(f);
        expect(new Set(findings.map((f) => f.Id)).size).toBe(findings.length);
      }),
      { numRuns: 40 },
    );
  });
});

describe('findingsForAudit', () => {
  it('carries each previous finding over by Id', () => {
    const report = {
      accountId: ACCOUNT_ID,
      region: REGION,
      takenAt: '2026-01-20T00:00:00.000Z',
      managedElsewhere: false,
      vpcs: [vpcVerdict()],
      transitGateways: [tgwVerdict()],
      peerings: [peeringVerdict()],
    };
    const before = findingsForAudit({ ...report, takenAt: TAKEN_AT });
    const after = findingsForAudit(report, before);
    expect(after.map((f) => f.CreatedAt)).toEqual([TAKEN_AT, TAKEN_AT, TAKEN_AT]);
    expect(after.map((f) => f.UpdatedAt)).toEqual(Array(3).fill('2026-01-20T00:00:00.000Z'));
    expect(after.map((f) => f.GeneratorId)).toEqual([
      'vecguard/vpc-encryption-enforced',
      'vecguard/tgw-encryption-support',
      'vecguard/peering-encryption',
    ]);
  });
});
