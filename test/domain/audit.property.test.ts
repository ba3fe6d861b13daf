import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { audit } from '../../functions/domain/audit.ts';
import { CONTROL_STATES, type InventorySnapshot } from '../../functions/domain/model.ts';
import { type Policy, resolveVpcPolicy } from '../../functions/domain/policy.ts';
import {
  AuditReportSchema,
  PEERING_VERDICT_KINDS,
  TGW_VERDICT_KINDS,
  VERDICT_KINDS,
  type VerdictHistory,
} from '../../functions/domain/verdict.ts';
import {
  arbControl,
  arbPolicy,
  arbReordered,
  arbSnapshot,
  arbUnknownState,
  policy,
  snapshot,
} from './fixtures.ts';

const arbHistory = (s: InventorySnapshot): fc.Arbitrary<VerdictHistory> =>
  fc
    .tuple(
      ...s.vpcs.map((v) =>
        fc.option(fc.constantFrom(...VERDICT_KINDS), { nil: undefined }).map((k) => [v.vpcId, k]),
      ),
    )
    .map((entries) => Object.fromEntries(entries.filter(([, k]) => k !== undefined)) as VerdictHistory);

const arbInput = fc
  .tuple(arbSnapshot(), arbPolicy())
  .chain(([s, p]) =>
    arbHistory(s).map((h) => ({ s, p, h }) as { s: InventorySnapshot; p: Policy; h: VerdictHistory }),
  );

function resolvedFor(s: InventorySnapshot, p: Policy, vpcId: string) {
  const tags = s.vpcs.find((v) => v.vpcId === vpcId)?.tags ?? {};
  return resolveVpcPolicy(p, { ...s, tags });
}

describe('audit properties', () => {
  it('the arbitraries reach every verdict (so that the properties below are not vacuous)', () => {
    const seen = new Set<string>();
    for (const { s, p, h } of fc.sample(arbInput, { numRuns: 400, seed: 42 })) {
      const report = audit(s, p, h);
      for (const v of report.vpcs) {
        seen.add(v.verdict);
        if (
          v.verdict === 'BLOCKED' &&
          v.exclusionsRefused.length > 0 &&
          v.blockers.every((b) => b.isExcludable)
        ) {
          seen.add('BLOCKED only by a refused exclusion');
        }
      }
      for (const t of report.transitGateways) seen.add(t.verdict);
      for (const x of report.peerings) seen.add(x.verdict);
    }
    expect([...seen].sort()).toEqual(
      [
        ...VERDICT_KINDS,
        ...TGW_VERDICT_KINDS,
        ...PEERING_VERDICT_KINDS,
        'BLOCKED only by a refused exclusion',
      ].sort(),
    );
  });

  it('every VPC in gets exactly one verdict out, and the report matches its schema', () => {
    fc.assert(
      fc.property(arbInput, ({ s, p, h }) => {
        const report = audit(s, p, h);
        AuditReportSchema.parse(report);
        expect(report.vpcs.map((v) => v.vpcId)).toEqual(s.vpcs.map((v) => v.vpcId).sort());
      }),
    );
  });

  it('a VPC with a non-excludable blocker is never READY_TO_ENFORCE', () => {
    fc.assert(
      fc.property(arbInput, ({ s, p, h }) => {
        for (const v of audit(s, p, h).vpcs) {
          if (v.blockers.some((b) => !b.isExcludable)) expect(v.verdict).not.toBe('READY_TO_ENFORCE');
        }
      }),
    );
  });

  it('a VPC whose needed exclusion the policy refuses is never READY_TO_ENFORCE', () => {
    fc.assert(
      fc.property(arbInput, ({ s, p, h }) => {
        for (const v of audit(s, p, h).vpcs) {
          if (v.exclusionsRefused.length > 0) expect(v.verdict).not.toBe('READY_TO_ENFORCE');
        }
      }),
    );
  });

  it('READY_TO_ENFORCE only when every needed exclusion is acceptable or a temporary VpcPeering', () => {
    fc.assert(
      fc.property(arbInput, ({ s, p, h }) => {
        for (const v of audit(s, p, h).vpcs.filter((x) => x.verdict === 'READY_TO_ENFORCE')) {
          const acceptable = resolvedFor(s, p, v.vpcId).acceptableExclusions;
          for (const needed of v.exclusionsNeeded) {
            if (needed !== 'VpcPeering') expect(acceptable).toContain(needed);
          }
          expect(v.currentMode).toBe('monitor');
        }
      }),
    );
  });

  it('EXEMPT iff the resolved mode is ignore (outside declarative-policy accounts)', () => {
    fc.assert(
      fc.property(arbSnapshot({ managedBy: 'account' }), arbPolicy(), (s, p) => {
        const report = audit(s, p);
        for (const v of report.vpcs) {
          expect(v.verdict === 'EXEMPT').toBe(resolvedFor(s, p, v.vpcId).mode === 'ignore');
        }
      }),
    );
  });

  it('a declarative-policy account yields only MANAGED_ELSEWHERE', () => {
    fc.assert(
      fc.property(arbSnapshot({ managedBy: 'declarative-policy' }), arbPolicy(), (s, p) => {
        const report = audit(s, p);
        expect(report.managedElsewhere).toBe(true);
        for (const v of report.vpcs) expect(v.verdict).toBe('MANAGED_ELSEWHERE');
      }),
    );
  });

  it('is deterministic and independent of the order of the snapshot arrays', () => {
    fc.assert(
      fc.property(
        arbInput.chain(({ s, p, h }) => arbReordered(s).map((r) => ({ s, r, p, h }))),
        ({ s, r, p, h }) => {
          const first = audit(s, p, h);
          expect(audit(s, p, h)).toEqual(first);
          expect(audit(r, p, h)).toEqual(first);
        },
      ),
    );
  });

  it('unknown control state strings never throw and yield TRANSITIONING', () => {
    fc.assert(
      fc.property(arbControl(), arbUnknownState(), arbPolicy(), (c, state, p) => {
        const s = snapshot({ vpcs: [{ vpcId: 'vpc-a', control: { ...c, state } }] });
        const v = audit(s, p).vpcs[0];
        if (v?.verdict === 'EXEMPT') return;
        expect(v?.verdict).toBe('TRANSITIONING');
      }),
    );
  });

  it('unknown exclusion state strings on a settled control yield TRANSITIONING', () => {
    fc.assert(
      fc.property(arbControl(), arbUnknownState(), (c, state) => {
        const s = snapshot({
          vpcs: [
            { vpcId: 'vpc-a', control: { ...c, state: 'available', exclusions: { Lambda: { state } } } },
          ],
        });
        expect(audit(s, policy()).vpcs[0]?.verdict).toBe('TRANSITIONING');
      }),
    );
  });

  it('ENFORCED* exactly when the control is settled in enforce with settled exclusions', () => {
    fc.assert(
      fc.property(arbInput, ({ s, p, h }) => {
        for (const v of audit(s, p, h).vpcs) {
          if (v.verdict === 'ENFORCED' || v.verdict === 'ENFORCED_WITH_EXCLUSIONS') {
            expect(v.currentMode).toBe('enforce');
            expect(v.controlState?.trim().toLowerCase()).toBe('available');
            expect(v.verdict === 'ENFORCED_WITH_EXCLUSIONS').toBe(v.exclusionsEnabled.length > 0);
          }
          if (v.verdict === 'TRANSITION_FAILED') expect(v.controlState).toMatch(/-failed$/i);
          if (v.verdict === 'TRANSITIONING') {
            expect(v.controlState).not.toBeNull();
            expect(['deleted', ...CONTROL_STATES.filter((x) => x.endsWith('-failed'))]).not.toContain(
              v.controlState?.trim().toLowerCase(),
            );
          }
        }
      }),
    );
  });
});
