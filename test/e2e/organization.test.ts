/**
 * A policy that targets OUs, end to end: the scheduled sweep goes through the real on-event handler, which
 * reads the organisation from the sandbox's Organizations with the real client, starts one execution per
 * active account below the OUs, and each execution — the real ASL and handlers — audits with its account's
 * OUs, so the OU targets decide the modes. The hub is the organisation's management account.
 *
 * test/fixtures/scenarios/organization.yaml: root ─ 555 · platform ─ 111 (hub) · workloads ─ prod ─ 222 ·
 * sandbox ─ 333, 444 (suspended). test/fixtures/policies/ou-targets.policy.yaml: sandbox and platform
 * monitor, workloads enforce, everything auto.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { InventorySnapshot } from '../../functions/domain/model.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import type { AuditReport } from '../../functions/domain/verdict.ts';
import { byName, startLoop, stopLoopsAfterEach } from './harness.ts';

const SCENARIO = 'test/fixtures/scenarios/organization.yaml';
const POLICY = 'test/fixtures/policies/ou-targets.policy.yaml';
const sweepEvent = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/events/scheduled-sweep.json'), 'utf8'),
) as Record<string, unknown>;

stopLoopsAfterEach();

it('a scheduled sweep runs the loop in every account below the targeted OUs, each in its OU’s mode', async () => {
  const loop = await startLoop({ scenario: SCENARIO, policyFile: POLICY });
  {
    // Delivered to the on-event handler as EventBridge would: it reads the organisation with the real client.
    const result = await loop.deliver(sweepEvent);
    if (result.outcome !== 'started') throw new Error(`expected runs, got ${JSON.stringify(result)}`);

    // 222 and 333 are named by no account list, only by their OUs; 444 is suspended; 555 is below no target.
    expect(result.runs.map((r) => `${r.accountId}/${r.region}`)).toEqual([
      '111111111111/us-east-1',
      '222222222222/us-east-1',
      '333333333333/us-east-1',
    ]);
    const summaries: Record<string, RunSummary | undefined> = {};
    const audits: Record<string, AuditReport | undefined> = {};
    const snapshots: Record<string, InventorySnapshot | undefined> = {};
    for (const run of result.runs) {
      const done = await loop.wait(run.executionArn, 120_000);
      expect(done.status, `${run.accountId}: ${done.error ?? ''} ${done.cause ?? ''}`).toBe('SUCCEEDED');
      const key = { runId: run.runId, accountId: run.accountId, region: run.region };
      summaries[run.accountId] = await loop.blobs.getBlob(key, 'report', 0);
      audits[run.accountId] = await loop.blobs.getBlob(key, 'audit', 0);
      snapshots[run.accountId] = await loop.blobs.getBlob(key, 'snapshot', 0);
    }

    // Each run's inventory knows where its account sits.
    expect(snapshots['333333333333']?.organizationalUnitIds).toEqual([
      'ou-vg01-sandbox1',
      'ou-vg01-workload',
      'r-vg01',
    ]);
    // The sandbox OU's target decides the experiments VPC, though workloads (enforce) is above it too.
    expect(audits['333333333333']?.vpcs[0]).toMatchObject({
      name: 'experiments',
      desiredMode: 'monitor',
      policySource: 'target:sandbox-accounts',
    });
    expect(audits['222222222222']?.vpcs[0]).toMatchObject({
      name: 'orders',
      desiredMode: 'enforce',
      policySource: 'target:workloads',
    });
    expect(audits['111111111111']?.vpcs[0]).toMatchObject({
      name: 'tools',
      desiredMode: 'monitor',
      policySource: 'target:platform',
    });

    // What that means for the VPCs: monitored where the OU asks for monitor, enforced where it asks for enforce.
    expect(byName(summaries['333333333333']).experiments).toMatchObject({ before: 'UNMONITORED' });
    expect(byName(summaries['222222222222']).orders).toMatchObject({
      before: 'READY_TO_ENFORCE',
      after: 'ENFORCED',
    });
    const modeOf = (accountId: string, vpc: string) => {
      const id = loop.sandbox.ec2.scenarioIds[`${accountId}/us-east-1/${vpc}`] ?? '';
      return loop.sandbox.ec2.regionState(accountId, 'us-east-1').vpcs.get(id)?.control?.mode;
    };
    expect(modeOf('333333333333', 'experiments')).toBe('monitor');
    expect(modeOf('111111111111', 'tools')).toBe('monitor');
    expect(modeOf('222222222222', 'orders')).toBe('enforce');
    // Nothing ran in the suspended account or the one below no target.
    const touched = new Set(loop.sandbox.calls.query({ service: 'ec2' }).map((c) => c.accountId));
    expect(touched.has('444444444444') || touched.has('555555555555')).toBe(false);
  }
});
