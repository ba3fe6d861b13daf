/**
 * The remediation planner: from an audit report, the inventory it was made from and the policy, the
 * ordered list of actions that walks each VPC towards its desired mode (docs/design.md §5), with the safety rails
 * applied (gates, maintenance windows, change cap, cost limit). Pure and deterministic: the same inputs, in
 * any array order, give the same plan with the same ids, so a plan can be shown, approved and applied later.
 *
 * The path an existing VPC takes is fixed by AWS: CreateVpcEncryptionControl always starts in monitor, and
 * ModifyVpcEncryptionControl can switch to enforce only once no blocker remains that an enabled exclusion
 * does not cover. Every step is asynchronous, so a plan never chains monitor and enforce for one VPC: the
 * loop polls and plans enforce in a later iteration, from blockers AWS has actually reported.
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-encryption-controls.html
 */
import { ACTION_RISKS, type ActionKind, type GatedActionKind, isMutating } from './action-kinds.ts';
import { exclusionFor, guidanceFor } from './blockers.ts';
import { carriesEncryptionStatus, RECOMMENDED_FLOW_LOG_FORMAT } from './flow-logs.ts';
import { chooseCapableType, type InstanceChoice } from './instance-choice.ts';
import {
  type Blocker,
  EXCLUSION_NAMES,
  type ExclusionName,
  type Instance,
  type InstanceTypeInfo,
  type InventorySnapshot,
  type Vpc,
} from './model.ts';
import {
  inMaintenanceWindow,
  monthlyControlCostUsd,
  type Policy,
  type ResolvedVpcPolicy,
  resolveVpcPolicy,
} from './policy.ts';
import type { ActionParams, ActionStatus, PlannedAction, RemediationPlan } from './remediation-plan.ts';
import type { AuditReport, TransitGatewayVerdict, VerdictKind, VpcVerdict } from './verdict.ts';

export interface PlanOptions {
  /** The moment the plan is for (maintenance windows). Default: the snapshot's `takenAt`, for determinism. */
  readonly at?: Date;
  /** Override `policy.dryRun` (e.g. from a CLI flag). Dry-run plans exactly the same actions. */
  readonly dryRun?: boolean;
  /**
   * Changes the run may still make: what the caps per run and per sweep leave after the changes it (and its
   * sweep) already made, counted in the state table. Default: `limits.maxChangesPerRun`, a run's first plan.
   * The plan readies at most this many; the rest are `deferred-cap`, so nobody is asked to approve a change
   * the budget would hold back.
   */
  readonly changesLeft?: number;
}

/**
 * Verdicts that get no action at all, not even a flow log: vecguard does not act on exempt or managed VPCs,
 * waits for a transition to settle, and an ENFORCED VPC (no exclusion, so no clear-text flow for the field
 * to reveal) never gets an action.
 */
const NO_ACTION_VERDICTS: ReadonlySet<VerdictKind> = new Set([
  'ENFORCED',
  'TRANSITIONING',
  'EXEMPT',
  'MANAGED_ELSEWHERE',
]);

/** Instance states in which an instance no longer holds a network interface worth moving. */
const GONE_INSTANCE_STATES: ReadonlySet<string> = new Set(['shutting-down', 'terminated']);

/**
 * Plan order across the whole plan: every VPC gets its (cheap, harmless) monitor control before anyone's
 * workload is touched, and enforce comes last. Dependencies always point to a lower rank.
 */
const KIND_RANK: Readonly<Record<ActionKind, number>> = {
  'create-monitor-control': 0,
  'enable-exclusion': 1,
  'create-flow-log': 2,
  'enable-tgw-encryption': 3,
  'move-instance': 4,
  'disable-exclusion': 5,
  'switch-to-enforce': 6,
  'restore-enforce': 6,
  'manual-guidance': 7,
};

/** An action before the rails decide its status. */
type Draft = Omit<PlannedAction, 'status'>;

interface PlanContext {
  readonly report: AuditReport;
  readonly snapshot: InventorySnapshot;
  readonly policy: Policy;
  readonly instancesById: ReadonlyMap<string, Instance>;
  readonly instancesByVpc: ReadonlyMap<string, readonly Instance[]>;
  readonly typesByName: ReadonlyMap<string, InstanceTypeInfo>;
  /** `chooseCapableType` over the snapshot's catalogue, once per source type. */
  readonly choose: (instanceType: string) => InstanceChoice;
}

interface VpcContext extends PlanContext {
  readonly verdict: VpcVerdict;
  readonly vpc: Vpc | undefined;
  readonly resolved: ResolvedVpcPolicy;
}

interface DraftSpec {
  readonly resourceId: string;
  readonly detail?: string;
  readonly vpcId?: string;
  readonly reason: string;
  readonly params?: ActionParams;
  readonly dependsOn?: readonly string[];
  readonly monthlyCostDeltaUsd?: number;
}

function actionId(kind: ActionKind, resourceId: string, detail?: string): string {
  return detail === undefined ? `${kind}:${resourceId}` : `${kind}:${resourceId}:${detail}`;
}

function roundUsd(usd: number): number {
  return Math.round(usd * 100) / 100;
}

function formatUsd(usd: number): string {
  return `$${roundUsd(usd).toFixed(2)}`;
}

function byExclusionOrder(names: Iterable<ExclusionName>): ExclusionName[] {
  const set = new Set(names);
  return EXCLUSION_NAMES.filter((n) => set.has(n));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function gated(
  ctx: PlanContext,
  gates: ResolvedVpcPolicy['gates'],
  kind: GatedActionKind,
  spec: DraftSpec,
): Draft {
  return {
    id: actionId(kind, spec.resourceId, spec.detail),
    kind,
    accountId: ctx.report.accountId,
    region: ctx.report.region,
    ...(spec.vpcId === undefined ? {} : { vpcId: spec.vpcId }),
    resourceId: spec.resourceId,
    gate: gates[kind],
    risks: [...ACTION_RISKS[kind]],
    monthlyCostDeltaUsd: roundUsd(spec.monthlyCostDeltaUsd ?? 0),
    reason: spec.reason,
    dependsOn: [...(spec.dependsOn ?? [])],
    params: spec.params ?? {},
  };
}

function guidance(ctx: PlanContext, spec: DraftSpec): Draft {
  return {
    id: actionId('manual-guidance', spec.resourceId, spec.detail),
    kind: 'manual-guidance',
    accountId: ctx.report.accountId,
    region: ctx.report.region,
    ...(spec.vpcId === undefined ? {} : { vpcId: spec.vpcId }),
    resourceId: spec.resourceId,
    gate: 'manual',
    risks: [...ACTION_RISKS['manual-guidance']],
    monthlyCostDeltaUsd: 0,
    reason: spec.reason,
    dependsOn: [],
    params: spec.params ?? {},
  };
}

// --- instances ------------------------------------------------------------------------------------------

/** What to do about instances on types that cannot encrypt in transit: moves, or guidance. */
class InstanceWork {
  private readonly drafts: Draft[] = [];
  /** ASG name → members: never stopped one by one; their launch template is the fix. */
  private readonly asgMembers = new Map<string, Instance[]>();
  private readonly ctx: VpcContext;

  constructor(ctx: VpcContext) {
    this.ctx = ctx;
  }

  /**
   * An instance known to block (or about to block) enforce. `blocker` is absent when the instance comes
   * from the inventory of a VPC that has no control yet.
   */
  add(instance: Instance, blocker?: Blocker): void {
    const { ctx } = this;
    const vpcId = ctx.verdict.vpcId;
    if (instance.autoScalingGroupName !== undefined) {
      const members = this.asgMembers.get(instance.autoScalingGroupName) ?? [];
      members.push(instance);
      this.asgMembers.set(instance.autoScalingGroupName, members);
      return;
    }
    const choice = ctx.choose(instance.instanceType);
    const subject = `${instance.instanceId} (${instance.instanceType})`;
    switch (choice.kind) {
      case 'replacement':
        this.drafts.push(
          gated(ctx, ctx.resolved.gates, 'move-instance', {
            resourceId: instance.instanceId,
            vpcId,
            reason: `Move ${subject} to ${choice.instanceType} so that ${vpcId} can enforce: ${choice.reason}`,
            params: {
              instanceId: instance.instanceId,
              fromInstanceType: instance.instanceType,
              toInstanceType: choice.instanceType,
              driverCheckRequired: choice.driverCheckRequired,
            },
          }),
        );
        return;
      case 'already-capable':
        // Only a reported blocker reaches here: the inventory path skips capable instances.
        this.drafts.push(
          guidance(ctx, {
            resourceId: vpcId,
            detail: instance.instanceId,
            vpcId,
            reason: `${subject} runs a type that supports encryption in transit yet AWS lists it as blocking enforce on ${vpcId}; check its network interfaces, and stop and start it so that it lands on capable hardware.`,
            params: { resourceIds: [blocker?.id ?? instance.instanceId] },
          }),
        );
        return;
      case 'none':
        this.drafts.push(
          guidance(ctx, {
            resourceId: vpcId,
            detail: instance.instanceId,
            vpcId,
            reason: `${subject} blocks enforce on ${vpcId} and vecguard cannot choose a capable type for it: ${choice.reason}`,
            params: { resourceIds: [blocker?.id ?? instance.instanceId] },
          }),
        );
        return;
    }
  }

  done(): Draft[] {
    const { ctx } = this;
    const vpcId = ctx.verdict.vpcId;
    const asgDrafts = [...this.asgMembers.entries()].map(([group, members]) => {
      const ids = members.map((m) => m.instanceId).sort(compareStrings);
      const types = [...new Set(members.map((m) => m.instanceType))].sort(compareStrings);
      const suggestions = types.flatMap((t) => {
        const choice = ctx.choose(t);
        return choice.kind === 'replacement' ? [`${t} → ${choice.instanceType}`] : [];
      });
      const suggestion = suggestions.length > 0 ? ` (for example ${suggestions.join(', ')})` : '';
      return guidance(ctx, {
        resourceId: vpcId,
        detail: `asg/${group}`,
        vpcId,
        reason:
          `Auto Scaling group ${group} has ${ids.length} instance(s) on ${types.join(', ')} that cannot encrypt in transit in ${vpcId}; ` +
          `vecguard never stops group members, so set its launch template to a capable type${suggestion} or ` +
          'InstanceRequirements.RequireEncryptionInTransit=true, then start an instance refresh.',
        params: { resourceIds: ids, autoScalingGroupName: group },
      });
    });
    return [...this.drafts, ...asgDrafts];
  }
}

/** The inventory's instances of one VPC that run a known, non-capable type. */
function nonCapableInstancesOf(ctx: VpcContext): Instance[] {
  return (ctx.instancesByVpc.get(ctx.verdict.vpcId) ?? [])
    .filter((i) => !GONE_INSTANCE_STATES.has(i.state))
    .filter((i) => ctx.typesByName.get(i.instanceType)?.encryptionInTransitSupported === false)
    .sort((a, b) => compareStrings(a.instanceId, b.instanceId));
}

// --- exclusions ------------------------------------------------------------------------------------------

/**
 * The audit has already weighed each needed exclusion against the policy (and may accept a VpcPeering
 * exclusion for now that the policy does not list, while both peers walk to enforce): trust its
 * `exclusionsRefused` for what it needs, and fall back to the policy for anything it did not list.
 */
function isAcceptable(ctx: VpcContext, exclusion: ExclusionName): boolean {
  const { verdict } = ctx;
  if (verdict.exclusionsRefused.includes(exclusion)) return false;
  return (
    verdict.exclusionsNeeded.includes(exclusion) || ctx.resolved.acceptableExclusions.includes(exclusion)
  );
}

function enableExclusion(ctx: VpcContext, exclusion: ExclusionName, dependsOn: readonly string[]): Draft {
  const vpcId = ctx.verdict.vpcId;
  return gated(ctx, ctx.resolved.gates, 'enable-exclusion', {
    resourceId: vpcId,
    detail: exclusion,
    vpcId,
    reason: `${vpcId} needs the ${exclusion} exclusion to enforce, and the policy accepts it: traffic through that path stays unencrypted by the VPC.`,
    params: { exclusion },
    dependsOn,
  });
}

function refusedExclusion(ctx: VpcContext, exclusion: ExclusionName, blockerIds: readonly string[]): Draft {
  const vpcId = ctx.verdict.vpcId;
  const what = blockerIds.length > 0 ? blockerIds.join(', ') : `the ${exclusion} path`;
  return guidance(ctx, {
    resourceId: vpcId,
    detail: `exclusion/${exclusion}`,
    vpcId,
    reason: `${what} keeps ${vpcId} from enforcing unless the ${exclusion} exclusion is enabled, which the policy does not accept; remove the resource or add ${exclusion} to the acceptable exclusions.`,
    params: { exclusion, resourceIds: [...blockerIds] },
  });
}

// --- per verdict -----------------------------------------------------------------------------------------

function createMonitor(ctx: VpcContext, why: string): Draft {
  const vpcId = ctx.verdict.vpcId;
  const cost = monthlyControlCostUsd(ctx.policy);
  return gated(ctx, ctx.resolved.gates, 'create-monitor-control', {
    resourceId: vpcId,
    vpcId,
    reason: `${why}; a control in monitor mode shows what blocks enforce and is the only way an existing VPC reaches enforce (${formatUsd(cost)} a month at the policy price).`,
    params: { mode: 'monitor' },
    monthlyCostDeltaUsd: cost,
  });
}

/** UNMONITORED (or drifted to no control at all): monitor now; for enforce, start on what is known already. */
function planFromNothing(ctx: VpcContext, why: string): Draft[] {
  const monitor = createMonitor(ctx, why);
  if (ctx.verdict.desiredMode !== 'enforce') return [monitor];

  // Blockers are only reported once a control exists, but non-capable instances are already in the
  // inventory: move them now instead of losing an iteration. Exclusions and enforce wait: a control can be
  // modified only once AWS has made it available, so the next iteration plans them from the blockers it
  // then reports. An exclusion the policy refuses is said now, so nobody waits an iteration to learn it.
  const instances = new InstanceWork(ctx);
  for (const instance of nonCapableInstancesOf(ctx)) instances.add(instance);
  const refused = byExclusionOrder(ctx.verdict.exclusionsNeeded)
    .filter((e) => !ctx.verdict.exclusionsEnabled.includes(e) && !isAcceptable(ctx, e))
    .map((e) => refusedExclusion(ctx, e, []));
  return [monitor, ...refused, ...instances.done()];
}

/**
 * READY_TO_ENFORCE, BLOCKED, DRIFTED with a control: deal with each blocker, and plan the mode change only
 * when every remaining blocker is covered by an exclusion that is enabled or enabled by this plan.
 */
function planTowardsEnforce(ctx: VpcContext, enforceKind: 'switch-to-enforce' | 'restore-enforce'): Draft[] {
  const { verdict } = ctx;
  const vpcId = verdict.vpcId;
  const enabled = new Set(verdict.exclusionsEnabled);
  const toEnable = new Set<ExclusionName>();
  const reliedOn = new Set<ExclusionName>();
  const refused = new Map<ExclusionName, string[]>();
  const uncovered = new Set<string>();
  const drafts: Draft[] = [];
  const instances = new InstanceWork(ctx);

  const cover = (exclusion: ExclusionName, blockerId?: string): boolean => {
    if (enabled.has(exclusion) || isAcceptable(ctx, exclusion)) {
      if (!enabled.has(exclusion)) toEnable.add(exclusion);
      reliedOn.add(exclusion);
      return true;
    }
    const ids = refused.get(exclusion) ?? [];
    if (blockerId !== undefined) ids.push(blockerId);
    refused.set(exclusion, ids);
    return false;
  };

  const blockers = [...verdict.blockers].sort((a, b) => compareStrings(a.id, b.id));
  for (const blocker of blockers) {
    const instanceId = blocker.instanceId ?? (blocker.kind === 'instance' ? blocker.id : undefined);
    const instance = instanceId === undefined ? undefined : ctx.instancesById.get(instanceId);
    if (instance !== undefined) {
      instances.add(instance, blocker);
      uncovered.add(blocker.id);
      continue;
    }
    const exclusion = blocker.isExcludable ? exclusionFor(blocker.kind) : undefined;
    if (exclusion !== undefined && cover(exclusion, blocker.id)) continue;
    uncovered.add(blocker.id);
    if (exclusion === undefined) {
      drafts.push(
        guidance(ctx, {
          resourceId: vpcId,
          detail: blocker.id,
          vpcId,
          reason: `Enforce on ${vpcId} is blocked by ${guidanceFor(blocker)}`,
          params: { resourceIds: [blocker.id] },
        }),
      );
    }
  }
  // Exclusions the audit derived from the inventory (gateways, peerings) even when AWS lists no blocker.
  for (const exclusion of byExclusionOrder(verdict.exclusionsNeeded)) {
    if (!cover(exclusion)) uncovered.add(`exclusion/${exclusion}`);
  }

  const enableDrafts = byExclusionOrder(toEnable).map((e) => enableExclusion(ctx, e, []));
  const refusedDrafts = byExclusionOrder(refused.keys()).map((e) =>
    refusedExclusion(ctx, e, refused.get(e) ?? []),
  );
  drafts.push(...enableDrafts, ...refusedDrafts, ...instances.done());

  const exclusions = byExclusionOrder(reliedOn);
  const relying = exclusions.length > 0 ? ` relying on the ${exclusions.join(', ')} exclusion(s)` : '';
  if (uncovered.size === 0) {
    const reason =
      enforceKind === 'restore-enforce'
        ? `${vpcId} was enforced and drifted to ${verdict.currentMode ?? 'no control'}; nothing that cannot be excluded blocks it, so restore enforce${relying}.`
        : `Nothing that cannot be excluded blocks ${vpcId} any more, so switch it from monitor to enforce${relying}.`;
    drafts.push(
      gated(ctx, ctx.resolved.gates, enforceKind, {
        resourceId: vpcId,
        vpcId,
        reason,
        params: { mode: 'enforce', exclusions },
        dependsOn: enableDrafts.map((d) => d.id),
      }),
    );
  } else if (enforceKind === 'restore-enforce') {
    drafts.push(
      guidance(ctx, {
        resourceId: vpcId,
        detail: 'drift',
        vpcId,
        reason: `${vpcId} was enforced and drifted to ${verdict.currentMode ?? 'no control'}; enforce can be restored once ${uncovered.size} blocker(s) are moved, removed or excluded (${[...uncovered].join(', ')}).`,
        params: { resourceIds: [...uncovered].filter((id) => !id.startsWith('exclusion/')) },
      }),
    );
  }
  return drafts;
}

/** ENFORCED_WITH_EXCLUSIONS: drop exclusions nothing needs any more (e.g. VpcPeering once both peers enforce). */
function planDisableExclusions(ctx: VpcContext): Draft[] {
  const { verdict } = ctx;
  const vpcId = verdict.vpcId;
  const needed = new Set<ExclusionName>(verdict.exclusionsNeeded);
  for (const b of verdict.blockers) {
    const e = exclusionFor(b.kind);
    if (e !== undefined) needed.add(e);
  }
  return byExclusionOrder(verdict.exclusionsEnabled)
    .filter((e) => !needed.has(e))
    .map((exclusion) =>
      gated(ctx, ctx.resolved.gates, 'disable-exclusion', {
        resourceId: vpcId,
        detail: exclusion,
        vpcId,
        reason: `${vpcId} no longer has anything the ${exclusion} exclusion covers, so disabling it makes enforce apply to that path too.`,
        params: { exclusion },
      }),
    );
}

function planTransitionFailed(ctx: VpcContext): Draft[] {
  const { verdict } = ctx;
  const vpcId = verdict.vpcId;
  const message = ctx.vpc?.control?.stateMessage ?? verdict.reasons.join(' ');
  const detail = message.trim() === '' ? 'no state message' : message.trim().replace(/\.$/, '');
  return [
    guidance(ctx, {
      resourceId: vpcId,
      detail: 'transition-failed',
      vpcId,
      reason: `The encryption control of ${vpcId} is ${verdict.controlState ?? 'failed'} (${detail}); fix the cause, then retry the mode change.`,
      params: ctx.vpc?.control ? { resourceIds: [ctx.vpc.control.controlId] } : {},
    }),
  ];
}

function planVpc(ctx: VpcContext): Draft[] {
  const { verdict } = ctx;
  const mode = verdict.desiredMode;
  if (mode === 'ignore') return [];
  switch (verdict.verdict) {
    case 'UNMONITORED':
      return planFromNothing(ctx, `${verdict.vpcId} has no encryption control`);
    case 'READY_TO_ENFORCE':
    case 'BLOCKED':
      return mode === 'enforce' ? planTowardsEnforce(ctx, 'switch-to-enforce') : [];
    case 'DRIFTED':
      if (mode !== 'enforce') return [];
      return verdict.currentMode === null
        ? planFromNothing(ctx, `${verdict.vpcId} was enforced and has lost its encryption control`)
        : planTowardsEnforce(ctx, 'restore-enforce');
    case 'ENFORCED_WITH_EXCLUSIONS':
      return mode === 'enforce' ? planDisableExclusions(ctx) : [];
    case 'TRANSITION_FAILED':
      return planTransitionFailed(ctx);
    case 'ENFORCED':
    case 'TRANSITIONING':
    case 'EXEMPT':
    case 'MANAGED_ELSEWHERE':
      return [];
  }
}

function planFlowLog(ctx: VpcContext): Draft[] {
  const target = ctx.policy.flowLogs;
  const vpcId = ctx.verdict.vpcId;
  if (target === undefined) return [];
  const hasOne = ctx.snapshot.flowLogs.some(
    (f) => f.resourceId === vpcId && carriesEncryptionStatus(f.logFormat),
  );
  if (hasOne) return [];
  return [
    gated(ctx, ctx.resolved.gates, 'create-flow-log', {
      resourceId: vpcId,
      vpcId,
      reason: `${vpcId} has no flow log recording \${encryption-status}, and formats are immutable, so a new flow log to ${target.destination} shows which flows still travel in clear text.`,
      params: {
        flowLog: {
          destinationType: target.destinationType,
          destination: target.destination,
          ...(target.deliverLogsPermissionArn === undefined
            ? {}
            : { deliverLogsPermissionArn: target.deliverLogsPermissionArn }),
          logFormat: RECOMMENDED_FLOW_LOG_FORMAT,
        },
      },
    }),
  ];
}

function planTransitGateway(ctx: PlanContext, verdict: TransitGatewayVerdict): Draft[] {
  if (verdict.verdict !== 'TGW_ENCRYPTION_DISABLED') return [];
  const tgwId = verdict.transitGatewayId;
  const tgw = ctx.snapshot.transitGateways.find((t) => t.transitGatewayId === tgwId);
  const resolved = resolveVpcPolicy(ctx.policy, {
    accountId: ctx.snapshot.accountId,
    region: ctx.snapshot.region,
    organizationalUnitIds: ctx.snapshot.organizationalUnitIds,
    tags: tgw?.tags ?? {},
  });
  if (resolved.mode === 'ignore') return [];
  const attached = [...verdict.attachedVpcIds].sort(compareStrings);
  const unmet = [...verdict.unmetPreconditions].sort(compareStrings);
  if (unmet.length > 0) {
    return [
      guidance(ctx, {
        resourceId: tgwId,
        detail: 'preconditions',
        reason: `Encryption support cannot be enabled on ${tgwId} until these hold: ${unmet.join('; ')}.`,
        params: { transitGatewayId: tgwId, resourceIds: attached },
      }),
    ];
  }
  const price = monthlyControlCostUsd(ctx.policy);
  return [
    gated(ctx, resolved.gates, 'enable-tgw-encryption', {
      resourceId: tgwId,
      reason: `${tgwId} carries the traffic of ${attached.length} VPC(s) without encryption support; enabling it (which can take up to 14 days) bills every attached VPC at ${formatUsd(price)} a month.`,
      params: { transitGatewayId: tgwId, resourceIds: attached },
      monthlyCostDeltaUsd: attached.length * price,
    }),
  ];
}

// --- order and rails -------------------------------------------------------------------------------------

function compareDrafts(a: Draft, b: Draft): number {
  return KIND_RANK[a.kind] - KIND_RANK[b.kind] || compareStrings(a.id, b.id);
}

/**
 * Sort by rank and id, then make sure every dependency precedes its dependents (a depth-first placement
 * that keeps the sorted order wherever the dependencies allow it).
 */
function orderDrafts(drafts: readonly Draft[]): Draft[] {
  const byId = new Map(drafts.map((d) => [d.id, d]));
  const placed = new Set<string>();
  const ordered: Draft[] = [];
  const place = (draft: Draft, path: ReadonlySet<string>): void => {
    if (placed.has(draft.id)) return;
    if (path.has(draft.id)) throw new Error(`planner produced a dependency cycle through ${draft.id}`);
    const deeper = new Set(path).add(draft.id);
    for (const dep of [...draft.dependsOn].sort(compareStrings)) {
      const d = byId.get(dep);
      if (d !== undefined) place(d, deeper);
    }
    placed.add(draft.id);
    ordered.push(draft);
  };
  for (const d of [...drafts].sort(compareDrafts)) place(d, new Set());
  return ordered;
}

interface Rails {
  readonly windowOpen: boolean;
  readonly maxChanges: number;
  readonly maxCostCents: number;
}

function applyRails(ordered: readonly Draft[], rails: Rails): PlannedAction[] {
  const status = new Map<string, ActionStatus>();
  let changes = 0;
  let costCents = 0;
  return ordered.map((draft) => {
    const s = statusOf(draft);
    status.set(draft.id, s);
    return { ...draft, status: s };
  });

  function statusOf(draft: Draft): ActionStatus {
    if (!isMutating(draft.kind) || draft.gate === 'manual') return 'guidance';
    if (draft.gate === 'off') return 'skipped-off';
    if (!rails.windowOpen) return 'deferred-window';
    if (draft.dependsOn.some((d) => status.get(d) !== 'ready')) return 'blocked-by-dependency';
    if (changes + 1 > rails.maxChanges) return 'deferred-cap';
    const cents = Math.max(0, Math.round(draft.monthlyCostDeltaUsd * 100));
    if (cents > 0 && costCents + cents > rails.maxCostCents) return 'deferred-cap';
    changes += 1;
    costCents += cents;
    return 'ready';
  }
}

function summarise(actions: readonly PlannedAction[]): RemediationPlan['summary'] {
  const count = (pred: (a: PlannedAction) => boolean) => actions.filter(pred).length;
  const readyCents = actions
    .filter((a) => a.status === 'ready')
    .reduce((sum, a) => sum + Math.round(a.monthlyCostDeltaUsd * 100), 0);
  return {
    ready: count((a) => a.status === 'ready'),
    needApproval: count((a) => a.status === 'ready' && a.gate === 'approval'),
    deferred: count(
      (a) =>
        a.status === 'deferred-cap' || a.status === 'deferred-window' || a.status === 'blocked-by-dependency',
    ),
    skipped: count((a) => a.status === 'skipped-off'),
    guidance: count((a) => a.status === 'guidance'),
    monthlyCostDeltaUsd: readyCents / 100,
  };
}

/**
 * Plan the remediation of one account + Region. Every action carries its gate, risks, cost, reason and
 * dependencies; the rails then decide which are `ready` in this run. Dry-run plans exactly the same: it is
 * the applier that holds back.
 */
export function plan(
  report: AuditReport,
  snapshot: InventorySnapshot,
  policy: Policy,
  options: PlanOptions = {},
): RemediationPlan {
  const at = options.at ?? new Date(snapshot.takenAt);
  const choices = new Map<string, InstanceChoice>();
  const instancesByVpc = new Map<string, Instance[]>();
  for (const i of snapshot.instances) {
    const list = instancesByVpc.get(i.vpcId);
    if (list) list.push(i);
    else instancesByVpc.set(i.vpcId, [i]);
  }
  const ctx: PlanContext = {
    report,
    snapshot,
    policy,
    instancesById: new Map(snapshot.instances.map((i) => [i.instanceId, i])),
    instancesByVpc,
    typesByName: new Map(snapshot.instanceTypes.map((t) => [t.instanceType, t])),
    choose: (instanceType) => {
      const known = choices.get(instanceType);
      if (known !== undefined) return known;
      const choice = chooseCapableType(instanceType, snapshot.instanceTypes);
      choices.set(instanceType, choice);
      return choice;
    },
  };
  const vpcsById = new Map(snapshot.vpcs.map((v) => [v.vpcId, v]));

  const drafts: Draft[] = [];
  const verdicts = [...report.vpcs].sort((a, b) => compareStrings(a.vpcId, b.vpcId));
  // A declarative policy owns the controls of this account: report, never fight (docs/design.md §3).
  for (const verdict of report.managedElsewhere ? [] : verdicts) {
    const vpc = vpcsById.get(verdict.vpcId);
    const resolved = resolveVpcPolicy(policy, {
      accountId: snapshot.accountId,
      region: snapshot.region,
      organizationalUnitIds: snapshot.organizationalUnitIds,
      tags: vpc?.tags ?? {},
    });
    const vctx: VpcContext = { ...ctx, verdict, vpc, resolved };
    drafts.push(...planVpc(vctx));
    if (verdict.desiredMode !== 'ignore' && !NO_ACTION_VERDICTS.has(verdict.verdict)) {
      drafts.push(...planFlowLog(vctx));
    }
  }
  const tgws = [...report.transitGateways].sort((a, b) =>
    compareStrings(a.transitGatewayId, b.transitGatewayId),
  );
  for (const tgw of tgws) drafts.push(...planTransitGateway(ctx, tgw));

  // The first draft of an id wins; inputs were walked in sorted order, so which one is stable.
  const unique = new Map<string, Draft>();
  for (const d of drafts) if (!unique.has(d.id)) unique.set(d.id, d);
  const actions = applyRails(orderDrafts([...unique.values()]), {
    windowOpen: inMaintenanceWindow(policy, at),
    maxChanges: Math.max(0, Math.min(policy.limits.maxChangesPerRun, options.changesLeft ?? Infinity)),
    maxCostCents: Math.round(policy.limits.maxMonthlyCostUsd * 100),
  });

  return {
    accountId: report.accountId,
    region: report.region,
    plannedAt: snapshot.takenAt,
    dryRun: options.dryRun ?? policy.dryRun,
    actions,
    summary: summarise(actions),
  };
}
