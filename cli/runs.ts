/**
 * Several runs of one account + Region (a run an event started for one VPC, then a sweep, then a sweep after
 * drift) folded into one view of the scope: each VPC once, with its first "before" and its last "after" and
 * every action of every run; counts summed (so an action that failed in two runs is two in `actions.failed`:
 * where one count per action matters, count the audit log with `countActionOutcomes`, as the demo and
 * report.html do); the verdict chart over the runs that saw the whole scope (a run
 * narrowed to a few VPCs is a partial view, not the estate), in time order. Used by the demo's summary and by
 * report.html.
 *
 * Folding keeps each VPC's first "before" and last "after", which hides what happened between runs: a VPC
 * enforced, drifted, then restored reads ENFORCED → ENFORCED. `verdicts` keeps that path.
 */
import type { RunSummary } from '../functions/domain/run-summary.ts';
import type { VerdictKind } from '../functions/domain/verdict.ts';

export interface FoldedScope {
  readonly summary: RunSummary;
  /** The runs folded in, oldest first; `summary.runId` lists them too. */
  readonly runIds: readonly string[];
  /**
   * Per VPC id, the verdicts it had over the runs, oldest first: each run's "before" and "after", a verdict
   * repeated back to back kept once (a VPC that drifted between two runs: ENFORCED, DRIFTED, ENFORCED).
   */
  readonly verdicts: ReadonlyMap<string, readonly VerdictKind[]>;
}

/**
 * The verdicts to show for a VPC: `[before, after]` (`before` null for a VPC the first audit did not see),
 * or, when its verdicts over the runs went somewhere else in between, the whole path
 * (`[ENFORCED, DRIFTED, ENFORCED]`, after a `null` for a new VPC).
 */
export function shownVerdicts(
  before: VerdictKind | null,
  after: VerdictKind,
  verdicts: readonly VerdictKind[],
): (VerdictKind | null)[] {
  const simple = before === null || before === after ? 1 : 2;
  if (verdicts.length <= simple) return [before, after];
  return before === null ? [null, ...verdicts] : [...verdicts];
}

/** Each VPC's verdicts over `runs` (oldest first), repeats back to back collapsed. */
function verdictPaths(runs: readonly RunSummary[]): Map<string, VerdictKind[]> {
  const paths = new Map<string, VerdictKind[]>();
  for (const run of runs) {
    for (const v of run.vpcs) {
      const path = paths.get(v.vpcId) ?? [];
      for (const verdict of [v.before, v.after]) {
        if (verdict !== null && path.at(-1) !== verdict) path.push(verdict);
      }
      paths.set(v.vpcId, path);
    }
  }
  return paths;
}

export function foldRunsByScope(summaries: readonly RunSummary[]): FoldedScope[] {
  const byScope = new Map<string, RunSummary[]>();
  for (const s of [...summaries].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    const key = `${s.accountId}/${s.region}`;
    byScope.set(key, [...(byScope.get(key) ?? []), s]);
  }
  return [...byScope.values()].map((runs) => {
    const runIds = runs.map((r) => r.runId);
    const verdicts = verdictPaths(runs);
    const [first, ...rest] = runs as [RunSummary, ...RunSummary[]];
    if (rest.length === 0) return { summary: first, runIds, verdicts };
    const last = runs[runs.length - 1] as RunSummary;
    const vpcs = new Map<string, RunSummary['vpcs'][number]>();
    for (const run of runs) {
      for (const v of run.vpcs) {
        const earlier = vpcs.get(v.vpcId);
        vpcs.set(
          v.vpcId,
          earlier ? { ...v, before: earlier.before, actions: [...earlier.actions, ...v.actions] } : v,
        );
      }
    }
    const widest = Math.max(...runs.map((r) => r.vpcs.length));
    const sum = <K extends 'approvals' | 'actions'>(key: K) => {
      const out: Record<string, number> = {};
      for (const run of runs) for (const [k, n] of Object.entries(run[key])) out[k] = (out[k] ?? 0) + n;
      return out as unknown as RunSummary[K];
    };
    return {
      runIds,
      verdicts,
      summary: {
        ...last,
        runId: runIds.join(', '),
        startedAt: first.startedAt,
        iterations: runs.reduce((n, r) => n + r.iterations, 0),
        vpcs: [...vpcs.values()],
        approvals: sum('approvals'),
        actions: sum('actions'),
        verdictsPerIteration: runs
          .filter((r) => r.vpcs.length === widest)
          .flatMap((r) => r.verdictsPerIteration),
      },
    };
  });
}
