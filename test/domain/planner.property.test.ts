/**
 * Properties of the planner over wide inputs: verdicts of every kind built directly (so that DRIFTED,
 * TRANSITION_FAILED and inconsistent corners are reached), and whole audit → plan runs on arbitrary
 * snapshots.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_KINDS,
  GATED_ACTION_KINDS,
  type Gate,
  isMutating,
} from '../../functions/domain/action-kinds.ts';
import { audit } from '../../functions/domain/audit.ts';
import { classifyBlocker } from '../../functions/domain/blockers.ts';
import { RECOMMENDED_FLOW_LOG_FORMAT } from '../../functions/domain/flow-logs.ts';
import {
  EXCLUSION_NAMES,
  type ExclusionName,
  type Instance,
  type InstanceTypeInfo,
  type InventorySnapshot,
  type RawBlocker,
} from '../../functions/domain/model.ts';
import { plan } from '../../functions/domain/planner.ts';
import { type Policy, type PolicyInput, resolveVpcPolicy } from '../../functions/domain/policy.ts';
import {
  ActionStatusSchema,
  type RemediationPlan,
  RemediationPlanSchema,
} from '../../functions/domain/remediation-plan.ts';
import {
  type AuditReport,
  TGW_VERDICT_KINDS,
  type TransitGatewayVerdict,
  VERDICT_KINDS,
  type VpcVerdict,
} from '../../functions/domain/verdict.ts';
import {
  ACCOUNT_ID,
  arbPolicy,
  arbReordered,
  arbSnapshot,
  policy,
  REGION,
  snapshot,
  TAKEN_AT,
} from './fixtures.ts';

const RUNS = { numRuns: 300 };

const info = (
  instanceType: string,
  vcpus: number,
  memoryMiB: number,
  capable: boolean,
  over: Partial<InstanceTypeInfo> = {},
): InstanceTypeInfo => ({
  instanceType,
  vcpus,
  memoryMiB,
  architectures: ['x86_64'],
  hypervisor: 'nitro',
  currentGeneration: true,
  encryptionInTransitSupported: capable,
  ...over,
});

const CATALOGUE: readonly InstanceTypeInfo[] = [
  info('m4.large', 2, 8192, false, { hypervisor: 'xen', currentGeneration: false }),
  info('t3.large', 2, 8192, false),
  info('m5.large', 2, 8192, false),
  info('c5.large', 2, 4096, false),
  info('m6g.large', 2, 8192, false, { architectures: ['arm64'] }),
  info('x1e.32xlarge', 128, 3997696, false, { hypervisor: 'xen' }),
  info('m6i.large', 2, 8192, true),
  info('c6i.large', 2, 4096, true),
  info('m7g.large', 2, 8192, true, { architectures: ['arm64'] }),
];
const INSTANCE_TYPES = [...CATALOGUE.map((t) => t.instanceType), 'zz9.large'];

const hex = fc.stringMatching(/^[0-9a-f]{6}$/);
const arbExclusions = fc.subarray([...EXCLUSION_NAMES]);
const arbGate = fc.constantFrom<Gate>('auto', 'approval', 'off');
const arbGates = fc.record(Object.fromEntries(GATED_ACTION_KINDS.map((k) => [k, arbGate])), {
  requiredKeys: [],
});

// --- a world built from verdicts --------------------------------------------------------------------------

interface World {
  readonly report: AuditReport;
  readonly snapshot: InventorySnapshot;
  readonly policy: Policy;
  readonly at: Date | undefined;
}

const arbInstances = (vpcId: string, index: number): fc.Arbitrary<Instance[]> =>
  fc
    .uniqueArray(
      fc.record({
        n: fc.integer({ min: 0, max: 9 }),
        instanceType: fc.constantFrom(...INSTANCE_TYPES),
        state: fc.constantFrom('running', 'running', 'stopped', 'terminated'),
        asg: fc.option(fc.constantFrom('asg-a', 'asg-b'), { nil: undefined }),
      }),
      { maxLength: 4, selector: (i) => i.n },
    )
    .map((list) =>
      list.map(({ n, instanceType, state, asg }) => ({
        instanceId: `i-${index}${n}`,
        instanceType,
        vpcId,
        state,
        tags: {},
        networkInterfaceIds: [],
        ...(asg === undefined ? {} : { autoScalingGroupName: asg }),
      })),
    );

const OTHER_BLOCKERS = ['igw-', 'eigw-', 'nat-', 'vgw-', 'pcx-', 'vpce-', 'xyz-', 'i-missing', 'fs-'];

const arbBlockers = (instances: readonly Instance[]): fc.Arbitrary<RawBlocker[]> =>
  fc.uniqueArray(
    fc.record({
      id: fc.oneof(
        ...(instances.length > 0 ? [fc.constantFrom(...instances.map((i) => i.instanceId))] : []),
        fc.tuple(fc.constantFrom(...OTHER_BLOCKERS), hex).map(([p, h]) => `${p}${h}`),
        fc.constant('arn:aws:rds:eu-west-1:111122223333:db:orders'),
      ),
      type: fc.constant(''),
      description: fc.constantFrom('', 'Gateway Load Balancer endpoint', 'Network Firewall endpoint'),
      isExcludable: fc.boolean(),
    }),
    { maxLength: 5, selector: (b) => b.id },
  );

interface VpcPart {
  readonly verdict: VpcVerdict;
  readonly instances: Instance[];
  readonly tags: Record<string, string>;
  readonly hasFlowLog: boolean;
}

const arbVpcPart = (vpcId: string, index: number): fc.Arbitrary<VpcPart> =>
  arbInstances(vpcId, index).chain((instances) =>
    fc
      .record({
        kind: fc.constantFrom(...VERDICT_KINDS),
        desiredMode: fc.constantFrom(
          'enforce' as const,
          'enforce' as const,
          'monitor' as const,
          'ignore' as const,
        ),
        lostControl: fc.boolean(),
        blockers: arbBlockers(instances),
        needed: arbExclusions,
        refusedMask: fc.array(fc.boolean(), {
          minLength: EXCLUSION_NAMES.length,
          maxLength: EXCLUSION_NAMES.length,
        }),
        enabled: arbExclusions,
        env: fc.option(fc.constantFrom('prod', 'dev'), { nil: undefined }),
        hasFlowLog: fc.boolean(),
        reasons: fc.array(fc.constantFrom('Internal error.', 'Resources are blocking enforce.'), {
          maxLength: 2,
        }),
      })
      .map((r) => {
        const currentMode =
          r.kind === 'UNMONITORED' || (r.kind === 'DRIFTED' && r.lostControl)
            ? null
            : r.kind === 'ENFORCED' || r.kind === 'ENFORCED_WITH_EXCLUSIONS'
              ? 'enforce'
              : 'monitor';
        const verdict: VpcVerdict = {
          vpcId,
          name: vpcId,
          accountId: ACCOUNT_ID,
          region: REGION,
          verdict: r.kind,
          desiredMode: r.desiredMode,
          policySource: 'defaults',
          currentMode,
          controlState:
            currentMode === null ? null : r.kind === 'TRANSITION_FAILED' ? 'enforce-failed' : 'available',
          reasons: r.reasons,
          blockers: r.blockers.map((b) => classifyBlocker(b)),
          exclusionsNeeded: r.needed,
          exclusionsRefused: r.needed.filter((_, i) => r.refusedMask[i]),
          exclusionsEnabled: r.enabled,
        };
        return {
          verdict,
          instances,
          tags: r.env === undefined ? ({} as Record<string, string>) : { env: r.env },
          hasFlowLog: r.hasFlowLog,
        };
      }),
  );

const arbTgwVerdicts = (vpcIds: readonly string[]): fc.Arbitrary<TransitGatewayVerdict[]> =>
  fc.uniqueArray(
    fc.record({
      transitGatewayId: hex.map((h) => `tgw-${h}`),
      accountId: fc.constant(ACCOUNT_ID),
      region: fc.constant(REGION),
      verdict: fc.constantFrom(...TGW_VERDICT_KINDS),
      encryptionSupport: fc.constant('disable'),
      unmetPreconditions: fc.subarray([
        'multicast support is on',
        'a Connect attachment',
        'a peering attachment',
      ]),
      attachedVpcIds: fc.subarray([...vpcIds]),
      reasons: fc.constant([]),
    }),
    { maxLength: 2, selector: (t) => t.transitGatewayId },
  );

const arbPolicyInput: fc.Arbitrary<Omit<PolicyInput, 'version'>> = fc.record({
  dryRun: fc.boolean(),
  limits: fc.record({
    maxChangesPerRun: fc.integer({ min: 0, max: 12 }),
    maxMonthlyCostUsd: fc.constantFrom(0, 50, 110, 250, 1000, 100_000),
  }),
  maintenanceWindows: fc.oneof(
    fc.constant<NonNullable<PolicyInput['maintenanceWindows']>>([]),
    fc
      .record({
        days: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, { minLength: 1 }),
        start: fc.constantFrom('00:00', '09:00', '22:00'),
        end: fc.constantFrom('06:00', '12:00', '23:30'),
      })
      .map((w) => [w]),
  ),
  flowLogs: fc.option(
    fc.constant({ destinationType: 's3' as const, destination: 'arn:aws:s3:::flow-logs' }),
    {
      nil: undefined,
    },
  ),
  defaults: fc.record({ acceptableExclusions: arbExclusions, actions: arbGates }),
  targets: fc.array(
    fc.record({
      name: fc.constantFrom('prod', 'dev'),
      vpcTags: fc.constantFrom({ env: 'prod' }, { env: 'dev' }),
      mode: fc.constantFrom('enforce' as const, 'monitor' as const),
      actions: arbGates,
    }),
    { maxLength: 2 },
  ),
});

const arbWorld: fc.Arbitrary<World> = fc.uniqueArray(hex, { maxLength: 6 }).chain((hexes) => {
  const vpcIds = hexes.map((h) => `vpc-${h}`);
  return fc
    .record({
      parts: fc.tuple(...vpcIds.map((id, i) => arbVpcPart(id, i))),
      tgws: arbTgwVerdicts(vpcIds),
      policy: arbPolicyInput.map((p) => policy(p)),
      at: fc.option(
        fc.integer({ min: 0, max: 7 * 24 * 60 }).map((m) => new Date(Date.parse(TAKEN_AT) + m * 60_000)),
        { nil: undefined },
      ),
      managedElsewhere: fc.oneof(
        { weight: 9, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    })
    .map(({ parts, tgws, policy, at, managedElsewhere }) => ({
      report: {
        accountId: ACCOUNT_ID,
        region: REGION,
        takenAt: TAKEN_AT,
        managedElsewhere,
        vpcs: parts.map((p) => p.verdict),
        transitGateways: tgws,
        peerings: [],
      },
      snapshot: snapshot({
        vpcs: parts.map((p) => ({
          vpcId: p.verdict.vpcId,
          tags: p.tags,
          control:
            p.verdict.currentMode === null
              ? null
              : {
                  controlId: `vpcec-${p.verdict.vpcId.slice(4)}`,
                  mode: p.verdict.currentMode,
                  state: p.verdict.controlState ?? 'available',
                },
        })),
        instances: parts.flatMap((p) => p.instances),
        instanceTypes: [...CATALOGUE],
        flowLogs: parts
          .filter((p) => p.hasFlowLog)
          .map((p) => ({
            flowLogId: `fl-${p.verdict.vpcId}`,
            resourceId: p.verdict.vpcId,
            logFormat: RECOMMENDED_FLOW_LOG_FORMAT,
          })),
      }),
      policy,
      at,
    }));
});

const permute = <T>(items: readonly T[]): fc.Arbitrary<T[]> =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });

/** The same world with every array that carries no meaning in its order shuffled. */
const arbShuffled = (w: World): fc.Arbitrary<World> =>
  fc
    .record({
      vpcs: permute(w.report.vpcs).chain((vs) =>
        fc.tuple(
          ...vs.map((v) =>
            fc
              .record({
                blockers: permute(v.blockers),
                exclusionsNeeded: permute(v.exclusionsNeeded),
                exclusionsRefused: permute(v.exclusionsRefused),
                exclusionsEnabled: permute(v.exclusionsEnabled),
              })
              .map((arrays) => ({ ...v, ...arrays })),
          ),
        ),
      ),
      transitGateways: permute(w.report.transitGateways).chain((ts) =>
        fc.tuple(
          ...ts.map((t) =>
            fc
              .record({
                attachedVpcIds: permute(t.attachedVpcIds),
                unmetPreconditions: permute(t.unmetPreconditions),
              })
              .map((arrays) => ({ ...t, ...arrays })),
          ),
        ),
      ),
      snapVpcs: permute(w.snapshot.vpcs),
      instances: permute(w.snapshot.instances),
      instanceTypes: permute(w.snapshot.instanceTypes),
      flowLogs: permute(w.snapshot.flowLogs),
    })
    .map((s) => ({
      ...w,
      report: { ...w.report, vpcs: s.vpcs, transitGateways: s.transitGateways },
      snapshot: {
        ...w.snapshot,
        vpcs: s.snapVpcs,
        instances: s.instances,
        instanceTypes: s.instanceTypes,
        flowLogs: s.flowLogs,
      },
    }));

const planOf = (w: World): RemediationPlan => plan(w.report, w.snapshot, w.policy, w.at ? { at: w.at } : {});

// --- invariants shared by both kinds of input ------------------------------------------------------------

function checkInvariants(
  p: RemediationPlan,
  report: AuditReport,
  snap: InventorySnapshot,
  pol: Policy,
): void {
  expect(RemediationPlanSchema.safeParse(p).success).toBe(true);
  const position = new Map(p.actions.map((a, i) => [a.id, i]));
  expect(position.size, 'ids are unique').toBe(p.actions.length);

  const verdictOf = new Map(report.vpcs.map((v) => [v.vpcId, v]));
  const monitored = new Set(p.actions.filter((a) => a.kind === 'create-monitor-control').map((a) => a.vpcId));
  const instances = new Map(snap.instances.map((i) => [i.instanceId, i]));
  const tagsOf = new Map(snap.vpcs.map((v) => [v.vpcId, v.tags]));

  for (const [i, a] of p.actions.entries()) {
    // Every dependency exists and comes earlier.
    for (const dep of a.dependsOn) {
      const at = position.get(dep);
      expect(at, `${a.id} depends on ${dep}`).toBeDefined();
      expect(at ?? Number.POSITIVE_INFINITY).toBeLessThan(i);
    }
    const v = a.vpcId === undefined ? undefined : verdictOf.get(a.vpcId);
    if (v) {
      expect(v.verdict, `${a.id}: an ENFORCED VPC never gets an action`).not.toBe('ENFORCED');
      expect(['TRANSITIONING', 'EXEMPT', 'MANAGED_ELSEWHERE']).not.toContain(v.verdict);
      expect(v.desiredMode, `${a.id}: an ignored VPC gets nothing`).not.toBe('ignore');
      // The gate is the policy's for this VPC.
      if (a.kind !== 'manual-guidance') {
        const resolved = resolveVpcPolicy(pol, {
          accountId: snap.accountId,
          region: snap.region,
          organizationalUnitIds: snap.organizationalUnitIds,
          tags: tagsOf.get(v.vpcId) ?? {},
        });
        expect(a.gate).toBe(resolved.gates[a.kind]);
      }
    }
    if (a.kind === 'switch-to-enforce' || a.kind === 'restore-enforce') {
      expect(monitored.has(a.vpcId), `${a.id} in the same plan as its VPC's monitor control`).toBe(false);
      expect(v?.desiredMode).toBe('enforce');
      // Each exclusion it relies on is enabled already or by an earlier action it depends on.
      for (const e of a.params.exclusions ?? []) {
        const enabling = `enable-exclusion:${a.vpcId}:${e}`;
        const ok =
          (v?.exclusionsEnabled ?? []).includes(e as ExclusionName) || a.dependsOn.includes(enabling);
        expect(ok, `${a.id} relies on ${e}`).toBe(true);
      }
    }
    if (a.kind === 'move-instance') {
      const target = instances.get(a.resourceId);
      expect(target?.autoScalingGroupName, `${a.id} targets an ASG member`).toBeUndefined();
      expect(
        CATALOGUE.find((t) => t.instanceType === a.params.toInstanceType)?.encryptionInTransitSupported,
      ).toBe(true);
    }
    if (a.status === 'ready') expect(a.gate === 'auto' || a.gate === 'approval').toBe(true);
    if (a.gate === 'off') expect(a.status).toBe('skipped-off');
    if (a.kind === 'manual-guidance') expect([a.gate, a.status]).toEqual(['manual', 'guidance']);
  }

  const ready = p.actions.filter((a) => a.status === 'ready' && isMutating(a.kind));
  expect(ready.length).toBeLessThanOrEqual(pol.limits.maxChangesPerRun);
  const readyCost = ready.reduce((sum, a) => sum + Math.max(0, a.monthlyCostDeltaUsd), 0);
  expect(readyCost).toBeLessThanOrEqual(pol.limits.maxMonthlyCostUsd + 1e-9);
  expect(p.summary.ready).toBe(ready.length);
  expect(
    p.summary.ready + p.summary.deferred + p.summary.skipped + p.summary.guidance,
    'every action is counted once',
  ).toBe(p.actions.length);
}

describe('planner properties (verdicts of every kind)', () => {
  it('holds every invariant: order, gates, caps, no action on ENFORCED, ASG members never moved', () => {
    fc.assert(
      fc.property(arbWorld, (w) => checkInvariants(planOf(w), w.report, w.snapshot, w.policy)),
      RUNS,
    );
  });

  it('the same inputs, in any array order, give the same plan and ids', () => {
    fc.assert(
      fc.property(
        arbWorld.chain((w) => fc.tuple(fc.constant(w), arbShuffled(w))),
        ([w, shuffled]) => {
          const p = planOf(w);
          expect(planOf(w)).toEqual(p);
          expect(planOf(shuffled)).toEqual(p);
        },
      ),
      RUNS,
    );
  });

  it('an off gate never yields a ready action of that kind', () => {
    fc.assert(
      fc.property(arbWorld, fc.constantFrom(...GATED_ACTION_KINDS), (w, kind) => {
        const off = policy({
          defaults: { actions: { [kind]: 'off' } },
          limits: { maxChangesPerRun: 1000, maxMonthlyCostUsd: 1e9 },
        });
        const p = planOf({ ...w, policy: off });
        expect(p.actions.filter((a) => a.kind === kind && a.status === 'ready')).toEqual([]);
      }),
      RUNS,
    );
  });

  it('outside every maintenance window nothing is ready', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        // TAKEN_AT is a Thursday; a window only on Sundays at 03:00–04:00 UTC is closed then.
        const closed = {
          ...w.policy,
          maintenanceWindows: [{ days: ['sun' as const], start: '03:00', end: '04:00', timezone: 'UTC' }],
        };
        const p = plan(w.report, w.snapshot, closed);
        expect(p.actions.filter((a) => a.status === 'ready')).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('dry-run changes nothing but the flag', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const p = planOf(w);
        const dry = plan(
          w.report,
          w.snapshot,
          { ...w.policy, dryRun: !w.policy.dryRun },
          w.at ? { at: w.at } : {},
        );
        expect({ ...dry, dryRun: p.dryRun }).toEqual(p);
      }),
      { numRuns: 100 },
    );
  });
});

// --- audit → plan on arbitrary snapshots ----------------------------------------------------------------

/** Add instances (some in ASGs) and the catalogue to a fixture snapshot, so that moves are planned. */
const withInstances = (s: InventorySnapshot): fc.Arbitrary<InventorySnapshot> =>
  fc
    .tuple(...s.vpcs.map((v, i) => arbInstances(v.vpcId, i)))
    .map((lists) => ({ ...s, instances: lists.flat(), instanceTypes: [...CATALOGUE] }));

const arbAudited = fc
  .tuple(arbSnapshot().chain(withInstances), arbPolicy())
  .chain(([s, p]) => fc.tuple(fc.constant(s), arbReordered(s), fc.constant(p)));

describe('planner properties (audit → plan)', () => {
  it('holds every invariant on audited snapshots', () => {
    fc.assert(
      fc.property(arbAudited, ([s, , p]) => {
        const report = audit(s, p);
        checkInvariants(plan(report, s, p), report, s, p);
      }),
      RUNS,
    );
  });

  it('a snapshot with its arrays in another order gives the same plan', () => {
    fc.assert(
      fc.property(arbAudited, ([s, reordered, p]) => {
        expect(plan(audit(reordered, p), reordered, p)).toEqual(plan(audit(s, p), s, p));
      }),
      RUNS,
    );
  });
});

describe('the generators reach every corner', () => {
  it('plans from generated verdicts contain every action kind and every status', () => {
    const plans = fc.sample(arbWorld, { numRuns: 400, seed: 20260115 }).map(planOf);
    const kinds = new Set(plans.flatMap((p) => p.actions.map((a) => a.kind)));
    const statuses = new Set(plans.flatMap((p) => p.actions.map((a) => a.status)));
    expect([...kinds].sort()).toEqual([...ACTION_KINDS].sort());
    expect([...statuses].sort()).toEqual([...ActionStatusSchema.options].sort());
  });

  it('audited snapshots yield monitors, exclusions, enforce and moves', () => {
    const plans = fc
      .sample(arbAudited, { numRuns: 400, seed: 20260115 })
      .map(([s, , p]) => plan(audit(s, p), s, p));
    const kinds = new Set(plans.flatMap((p) => p.actions.map((a) => a.kind)));
    for (const k of [
      'create-monitor-control',
      'enable-exclusion',
      'switch-to-enforce',
      'move-instance',
    ] as const) {
      expect(kinds).toContain(k);
    }
  });
});
