import { describe, expect, it } from 'vitest';
import { foldRunsByScope, shownVerdicts } from '../../cli/runs.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';

type Vpc = RunSummary['vpcs'][number];
const vpc = (vpcId: string, before: Vpc['before'], after: Vpc['after'], actions: string[] = []): Vpc => ({
  vpcId,
  name: vpcId,
  before,
  after,
  exclusions: [],
  actions: actions.map((summary) => ({
    kind: 'create-monitor-control',
    summary,
    outcome: 'applied',
    approvedBy: 'auto',
  })),
  remaining: [],
  blockers: [],
});

function run(runId: string, startedAt: string, vpcs: Vpc[], over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId,
    accountId: '111111111111',
    region: 'us-east-1',
    dryRun: false,
    iterations: 1,
    startedAt,
    finishedAt: startedAt,
    vpcs,
    transitGateways: [],
    approvals: { requested: 1, approved: 1, rejected: 0, expired: 0, pending: 0 },
    actions: { applied: vpcs.length, dryRun: 0, failed: 0, failedAttempts: 0, alreadySo: 0, refused: 0 },
    findings: null,
    verdictsPerIteration: [{ UNMONITORED: vpcs.length }],
    ...over,
  };
}

describe('folding runs of one scope', () => {
  const eventRun = run('run-event', '2026-11-24T01:00:00Z', [
    vpc('vpc-new', 'UNMONITORED', 'ENFORCED', ['monitor new']),
  ]);
  const sweep = run('run-sweep', '2026-11-24T01:05:00Z', [
    vpc('vpc-new', 'ENFORCED', 'ENFORCED'),
    vpc('vpc-old', 'UNMONITORED', 'BLOCKED', ['monitor old']),
  ]);

  it('lists each VPC once, with its first "before", last "after" and every action, whatever the input order', () => {
    for (const input of [
      [eventRun, sweep],
      [sweep, eventRun],
    ]) {
      const [scope] = foldRunsByScope(input);
      expect(scope?.runIds).toEqual(['run-event', 'run-sweep']);
      expect(scope?.summary.vpcs.map((v) => [v.vpcId, v.before, v.after, v.actions.length])).toEqual([
        ['vpc-new', 'UNMONITORED', 'ENFORCED', 1],
        ['vpc-old', 'UNMONITORED', 'BLOCKED', 1],
      ]);
      expect(scope?.summary.approvals.requested).toBe(2);
      // The narrowed event run is a partial view: the chart comes from the sweep.
      expect(scope?.summary.verdictsPerIteration).toEqual([{ UNMONITORED: 2 }]);
    }
  });

  it('keeps different accounts and Regions apart, and leaves a single run as it is', () => {
    const other = run('run-eu', '2026-11-24T01:00:00Z', [vpc('vpc-eu', 'ENFORCED', 'ENFORCED')], {
      region: 'eu-west-1',
    });
    const folded = foldRunsByScope([sweep, other]);
    expect(folded.map((f) => f.summary.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(folded.find((f) => f.summary.region === 'eu-west-1')?.summary).toBe(other);
  });
});

describe("a VPC's verdicts over the runs", () => {
  it('keeps a drift between two sweeps that first "before" and last "after" hide', () => {
    const first = run('run-1', '2026-11-24T01:00:00Z', [
      vpc('vpc-orders', 'ENFORCED', 'ENFORCED'),
      vpc('vpc-search', 'ENFORCED', 'ENFORCED'),
    ]);
    const second = run('run-2', '2026-11-24T02:00:00Z', [
      vpc('vpc-orders', 'DRIFTED', 'ENFORCED', ['switch back to enforce']),
      vpc('vpc-search', 'ENFORCED', 'ENFORCED'),
    ]);
    const [scope] = foldRunsByScope([second, first]);
    const orders = scope?.summary.vpcs.find((v) => v.vpcId === 'vpc-orders');
    expect([orders?.before, orders?.after]).toEqual(['ENFORCED', 'ENFORCED']);
    expect(scope?.verdicts.get('vpc-orders')).toEqual(['ENFORCED', 'DRIFTED', 'ENFORCED']);
    expect(scope?.verdicts.get('vpc-search')).toEqual(['ENFORCED']);
  });

  it('shows before → after unless the path went elsewhere between them', () => {
    expect(shownVerdicts('READY_TO_ENFORCE', 'ENFORCED', ['READY_TO_ENFORCE', 'ENFORCED'])).toEqual([
      'READY_TO_ENFORCE',
      'ENFORCED',
    ]);
    expect(shownVerdicts('EXEMPT', 'EXEMPT', ['EXEMPT'])).toEqual(['EXEMPT', 'EXEMPT']);
    expect(shownVerdicts('ENFORCED', 'ENFORCED', ['ENFORCED', 'DRIFTED', 'ENFORCED'])).toEqual([
      'ENFORCED',
      'DRIFTED',
      'ENFORCED',
    ]);
    expect(shownVerdicts(null, 'ENFORCED', ['ENFORCED'])).toEqual([null, 'ENFORCED']);
    expect(shownVerdicts(null, 'ENFORCED', ['UNMONITORED', 'ENFORCED'])).toEqual([
      null,
      'UNMONITORED',
      'ENFORCED',
    ]);
  });
});
