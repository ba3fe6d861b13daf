/**
 * One demo session: the scenario's recorded events and a scheduled sweep, run through the real loop on the
 * sandbox, with a person (or a script) answering approvals. Knows nothing of the terminal: progress and
 * approval requests go to the callbacks the command passes in.
 */
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { AuditEntry } from '../../functions/adapters/store/audit-log.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import { classifyEvent, runIdOf } from '../../functions/domain/triggers.ts';
import type { LocalLoop } from '../../sandbox/loop.ts';
import { applyDriftEvent, eventsOfPhase, replayCloudTrail } from '../../sandbox/scenarios/replay.ts';

export type ApproveMode = 'ask' | 'all' | 'none';

export interface Progress {
  readonly runId: string;
  readonly label: string;
  readonly iteration: number;
  readonly state: string;
  readonly detail?: string;
}

export interface SessionCallbacks {
  onProgress(p: Progress): void;
  onRunStarted(runId: string, label: string): void;
  onRunFinished(runId: string, label: string, status: string): void;
  /** `ask` mode: resolves true to approve, false to reject. */
  ask?(approval: Approval): Promise<boolean>;
  onApprovalAnswered?(approval: Approval, decision: 'approved' | 'rejected' | 'left to time out'): void;
  /** A replayed event created a resource: its id and name, for progress lines. */
  onResourceCreated?(id: string, name: string): void;
}

export interface SessionOptions {
  readonly approve: ApproveMode;
  /** Sandbox seconds an approval waits before it counts as rejected. */
  readonly approvalTimeoutSeconds: number;
  readonly accountId: string;
  readonly region: string;
}

export interface RunRecord {
  readonly runId: string;
  readonly label: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly summary?: RunSummary;
  readonly approvals: readonly Approval[];
}

export interface SessionResult {
  readonly runs: readonly RunRecord[];
  readonly auditLog: readonly AuditEntry[];
}

/** Answers approvals as they appear, one at a time, for as long as `active` says. */
function startApprover(loop: LocalLoop, options: SessionOptions, callbacks: SessionCallbacks) {
  const seen = new Set<string>();
  let running = true;
  const loopDone = (async () => {
    while (running) {
      for (const approval of await loop.approvals.listPending(new Date())) {
        if (seen.has(approval.approvalId) || approval.expired) continue;
        seen.add(approval.approvalId);
        if (options.approve === 'none') {
          callbacks.onApprovalAnswered?.(approval, 'left to time out');
          continue;
        }
        const yes =
          options.approve === 'all' ? true : await (callbacks.ask?.(approval) ?? Promise.resolve(false));
        try {
          await loop.answer(approval.approvalId, {
            approve: yes,
            reason: `vecguard demo (--approve ${options.approve})`,
          });
          callbacks.onApprovalAnswered?.(approval, yes ? 'approved' : 'rejected');
        } catch (e) {
          // Too late (timed out meanwhile): the run has moved on; say so rather than hide it.
          callbacks.onApprovalAnswered?.(approval, 'left to time out');
          void e;
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return async () => {
    running = false;
    await loopDone;
  };
}

function watchProgress(
  loop: LocalLoop,
  runs: Map<string, { runId: string; label: string }>,
  callbacks: SessionCallbacks,
) {
  const iteration = new Map<string, number>();
  return loop.stepFunctions.runner.onEvent((event) => {
    const run = runs.get(event.executionArn);
    if (!run || !event.stateName || !event.type.endsWith('Entered')) return;
    const input = event.input as
      | { iteration?: { n?: number } | number; group?: { groupId?: string } }
      | undefined;
    const n = typeof input?.iteration === 'number' ? input.iteration : input?.iteration?.n;
    if (typeof n === 'number') iteration.set(event.executionArn, n);
    callbacks.onProgress({
      runId: run.runId,
      label: run.label,
      iteration: iteration.get(event.executionArn) ?? 0,
      state: event.stateName,
      ...(input?.group?.groupId ? { detail: input.group.groupId } : {}),
    });
  });
}

export async function runSession(
  loop: LocalLoop,
  options: SessionOptions,
  callbacks: SessionCallbacks,
): Promise<SessionResult> {
  const events = loop.full.scenario?.events ?? [];
  const runs = new Map<string, { runId: string; label: string }>();
  const records: RunRecord[] = [];
  const stopApprover = startApprover(loop, options, callbacks);
  const stopWatching = watchProgress(loop, runs, callbacks);
  const defaults = { account: options.accountId, region: options.region };

  const runOnce = async (label: string, start: Parameters<LocalLoop['start']>[0]) => {
    const { executionArn, runId } = await loop.start({
      ...start,
      approvalTimeoutSeconds: options.approvalTimeoutSeconds,
    });
    runs.set(executionArn, { runId, label });
    callbacks.onRunStarted(runId, label);
    const result = await loop.wait(executionArn, 10 * 60_000);
    callbacks.onRunFinished(runId, label, result.status);
    const scope = {
      runId,
      accountId: start?.accountId ?? options.accountId,
      region: start?.region ?? options.region,
    };
    const summary =
      result.status === 'SUCCEEDED' ? await loop.blobs.getBlob<RunSummary>(scope, 'report', 0) : undefined;
    const approvals = await loop.approvals.listForRun(runId, scope);
    records.push({
      runId,
      label,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      ...(result.cause ? { cause: result.cause } : {}),
      ...(summary ? { summary } : {}),
      approvals,
    });
  };

  try {
    for (const event of eventsOfPhase(events, 'before-sweep').drift)
      applyDriftEvent(loop.full.sandbox, event, defaults);
    // Recorded API calls, delivered as CloudTrail would: classified like the on-event Lambda does.
    for (const recorded of eventsOfPhase(events, 'before-sweep').cloudTrail) {
      const delivered = await replayCloudTrail(loop.full.sandbox, recorded);
      const created = (delivered.detail.responseElements.vpc as { vpcId?: string } | undefined)?.vpcId;
      if (created) callbacks.onResourceCreated?.(created, recorded.vpc.name);
      const decision = classifyEvent(delivered);
      if (decision.kind !== 'run') continue;
      for (const trigger of decision.triggers) {
        await runOnce(`${delivered.detail.eventName} by ${recorded.userIdentityArn.split('/').pop()}`, {
          runId: runIdOf(trigger),
          accountId: trigger.accountId,
          region: trigger.region,
          vpcIds: trigger.vpcIds,
        });
      }
    }
    await runOnce('scheduled sweep', {});
    const drift = eventsOfPhase(events, 'after-sweep').drift;
    if (drift.length > 0) {
      for (const event of drift) applyDriftEvent(loop.full.sandbox, event, defaults);
      await runOnce('sweep after drift', {});
    }
  } finally {
    stopWatching();
    await stopApprover();
  }
  const auditLog = await loop.auditLog.listAuditEntries(options.accountId, options.region);
  return { runs: records, auditLog };
}
