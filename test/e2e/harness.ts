/** Shared set-up for the end-to-end runs: the local loop on a scenario, and a person answering approvals. */

import { eventsOfPhase, replayCloudTrail } from '@vecguard/sandbox';
import { afterEach } from 'vitest';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import { type LocalLoop, type LocalLoopOptions, startLocalLoop } from '../../local/loop.ts';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const EXAMPLE_POLICY = 'examples/vecguard.policy.yaml';

/** Shorter than AWS (TGW encryption can take days) so a run sees the end of every transition. */
export const QUICK_DURATIONS = { tgwEncryptionMs: 10 * 60_000 };

/** The loops `startLoop` started that `stopLoopsAfterEach` has not stopped yet. */
const running = new Set<LocalLoop>();

export async function startLoop(options: Partial<LocalLoopOptions> = {}): Promise<LocalLoop> {
  const loop = await startLocalLoop({
    scenario: 'default',
    policyFile: EXAMPLE_POLICY,
    speed: 600,
    durations: QUICK_DURATIONS,
    ...options,
  });
  running.add(loop);
  return loop;
}

/** Stops, after each test, every loop `startLoop` started in it. Call once at the top of a test file. */
export function stopLoopsAfterEach(): void {
  afterEach(async () => {
    const loops = [...running];
    running.clear();
    for (const loop of loops) await loop.stop();
  });
}

/** Replay the scenario's recorded CreateVpc calls, as the demo does before its sweep. */
export async function replayRecordedEvents(loop: LocalLoop): Promise<void> {
  for (const event of eventsOfPhase(loop.sandbox.scenario?.events ?? [], 'before-sweep').cloudTrail) {
    await replayCloudTrail(loop.sandbox, event);
  }
}

/**
 * A person watching for approval requests and answering each one with `decide` (or leaving it to time out
 * when `decide` returns undefined). Returns a stop function that resolves with what was seen.
 */
export function approver(loop: LocalLoop, decide: (a: Approval) => boolean | undefined) {
  const seen: Approval[] = [];
  const answered = new Set<string>();
  let running = true;
  const done = (async () => {
    while (running) {
      // A table under an injected fault fails the listing: the person looks again a moment later.
      const pending = await loop.approvals.listPending(new Date()).catch(() => []);
      for (const a of pending) {
        if (answered.has(a.approvalId)) continue;
        answered.add(a.approvalId);
        seen.push(a);
        const answer = decide(a);
        if (answer === undefined) continue;
        try {
          await loop.answer(a.approvalId, { approve: answer, reason: 'e2e' });
        } catch (error) {
          const { code, status } = error as { code?: string; status?: number };
          // The run closed the request first, or stopped waiting for it (it failed or ended): a race a person
          // can lose too.
          if (code === 'ApprovalAlreadyDecided' || code === 'ApprovalNoLongerAwaited') continue;
          // The endpoint failed (its table under an injected fault): the person tries again.
          if (status !== undefined && status >= 500) {
            answered.delete(a.approvalId);
            continue;
          }
          throw error;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    running = false;
    await done;
    return seen;
  };
}

/**
 * One scheduled sweep of a scope (default: the hub's), delivered to on-event as EventBridge would, run to its
 * end with `decide` answering its approvals.
 */
export async function runToEnd(
  loop: LocalLoop,
  decide: (a: Approval) => boolean | undefined,
  scope: { accountId?: string; region?: string } = {},
  waitMs = 120_000,
) {
  const stop = approver(loop, decide);
  const started = await loop.sweep({ accountId: scope.accountId ?? ACCOUNT, region: scope.region ?? REGION });
  if (started.length !== 1) throw new Error(`the sweep started ${started.length} executions, not one`);
  const { executionArn, runId, accountId, region } = started[0] as (typeof started)[number];
  const result = await loop.wait(executionArn, waitMs);
  const approvals = await stop();
  const summary =
    result.status === 'SUCCEEDED'
      ? await loop.blobs.getBlob({ runId, accountId, region }, 'report', 0)
      : undefined;
  return { result, runId, executionArn, approvals, summary };
}

export function byName(summary: RunSummary | undefined) {
  return Object.fromEntries((summary?.vpcs ?? []).map((v) => [v.name, v]));
}

/** EC2 calls that would have changed the estate (DryRun calls excluded). */
export function mutatingEc2Calls(loop: LocalLoop) {
  return loop.sandbox.calls.query().filter((c) => c.service === 'ec2' && c.mutating && !c.dryRun);
}
