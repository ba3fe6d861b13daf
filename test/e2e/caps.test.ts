/**
 * Issue 9, problem 2: the change cap is per run and per sweep, not per plan. With every gate `auto` nobody
 * is asked, so the caps are all that bounds a run: counted in the state table across the run's iterations
 * (docs/loop.md "Change caps"), and across the scopes of one sweep, whose runs go at the same time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { GATED_ACTION_KINDS } from '../../functions/domain/action-kinds.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import { ACCOUNT, mutatingEc2Calls, REGION, runToEnd, startLoop, stopLoopsAfterEach } from './harness.ts';

stopLoopsAfterEach();

/**
 * Every gate auto; instance moves off, so that one change is one mutating call and the calls can be counted
 * against the cap (a move is three: stop, retype, start).
 */
function allAutoPolicy(limits: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vecguard-caps-'));
  const file = join(dir, 'policy.yaml');
  const gates = GATED_ACTION_KINDS.map((k) => `    ${k}: ${k === 'move-instance' ? 'off' : 'auto'}\n`).join(
    '',
  );
  const targets =
    limits.sweep === undefined
      ? 'targets: []\n'
      : 'targets:\n  - name: three-regions\n    regions: [us-east-1, eu-west-1, eu-central-1]\n    mode: enforce\n';
  const caps = Object.entries(limits)
    .filter(([k]) => k !== 'sweep')
    .map(([k, v]) => `  ${k}: ${v}\n`)
    .join('');
  writeFileSync(
    file,
    `version: 1\nlimits:\n${caps}defaults:\n  mode: enforce\n  acceptableExclusions: [InternetGateway, NatGateway]\n  actions:\n${gates}${targets}`,
  );
  return file;
}

it('a run with every gate auto and maxChangesPerRun 2 makes 2 changes in all its iterations, and defers the rest', async () => {
  const loop = await startLoop({ policyFile: allAutoPolicy({ maxChangesPerRun: 2 }) });
  const { result, runId, summary } = await runToEnd(loop, () => true);
  expect(result.status, `${result.error ?? ''} ${result.cause ?? ''}`).toBe('SUCCEEDED');

  // The estate needed many more: the cap, not a lack of work, stopped the run.
  expect(mutatingEc2Calls(loop)).toHaveLength(2);
  const applied = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
    (e) => e.runId === runId && e.outcome === 'applied',
  );
  expect(applied).toHaveLength(2);
  // Held back, not failed: the run says how many wait for a later run.
  expect(summary?.actions.failed).toBe(0);
  expect(summary?.deferredCap ?? 0).toBeGreaterThan(0);
  expect(result.output).toMatchObject({ deferredCap: summary?.deferredCap });
});

it('the runs of one sweep share its cap: three scopes at once, maxChangesPerSweep 4, at most 4 changes in all', async () => {
  const loop = await startLoop({
    scenario: 'test/fixtures/scenarios/caps-sweep.yaml',
    policyFile: allAutoPolicy({ maxChangesPerRun: 3, maxChangesPerSweep: 4, sweep: 1 }),
  });
  const started = await loop.sweep({ accountId: ACCOUNT, region: REGION });
  expect(started.map((s) => s.region).sort()).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
  const summaries: RunSummary[] = [];
  for (const run of started) {
    const done = await loop.wait(run.executionArn, 120_000);
    expect(done.status, `${run.region}: ${done.error ?? ''} ${done.cause ?? ''}`).toBe('SUCCEEDED');
    summaries.push(await loop.blobs.getBlob(run, 'report', 0));
  }

  // Nine VPCs needed a control each, and then enforce: 4 changes in all, none over a run's own 3.
  const calls = mutatingEc2Calls(loop);
  expect(calls).toHaveLength(4);
  for (const region of ['us-east-1', 'eu-west-1', 'eu-central-1']) {
    expect(calls.filter((c) => c.region === region).length).toBeLessThanOrEqual(3);
  }
  expect(summaries.reduce((n, s) => n + s.actions.applied, 0)).toBe(4);
  expect(summaries.every((s) => s.actions.failed === 0)).toBe(true);
  expect(summaries.reduce((n, s) => n + (s.deferredCap ?? 0), 0)).toBeGreaterThan(0);
});
