/**
 * The rules behind a VPC's verdict (docs/design.md §4), one entry each, the way cdk-nag writes its rules: a
 * rule is a pure function of what the audit knows about one VPC (`VpcFacts`) and either decides the verdict,
 * with the reasons a person reads, or says it is `NOT_APPLICABLE`. `VPC_RULES` is evaluated in its order and
 * the first rule that applies decides.
 *
 * The order is the precedence: who manages the account comes first (a declarative policy means vecguard only
 * reports), then the policy (an exempt VPC is reported as exempt whatever its control), then the control's
 * own lifecycle. The lifecycle rules are mutually exclusive — each names the control state it covers — so
 * that only the first two rules rely on their place in the table.
 */
import { exclusionFor } from './blockers.ts';
import { type Blocker, type EncryptionControl, EXCLUSION_NAMES, type ExclusionName } from './model.ts';
import type { ResolvedVpcPolicy } from './policy.ts';
import type { VerdictKind } from './verdict.ts';

/** The exclusions a VPC's blockers and inventory call for, and what the policy makes of them. */
export interface ExclusionAnalysis {
  readonly needed: readonly ExclusionName[];
  readonly refused: readonly ExclusionName[];
  /**
   * Set when VpcPeering is needed and refused by the policy but accepted for now, because every peering behind
   * the need leads to a same-Region VPC the policy also wants in enforce.
   */
  readonly temporaryPeeringVia: readonly string[];
}

/** What the audit knows about one VPC, indexed and classified once (audit.ts builds it). */
export interface VpcFacts {
  /** A declarative policy manages the account's controls (`ManagedBy=declarative-policy`). */
  readonly managedElsewhere: boolean;
  /** The account-level mode, when the account control was read. */
  readonly accountMode: string | undefined;
  readonly desired: Pick<ResolvedVpcPolicy, 'mode' | 'source'>;
  readonly control: EncryptionControl | null;
  /** Classified, in a stable order. */
  readonly blockers: readonly Blocker[];
  readonly exclusions: ExclusionAnalysis;
  /** The verdict of the previous audit, if there was one. */
  readonly previous: VerdictKind | undefined;
}

export interface RuleVerdict {
  readonly verdict: VerdictKind;
  readonly reasons: readonly string[];
}

export const NOT_APPLICABLE = 'NOT_APPLICABLE';
export type RuleOutcome = RuleVerdict | typeof NOT_APPLICABLE;

export interface VpcRule {
  /** Stable, kebab-case; tests name rules by it. */
  readonly id: string;
  readonly decide: (facts: VpcFacts) => RuleOutcome;
}

const FAILED_STATES: ReadonlySet<string> = new Set(['monitor-failed', 'enforce-failed', 'delete-failed']);
const KNOWN_TRANSITION_STATES: ReadonlySet<string> = new Set([
  'creating',
  'monitor-in-progress',
  'enforce-in-progress',
  'deleting',
]);
const SETTLED_EXCLUSION_STATES: ReadonlySet<string> = new Set(['enabled', 'disabled']);
const ACTIVE_EXCLUSION_STATES: ReadonlySet<string> = new Set(['enabled', 'enabling']);
const WAS_ENFORCED: ReadonlySet<VerdictKind> = new Set(['ENFORCED', 'ENFORCED_WITH_EXCLUSIONS', 'DRIFTED']);
/** How many resource ids a reason names before it says "and N more". */
const MAX_IDS_IN_REASON = 10;

/** State strings are open and AWS's casing is not promised: compare them trimmed and lower-cased. */
export function norm(state: string): string {
  return state.trim().toLowerCase();
}

export function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_REASON).join(', ');
  return ids.length > MAX_IDS_IN_REASON ? `${shown} and ${ids.length - MAX_IDS_IN_REASON} more` : shown;
}

/** The exclusions whose state is enabled or enabling. */
export function enabledExclusions(control: EncryptionControl | null): ExclusionName[] {
  if (!control) return [];
  return EXCLUSION_NAMES.filter((name) => {
    const status = control.exclusions[name];
    return status !== undefined && ACTIVE_EXCLUSION_STATES.has(norm(status.state));
  });
}

function describeBlocker(b: Blocker): string {
  return `${b.id} (${b.kind})`;
}

/** Exclusions neither enabled nor disabled yet, each with its state (and AWS's message, if any). */
function movingExclusions(control: EncryptionControl): string[] {
  return EXCLUSION_NAMES.flatMap((name) => {
    const status = control.exclusions[name];
    if (status === undefined || SETTLED_EXCLUSION_STATES.has(norm(status.state))) return [];
    const message = status.stateMessage ? ` (${status.stateMessage})` : '';
    return [`${name} ${status.state}${message}`];
  });
}

/** The control is available and none of its exclusions is changing: its mode is what AWS applies. */
function settledIn(
  control: EncryptionControl | null,
  mode: 'monitor' | 'enforce',
): control is EncryptionControl {
  return (
    control !== null &&
    control.mode === mode &&
    norm(control.state) === 'available' &&
    movingExclusions(control).length === 0
  );
}

function wasEnforced(f: VpcFacts): boolean {
  return f.previous !== undefined && WAS_ENFORCED.has(f.previous);
}

function wasEnforcedReason(f: VpcFacts): string {
  return `The previous audit found it ${f.previous}: it was enforced and no longer is.`;
}

/** Drift is news only when the policy still wants enforce; a VPC moved to monitor on purpose has not drifted. */
function driftReason(f: VpcFacts): string | undefined {
  return wasEnforced(f) && f.desired.mode === 'enforce' ? wasEnforcedReason(f) : undefined;
}

function monitorWantedReason(f: VpcFacts): string | undefined {
  return f.desired.mode === 'monitor' ? `The policy asks for monitor (${f.desired.source}).` : undefined;
}

function present(...reasons: (string | undefined)[]): string[] {
  return reasons.filter((r): r is string => r !== undefined);
}

/** Why a VPC in monitor cannot be enforced yet; empty when it can. */
export function readinessProblems(blockers: readonly Blocker[], exclusions: ExclusionAnalysis): string[] {
  const problems: string[] = [];
  const nonExcludable = blockers.filter((b) => !b.isExcludable);
  if (nonExcludable.length > 0) {
    problems.push(
      `${nonExcludable.length} blocking resource(s) have no exclusion and must be moved or removed: ${listIds(nonExcludable.map(describeBlocker))}.`,
    );
  }
  // AWS says excludable but vecguard cannot tell which exclusion: never guess, keep the VPC blocked.
  const unmapped = blockers.filter((b) => b.isExcludable && exclusionFor(b.kind) === undefined);
  if (unmapped.length > 0) {
    problems.push(
      `AWS reports ${listIds(unmapped.map(describeBlocker))} as excludable, but vecguard cannot tell which exclusion covers it; check it by hand.`,
    );
  }
  if (exclusions.refused.length > 0) {
    problems.push(
      `Enforce needs the exclusion(s) ${exclusions.refused.join(', ')}, which the policy does not accept.`,
    );
  }
  return problems;
}

function temporaryPeeringReason(f: VpcFacts): string | undefined {
  const via = f.exclusions.temporaryPeeringVia;
  return via.length > 0
    ? `The VpcPeering exclusion is accepted for now: ${listIds(via)} lead(s) to VPCs the policy also wants in enforce; once both sides are enforced it can be disabled.`
    : undefined;
}

/** Resources that cannot encrypt in transit, which no exclusion covers. */
function hardBlockers(f: VpcFacts): Blocker[] {
  return f.blockers.filter((b) => !b.isExcludable);
}

/** A declarative policy owns the account's controls: vecguard reports and never fights it (§3). */
export const managedElsewhere: VpcRule = {
  id: 'managed-elsewhere',
  decide: (f) =>
    f.managedElsewhere
      ? {
          verdict: 'MANAGED_ELSEWHERE',
          reasons: [
            `A declarative policy manages VPC encryption controls in this account (account mode ${f.accountMode ?? 'unknown'}); vecguard reports and does not act.`,
            f.control
              ? `The VPC's control is in ${f.control.mode} mode, state ${f.control.state}.`
              : 'The VPC has no encryption control.',
          ],
        }
      : NOT_APPLICABLE,
};

/** The policy (or the vecguard:ignore tag) exempts the VPC: reported, never acted on. */
export const exempt: VpcRule = {
  id: 'exempt',
  decide: (f) =>
    f.desired.mode === 'ignore'
      ? {
          verdict: 'EXEMPT',
          reasons: [
            `The policy exempts this VPC (${f.desired.source}); vecguard reports it and never acts on it.`,
          ],
        }
      : NOT_APPLICABLE,
};

/**
 * No control, or a deleted one: nothing is monitored. A VPC that was enforced and lost its control is
 * UNMONITORED, not DRIFTED — the first step back is the same as for a new VPC — and its reasons tell the drift.
 */
export const unmonitored: VpcRule = {
  id: 'unmonitored',
  decide: (f) => {
    if (f.control !== null && norm(f.control.state) !== 'deleted') return NOT_APPLICABLE;
    return {
      verdict: 'UNMONITORED',
      reasons: present(
        f.control
          ? `Its encryption control ${f.control.controlId} has been deleted: traffic is neither monitored nor enforced.`
          : 'The VPC has no encryption control: traffic is neither monitored nor enforced.',
        monitorWantedReason(f),
        driftReason(f),
      ),
    };
  },
};

/** AWS refused a transition and says why in StateMessage; a person must read it. */
export const transitionFailed: VpcRule = {
  id: 'transition-failed',
  decide: (f) => {
    if (f.control === null || !FAILED_STATES.has(norm(f.control.state))) return NOT_APPLICABLE;
    return {
      verdict: 'TRANSITION_FAILED',
      reasons: present(
        `The control ${f.control.controlId} is in ${f.control.state}: ${f.control.stateMessage ?? 'AWS gave no StateMessage'}.`,
        driftReason(f),
      ),
    };
  },
};

/**
 * The control is on its way somewhere (docs/design.md §2: everything is asynchronous). A state vecguard does not
 * know is treated the same way — wait and look again — never guessed to be settled.
 */
export const controlInTransition: VpcRule = {
  id: 'control-in-transition',
  decide: (f) => {
    if (f.control === null) return NOT_APPLICABLE;
    const state = norm(f.control.state);
    if (state === 'available' || state === 'deleted' || FAILED_STATES.has(state)) return NOT_APPLICABLE;
    return {
      verdict: 'TRANSITIONING',
      reasons: present(
        KNOWN_TRANSITION_STATES.has(state)
          ? `The control ${f.control.controlId} is in ${f.control.state} (mode ${f.control.mode}); wait for it to settle.`
          : `The control ${f.control.controlId} is in ${JSON.stringify(f.control.state)}, a state vecguard does not know; it is treated as in transition.`,
        f.control.stateMessage ? `AWS says: ${f.control.stateMessage}` : undefined,
        driftReason(f),
      ),
    };
  },
};

/** The control is available but an exclusion is still enabling or disabling: its mode does not yet say it all. */
export const exclusionsInTransition: VpcRule = {
  id: 'exclusions-in-transition',
  decide: (f) => {
    if (f.control === null || norm(f.control.state) !== 'available') return NOT_APPLICABLE;
    const moving = movingExclusions(f.control);
    if (moving.length === 0) return NOT_APPLICABLE;
    return {
      verdict: 'TRANSITIONING',
      reasons: present(
        `Exclusion(s) still changing: ${moving.join(', ')}; wait for them to settle.`,
        driftReason(f),
      ),
    };
  },
};

/**
 * Enforce is on, yet a resource that cannot encrypt is in the VPC (launched or retyped around EC2's checks):
 * DRIFTED when an earlier audit saw it enforced, whatever the policy now wants; BLOCKED otherwise.
 */
export const enforcedButBreached: VpcRule = {
  id: 'enforced-but-breached',
  decide: (f) => {
    const hard = hardBlockers(f);
    if (!settledIn(f.control, 'enforce') || hard.length === 0) return NOT_APPLICABLE;
    return {
      verdict: wasEnforced(f) ? 'DRIFTED' : 'BLOCKED',
      reasons: present(
        `The control is in enforce, but ${hard.length} resource(s) that cannot encrypt in transit are in the VPC (they got in around the enforcement check): ${listIds(hard.map(describeBlocker))}.`,
        wasEnforced(f) ? wasEnforcedReason(f) : undefined,
      ),
    };
  },
};

/**
 * Enforced: with or without exclusions. Exclusions the policy refuses or nothing needs any more are named, and
 * a policy asking for monitor is noted but never acted on: vecguard does not weaken an enforced VPC.
 */
export const enforced: VpcRule = {
  id: 'enforced',
  decide: (f) => {
    if (!settledIn(f.control, 'enforce') || hardBlockers(f).length > 0) return NOT_APPLICABLE;
    const enabled = enabledExclusions(f.control);
    const refusedEnabled = enabled.filter((e) => f.exclusions.refused.includes(e));
    const unneeded = enabled.filter((e) => !f.exclusions.needed.includes(e));
    const monitorWanted = monitorWantedReason(f);
    return {
      verdict: enabled.length === 0 ? 'ENFORCED' : 'ENFORCED_WITH_EXCLUSIONS',
      reasons: present(
        enabled.length === 0
          ? 'Encryption in transit is enforced, with no exclusions.'
          : `Encryption in transit is enforced, with the exclusion(s) ${enabled.join(', ')}.`,
        refusedEnabled.length > 0
          ? `The policy does not accept the enabled exclusion(s) ${refusedEnabled.join(', ')}.`
          : undefined,
        unneeded.length > 0
          ? `Nothing in the inventory needs the exclusion(s) ${unneeded.join(', ')} any more.`
          : undefined,
        monitorWanted ? `${monitorWanted} vecguard does not weaken an enforced VPC.` : undefined,
      ),
    };
  },
};

/** Was enforced, the policy still wants enforce, and the control is back in monitor: restore it. */
export const driftedToMonitor: VpcRule = {
  id: 'drifted-to-monitor',
  decide: (f) => {
    const drift = driftReason(f);
    if (!settledIn(f.control, 'monitor') || drift === undefined) return NOT_APPLICABLE;
    const problems = readinessProblems(f.blockers, f.exclusions);
    return {
      verdict: 'DRIFTED',
      reasons: present(
        `${drift} The control is back in monitor.`,
        ...problems,
        problems.length === 0 ? 'Nothing blocks enforce: it can be restored.' : undefined,
        temporaryPeeringReason(f),
      ),
    };
  },
};

/**
 * In monitor, and enforce would fail: a resource without an exclusion, one vecguard cannot map to an
 * exclusion, or an exclusion the policy refuses. Also the verdict of a VPC the policy keeps in monitor: it
 * says whether enforce would be possible.
 */
export const blockedInMonitor: VpcRule = {
  id: 'blocked-in-monitor',
  decide: (f) => {
    if (!settledIn(f.control, 'monitor') || driftReason(f) !== undefined) return NOT_APPLICABLE;
    const problems = readinessProblems(f.blockers, f.exclusions);
    if (problems.length === 0) return NOT_APPLICABLE;
    return { verdict: 'BLOCKED', reasons: present(monitorInPlaceReason(f), ...problems) };
  },
};

/** In monitor, and every blocker is covered by an exclusion the policy accepts: enforce can go ahead. */
export const readyToEnforce: VpcRule = {
  id: 'ready-to-enforce',
  decide: (f) => {
    if (!settledIn(f.control, 'monitor') || driftReason(f) !== undefined) return NOT_APPLICABLE;
    if (readinessProblems(f.blockers, f.exclusions).length > 0) return NOT_APPLICABLE;
    return {
      verdict: 'READY_TO_ENFORCE',
      reasons: present(
        monitorInPlaceReason(f),
        f.exclusions.needed.length === 0
          ? 'The VPC is in monitor and nothing blocks enforce.'
          : `The VPC is in monitor and every blocker is covered by an acceptable exclusion: ${f.exclusions.needed.join(', ')}.`,
        temporaryPeeringReason(f),
      ),
    };
  },
};

function monitorInPlaceReason(f: VpcFacts): string | undefined {
  const monitorWanted = monitorWantedReason(f);
  return monitorWanted
    ? `${monitorWanted} The VPC is in monitor, where it should be; this verdict says whether enforce would be possible.`
    : undefined;
}

/** In precedence order: the first rule that applies decides the verdict. */
export const VPC_RULES: readonly VpcRule[] = [
  managedElsewhere,
  exempt,
  unmonitored,
  transitionFailed,
  controlInTransition,
  exclusionsInTransition,
  enforcedButBreached,
  enforced,
  driftedToMonitor,
  blockedInMonitor,
  readyToEnforce,
];

/**
 * The verdict of the first rule in `rules` that applies. The lifecycle rules of `VPC_RULES` cover every
 * control state, so with them some rule always applies; a table that leaves a case open is a defect, thrown.
 */
export function decideVerdict(facts: VpcFacts, rules: readonly VpcRule[] = VPC_RULES): RuleVerdict {
  for (const rule of rules) {
    const outcome = rule.decide(facts);
    if (outcome !== NOT_APPLICABLE) return outcome;
  }
  throw new Error(`No audit rule applies to the VPC (control ${JSON.stringify(facts.control)}).`);
}
