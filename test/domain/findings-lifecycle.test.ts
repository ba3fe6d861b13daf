import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Finding, FindingSchema, jsonByteLength, nextUpdatedAt } from '../../functions/domain/asff.ts';
import { InvalidInputError } from '../../functions/domain/errors.ts';
import {
  CHECKS,
  findingForPeering,
  findingForTransitGateway,
  findingForVerdict,
  findingId,
  PRODUCT_FIELD,
} from '../../functions/domain/findings.ts';
import { batchFindings, reconcileFindings } from '../../functions/domain/findings-lifecycle.ts';
import { type VpcVerdict, VpcVerdictSchema } from '../../functions/domain/verdict.ts';
import { ACCOUNT_ID, REGION, TAKEN_AT } from './fixtures.ts';

const LATER = '2026-01-16T10:00:00.000Z';

function vpcVerdict(vpcId: string, over: Partial<VpcVerdict> = {}): VpcVerdict {
  return VpcVerdictSchema.parse({
    vpcId,
    name: vpcId,
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: 'BLOCKED',
    desiredMode: 'enforce',
    policySource: 'defaults',
    currentMode: 'monitor',
    controlState: 'available',
    reasons: ['An instance type cannot encrypt in transit.'],
    blockers: [{ id: 'eni-1', type: 'x', description: '', isExcludable: false, kind: 'instance' }],
    exclusionsNeeded: [],
    exclusionsRefused: [],
    exclusionsEnabled: [],
    ...over,
  });
}

const findingAt = (vpcId: string, takenAt = TAKEN_AT, over: Partial<VpcVerdict> = {}) =>
  findingForVerdict(vpcVerdict(vpcId, over), { takenAt });

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe('reconcileFindings', () => {
  it('imports every current finding, each with an UpdatedAt after the previous one and its CreatedAt kept', () => {
    const previous = [findingAt('vpc-a'), findingAt('vpc-b')];
    const current = [
      findingAt('vpc-a', LATER, { verdict: 'ENFORCED', currentMode: 'enforce' }),
      findingAt('vpc-b', LATER),
    ];
    const { toImport, resolvedIds, archivedIds } = reconcileFindings(current, previous, { takenAt: LATER });
    expect(toImport.map((f) => f.Id)).toEqual(current.map((f) => f.Id));
    for (const f of toImport) {
      expect(f.CreatedAt).toBe(TAKEN_AT);
      expect(f.FirstObservedAt).toBe(TAKEN_AT);
      expect(f.UpdatedAt).toBe(LATER);
    }
    expect(toImport[0]?.Compliance?.Status).toBe('PASSED');
    expect([resolvedIds, archivedIds]).toEqual([[], []]);
  });

  it('bumps UpdatedAt by 1 ms when the run is not newer than what Security Hub holds', () => {
    const previous = [findingAt('vpc-a', LATER)];
    const { toImport } = reconcileFindings([findingAt('vpc-a', TAKEN_AT)], previous, { takenAt: TAKEN_AT });
    expect(only(toImport).UpdatedAt).toBe('2026-01-16T10:00:00.001Z');
  });

  it('resolves a previous finding that is not produced again while its resource still exists', () => {
    const previous = [findingAt('vpc-a'), findingAt('vpc-gone-from-scope')];
    const { toImport, resolvedIds } = reconcileFindings([findingAt('vpc-a', LATER)], previous, {
      takenAt: LATER,
      liveResourceIds: new Set(['vpc-a', 'vpc-gone-from-scope']),
    });
    const resolved = toImport[1] as Finding;
    expect(resolvedIds).toEqual([previous[1]?.Id]);
    expect(resolved).toMatchObject({
      Id: previous[1]?.Id,
      RecordState: 'ACTIVE',
      UpdatedAt: LATER,
      CreatedAt: TAKEN_AT,
      Compliance: { Status: 'PASSED', StatusReasons: [{ ReasonCode: 'RESOLVED' }] },
      FindingProviderFields: { Severity: { Label: 'INFORMATIONAL', Original: 'RESOLVED' } },
    });
    expect(resolved.Title.startsWith('Resolved: ')).toBe(true);
    expect(
      resolved.Description.startsWith(`Resolved ${LATER}: vecguard no longer reports this problem.`),
    ).toBe(true);
    expect(resolved.ProductFields?.[PRODUCT_FIELD.resolvedAt]).toBe(LATER);
    expect(FindingSchema.safeParse(resolved).success).toBe(true);
  });

  it('archives a previous finding whose resource is gone, by id or by ARN', () => {
    const previous = [findingAt('vpc-deleted'), findingAt('vpc-kept')];
    const live = new Set([`arn:aws:ec2:${REGION}:${ACCOUNT_ID}:vpc/vpc-kept`]);
    const { toImport, archivedIds, resolvedIds } = reconcileFindings([], previous, {
      takenAt: LATER,
      liveResourceIds: live,
    });
    expect(archivedIds).toEqual([previous[0]?.Id]);
    expect(resolvedIds).toEqual([previous[1]?.Id]);
    expect(toImport[0]).toMatchObject({ RecordState: 'ARCHIVED', UpdatedAt: LATER });
    expect(toImport[0]?.Description).toMatch(
      /^Archived 2026-01-16T10:00:00.000Z: the resource no longer exists\./,
    );
    expect(toImport[1]).toMatchObject({ RecordState: 'ACTIVE', Compliance: { Status: 'PASSED' } });
  });

  it('archives Transit Gateway and peering findings whose resources are gone', () => {
    const tgw = findingForTransitGateway(
      {
        transitGatewayId: 'tgw-1',
        accountId: ACCOUNT_ID,
        region: REGION,
        verdict: 'TGW_ENCRYPTION_DISABLED',
        encryptionSupport: 'disable',
        unmetPreconditions: [],
        attachedVpcIds: [],
        reasons: [],
      },
      { takenAt: TAKEN_AT },
    );
    const pcx = findingForPeering(
      {
        peeringConnectionId: 'pcx-1',
        accountId: ACCOUNT_ID,
        region: REGION,
        verdict: 'PEERING_NEEDS_EXCLUSION',
        requesterVpcId: 'vpc-a',
        accepterVpcId: 'vpc-b',
        needsExclusionOn: ['vpc-a'],
        reasons: [],
      },
      { takenAt: TAKEN_AT },
    );
    const { archivedIds } = reconcileFindings([], [tgw, pcx], { takenAt: LATER, liveResourceIds: new Set() });
    expect(archivedIds).toEqual([tgw.Id, pcx.Id]);
  });

  it('does not send again a finding already archived, nor one it already resolved', () => {
    const archived = { ...findingAt('vpc-old'), RecordState: 'ARCHIVED' as const };
    const resolvedBefore = only(
      reconcileFindings([], [findingAt('vpc-quiet')], {
        takenAt: TAKEN_AT,
        liveResourceIds: new Set(['vpc-quiet']),
      }).toImport,
    );
    const { toImport } = reconcileFindings([], [archived, resolvedBefore], {
      takenAt: LATER,
      liveResourceIds: new Set(['vpc-old', 'vpc-quiet']),
    });
    expect(toImport).toEqual([]);
  });

  it('archives a finding it resolved earlier once its resource is gone', () => {
    const resolvedBefore = only(
      reconcileFindings([], [findingAt('vpc-quiet')], { takenAt: TAKEN_AT }).toImport,
    );
    const { archivedIds } = reconcileFindings([], [resolvedBefore], {
      takenAt: LATER,
      liveResourceIds: new Set(),
    });
    expect(archivedIds).toEqual([resolvedBefore.Id]);
  });

  it('brings an archived finding back to ACTIVE when its problem is produced again', () => {
    const archived = { ...findingAt('vpc-back'), RecordState: 'ARCHIVED' as const };
    const { toImport } = reconcileFindings([findingAt('vpc-back', LATER)], [archived], { takenAt: LATER });
    expect(only(toImport)).toMatchObject({ RecordState: 'ACTIVE', CreatedAt: TAKEN_AT, UpdatedAt: LATER });
  });

  it('without liveResourceIds it resolves and never archives', () => {
    const { resolvedIds, archivedIds } = reconcileFindings([], [findingAt('vpc-a')], { takenAt: LATER });
    expect([resolvedIds.length, archivedIds.length]).toEqual([1, 0]);
  });

  it('leaves findings of other products alone and handles a duplicated previous finding once', () => {
    const foreign = { ...findingAt('vpc-a'), Id: 'arn:aws:securityhub:eu-west-1::control/EC2.1/finding/1' };
    const mine = findingAt('vpc-b');
    const { toImport } = reconcileFindings([], [foreign, mine, mine], { takenAt: LATER });
    expect(toImport.map((f) => f.Id)).toEqual([mine.Id]);
  });

  it('refuses two current findings with one Id: one verdict per resource and check', () => {
    expect(() => reconcileFindings([findingAt('vpc-a'), findingAt('vpc-a')], [], { takenAt: LATER })).toThrow(
      InvalidInputError,
    );
  });

  it('keeps ProductFields within 50 entries when adding its note', () => {
    const crowded = findingAt('vpc-a');
    const fields = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v']));
    const resolved = only(
      reconcileFindings(
        [],
        [{ ...crowded, ProductFields: { ...fields, [PRODUCT_FIELD.resourceId]: 'vpc-a' } }],
        {
          takenAt: LATER,
        },
      ).toImport,
    );
    expect(Object.keys(resolved.ProductFields ?? {})).toHaveLength(50);
    expect(FindingSchema.safeParse(resolved).success).toBe(true);
  });

  it('UpdatedAt strictly increases over any sequence of runs, whatever their clocks (property)', () => {
    const arbClock = fc
      .integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') })
      .map((ms) => new Date(ms).toISOString());
    const arbRun = fc.record({
      takenAt: arbClock,
      present: fc.subarray(['vpc-a', 'vpc-b', 'vpc-c']),
      live: fc.subarray(['vpc-a', 'vpc-b', 'vpc-c']),
    });
    fc.assert(
      fc.property(fc.array(arbRun, { minLength: 1, maxLength: 8 }), (runs) => {
        const stored = new Map<string, Finding>();
        for (const run of runs) {
          const current = run.present.map((id) => {
            const previous = stored.get(findingId(ACCOUNT_ID, REGION, id, CHECKS.vpc));
            return findingForVerdict(vpcVerdict(id), {
              takenAt: run.takenAt,
              ...(previous ? { previous } : {}),
            });
          });
          const { toImport } = reconcileFindings(current, [...stored.values()], {
            takenAt: run.takenAt,
            liveResourceIds: new Set(run.live),
          });
          for (const f of toImport) {
            const before = stored.get(f.Id);
            if (before) expect(Date.parse(f.UpdatedAt)).toBeGreaterThan(Date.parse(before.UpdatedAt));
            if (before) expect(f.CreatedAt).toBe(before.CreatedAt);
            // An archived finding is sent again only when its problem is produced again.
            if (before?.RecordState === 'ARCHIVED') expect(current.map((c) => c.Id)).toContain(f.Id);
            stored.set(f.Id, f);
          }
        }
      }),
    );
  });
});

describe('nextUpdatedAt', () => {
  it('is the run time when newer, else 1 ms after the previous UpdatedAt', () => {
    expect(nextUpdatedAt(LATER, TAKEN_AT)).toBe(LATER);
    expect(nextUpdatedAt(TAKEN_AT, TAKEN_AT)).toBe('2026-01-15T10:00:00.001Z');
    expect(nextUpdatedAt(TAKEN_AT)).toBe(TAKEN_AT);
    expect(nextUpdatedAt('2026-01-15T10:00:00Z', 'not a date')).toBe(TAKEN_AT);
    expect(nextUpdatedAt(TAKEN_AT, '2026-01-15T10:00:00.000500Z')).toBe('2026-01-15T10:00:00.001Z');
  });
});

describe('batchFindings', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => findingAt(`vpc-${i}`));

  it('sends at most 100 findings per call, in order, and no empty call', () => {
    const findings = many(250);
    const batches = batchFindings(findings);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(findings);
    expect(batchFindings([])).toEqual([]);
  });

  it('keeps every call within the byte limit, counting the request envelope', () => {
    const findings = many(10);
    const size = jsonByteLength(findings[0]);
    const maxBytes = 14 + 3 * size + 2 + 10; // three findings and their commas, with a little slack
    const batches = batchFindings(findings, { maxBytes });
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    for (const b of batches) expect(jsonByteLength({ Findings: b })).toBeLessThanOrEqual(maxBytes);
  });

  it('respects both limits for any findings and limits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 5_000, max: 60_000 }),
        (n, maxCount, maxBytes) => {
          const findings = many(n);
          const batches = batchFindings(findings, { maxCount, maxBytes });
          expect(batches.flat()).toEqual(findings);
          for (const b of batches) {
            expect(b.length).toBeGreaterThanOrEqual(1);
            expect(b.length).toBeLessThanOrEqual(maxCount);
            expect(jsonByteLength({ Findings: b })).toBeLessThanOrEqual(maxBytes);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses limits Security Hub would not accept, and a finding that cannot fit any call', () => {
    expect(() => batchFindings([], { maxCount: 0 })).toThrow(InvalidInputError);
    expect(() => batchFindings([], { maxCount: 101 })).toThrow(InvalidInputError);
    expect(() => batchFindings([], { maxCount: 2.5 })).toThrow(InvalidInputError);
    expect(() => batchFindings([], { maxBytes: 7_000_000 })).toThrow(InvalidInputError);
    expect(() => batchFindings([], { maxBytes: 10 })).toThrow(InvalidInputError);
    expect(() => batchFindings(many(1), { maxBytes: 500 })).toThrow(/cannot fit a 500-byte call/);
  });
});
