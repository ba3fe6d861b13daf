/**
 * Several runs of one account + Region (a run an event started for one VPC, then a sweep, then a sweep after
 * drift) folded into one view of the scope: each VPC once, with its first "before" and its last "after" and
 * every action of every run; counts summed (so an action that failed in two runs is two in `actions.failed`:
 * where one count per action matters, count the audit log with `countActionOutcomes`, as the demo and
 * report.html do); the verdict chart over the runs that saw the whole scope (a run
 * narrowed to a few VPCs is a partial view, not the estate), in time order. Used by the demo's summary and by
 * report.html.
 */
import type { RunSummary } from '../functions/domain/run-summary.ts';

export interface FoldedScope {
  readonly summary: RunSummary;
  /** The runs folded in, oldest first; `summary.runId` lists them too. */
  readonly runIds: readonly string[];
}

export function foldRunsByScope(summaries: readonly RunSummary[]): FoldedScope[] {
  const byScope = new Map<string, RunSummary[]>();
  for (const s of [...summaries].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    const key = `${s.accountId}/${s.region}`;
    byScope.set(key, [...(byScope.get(key) ?? []), s]);
  }
  return [...byScope.values()].map((runs) => {
    const runIds = runs.map((r) => r.runId);
    const [first, ...rest] = runs as [RunSummary, ...RunSummary[]];
    if (rest.length === 0) return { summary: first, runIds };
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
