/**
 * One demo session: the scenario's recorded events and a scheduled sweep, run through the real loop on the
 * sandbox, with a person (or a script) answering approvals. Knows nothing of the terminal: progress and
 * approval requests go to the callbacks the command passes in.
 *
 * Every run starts as in a deployment: an event (the replayed CloudTrail call, the schedule's event) is
 * delivered to the on-event Lambda handler, which builds the execution input and starts the execution.
 *
 * The demo plays the organisation: with a policy that names no targets, its sweep delivers the schedule's
 * event in every account × Region of the scenario's estate, so each scope gets its run, all started together
 * as an organisation sweep fans out (bench/sweep.ts does the same). With targets, it delivers the hub's one
 * event, and on-event sweeps the scopes the policy names, as a deployed sweep does
 * (functions/domain/triggers.ts `sweepTriggers`).
 */

import { applyDriftEvent, eventsOfPhase, replayCloudTrail } from '@vecguard/sandbox';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { AuditEntry } from '../../functions/adapters/store/audit-log.ts';
import { ScopeLeaseStore } from '../../functions/adapters/store/scope-leases.ts';
import { InvalidInputError } from '../../functions/domain/errors.ts';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import { executionsOf, type LocalLoop, type StartedExecution } from '../../local/loop.ts';

export type ApproveMode = 'ask' | 'all' | 'none';

/** An account + Region: what one execution of the loop covers. */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

/** One execution of the loop, as it was started. */
export interface StartedRun extends Scope {
  readonly runId: string;
  readonly label: string;
}

export interface Progress extends StartedRun {
  readonly iteration: number;
  /** The state the execution entered (a Map iteration's states too). */
  readonly state: string;
  /** The work group (a VPC or Transit Gateway id) the state is about, inside the Map of groups. */
  readonly detail?: string;
  /**
   * This iteration's work groups (a VPC's or a Transit Gateway's actions): how many are done, of how many
   * Plan made; 0 of 0 until Plan has run.
   */
  readonly groups: { readonly done: number; readonly planned: number };
}

export interface SessionCallbacks {
  onProgress(p: Progress): void;
  /** Runs started together: one run an event started, or a sweep's one run per scope. */
  onRunsStarted(batch: string, runs: readonly StartedRun[]): void;
  onRunFinished(runId: string, label: string, status: string): void;
  /** `ask` mode: resolves true to approve, false to reject. */
  ask?(approval: Approval): Promise<boolean>;
  onApprovalAnswered?(approval: Approval, decision: 'approved' | 'rejected' | 'left to time out'): void;
  /** A replayed event created a resource: its id and name, for progress lines. */
  onResourceCreated?(id: string, name: string): void;
  /** An event of `--events` was delivered (or could not be): what on-event did with it. */
  onEventDelivered?(label: string, outcome: EventDelivery): void;
}

/** An event of `--events`: where it came from, and the event (undefined when its wrapper could not be opened). */
export interface FileEvent {
  readonly label: string;
  readonly event: unknown;
  readonly invalid?: string;
}

/**
 * What became of one delivered event. `invalid`: on-event refused it (a deployment keeps it in the dead-letter
 * queue); `dead-lettered`: on-event failed on it three times (Lambda's asynchronous invocation retries twice,
 * then sends the event to the on-failure destination).
 */
export type EventDelivery =
  | { readonly outcome: 'started'; readonly executions: number }
  | { readonly outcome: 'ignored' | 'invalid' | 'dead-lettered'; readonly reason: string };

/** Deliveries of `--events` by outcome. */
export interface EventDeliveries {
  readonly delivered: number;
  readonly started: number;
  readonly ignored: number;
  readonly invalid: number;
  readonly deadLettered: number;
}

/** Lambda's asynchronous invocation: the first attempt and two retries on a function error. */
const ASYNC_ATTEMPTS = 3;

export interface SessionOptions {
  readonly approve: ApproveMode;
  /**
   * The hub's account and Region: the handlers' own credentials land in this account (no role to assume
   * there), and a drift event that names no account or Region changes this one.
   */
  readonly accountId: string;
  readonly region: string;
  /** The policy names targets: the sweep is the hub's one schedule event, on-event expands it. */
  readonly policyHasTargets: boolean;
  /**
   * `--events`: delivered after the scenario's recorded events and before the sweep, all at once, each to
   * on-event on its own, as EventBridge invokes the function for each event of a burst.
   */
  readonly events?: readonly FileEvent[];
  /**
   * `--faults`: once the sweeps are over, the faults end (the rules are cleared, no handler dies any more)
   * and, if a run failed, one more sweep runs, as the next scheduled one would: it reads back and records
   * what a failed run left unrecorded, so the out folder shows every change with its outcome. `waitMs`: the
   * longest a step of the failed run could still be running, in real time.
   */
  readonly recovery?: { readonly clearFaults: () => void; readonly waitMs: number };
}

export interface RunRecord extends Scope {
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
  /** Every scope a run covered, in the order first covered. */
  readonly scopes: readonly Scope[];
  /** The audit log of every scope, scope after scope. */
  readonly auditLog: readonly AuditEntry[];
  /** What became of the `--events` (absent without them). */
  readonly deliveries?: EventDeliveries;
}

/** One event delivered as EventBridge delivers it: to on-event, retried as Lambda retries an async invocation. */
async function deliverAsEventBridge(
  loop: LocalLoop,
  event: FileEvent,
): Promise<{
  readonly delivery: EventDelivery;
  readonly started: StartedExecution[];
}> {
  if (event.invalid !== undefined) {
    return { delivery: { outcome: 'invalid', reason: event.invalid }, started: [] };
  }
  let last: unknown;
  for (let attempt = 1; attempt <= ASYNC_ATTEMPTS; attempt++) {
    try {
      const result = await loop.deliver(event.event);
      if (result.outcome === 'ignored') {
        return { delivery: { outcome: 'ignored', reason: result.reason }, started: [] };
      }
      const started = executionsOf(result);
      return { delivery: { outcome: 'started', executions: started.length }, started };
    } catch (error) {
      // Bad input is not retried: it goes to the dead-letter queue at once, with its reason.
      if (error instanceof InvalidInputError) {
        return { delivery: { outcome: 'invalid', reason: error.message }, started: [] };
      }
      last = error;
    }
  }
  const reason = `on-event failed ${ASYNC_ATTEMPTS} times: ${last instanceof Error ? last.message : String(last)}`;
  return { delivery: { outcome: 'dead-lettered', reason }, started: [] };
}

/**
 * The scopes the demo's sweep covers: every account × Region of the scenario's estate, in the order the
 * scenario lists them (the hub's own scope when the estate lists none).
 */
export function estateScopes(loop: LocalLoop, hub: Scope): Scope[] {
  const accounts = loop.sandbox.scenario?.estate.accounts ?? [];
  const scopes = accounts.flatMap((a) => a.regions.map((r) => ({ accountId: a.id, region: r.name })));
  return scopes.length > 0 ? scopes : [{ accountId: hub.accountId, region: hub.region }];
}

/** Answers approvals as they appear, one at a time, for as long as `active` says. */
function startApprover(loop: LocalLoop, options: SessionOptions, callbacks: SessionCallbacks) {
  const seen = new Set<string>();
  let running = true;
  const loopDone = (async () => {
    while (running) {
      // The table under an injected fault fails the listing: look again a moment later, as a person would.
      const pending = await loop.approvals.listPending(new Date()).catch(() => []);
      for (const approval of pending) {
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

/** Each execution's iteration and work groups, from the states it enters and Plan's output. */
function watchProgress(loop: LocalLoop, runs: Map<string, StartedRun>, callbacks: SessionCallbacks) {
  const iteration = new Map<string, number>();
  const groups = new Map<string, { done: number; planned: number }>();
  return loop.sandbox.stepFunctions.runner.onEvent((event) => {
    const run = runs.get(event.executionArn);
    if (!run || !event.stateName) return;
    if (event.type === 'TaskStateExited' && event.stateName === 'Plan') {
      // Plan's result (the state's ResultPath, $.plan) says how many groups this iteration has.
      const planned = (event.output as { plan?: { groups?: number } } | undefined)?.plan?.groups;
      groups.set(event.executionArn, { done: 0, planned: typeof planned === 'number' ? planned : 0 });
      return;
    }
    if (!event.type.endsWith('Entered')) return;
    const input = event.input as
      | { iteration?: { n?: number } | number; group?: { groupId?: string } }
      | undefined;
    const n = typeof input?.iteration === 'number' ? input.iteration : input?.iteration?.n;
    if (typeof n === 'number' && n !== iteration.get(event.executionArn)) {
      iteration.set(event.executionArn, n);
      groups.delete(event.executionArn);
    }
    const counted = groups.get(event.executionArn) ?? { done: 0, planned: 0 };
    // Every group's branch ends in GroupDone, approved, rejected or with nothing to ask.
    if (event.stateName === 'GroupDone') counted.done += 1;
    groups.set(event.executionArn, counted);
    callbacks.onProgress({
      ...run,
      iteration: iteration.get(event.executionArn) ?? 0,
      state: event.stateName,
      ...(input?.group?.groupId ? { detail: input.group.groupId } : {}),
      groups: { ...counted },
    });
  });
}

export async function runSession(
  loop: LocalLoop,
  options: SessionOptions,
  callbacks: SessionCallbacks,
): Promise<SessionResult> {
  const events = loop.sandbox.scenario?.events ?? [];
  const hub: Scope = { accountId: options.accountId, region: options.region };
  const runs = new Map<string, StartedRun>();
  const records: RunRecord[] = [];
  /** Schedule events on-event could not take: with `recovery`, a reason for the sweep after the faults. */
  let dropped = 0;
  const stopApprover = startApprover(loop, options, callbacks);
  const stopWatching = watchProgress(loop, runs, callbacks);
  const defaults = { account: options.accountId, region: options.region };

  /** Waits for the executions on-event started together, and records them in the order started. */
  const runBatch = async (
    batch: string,
    label: (e: StartedExecution) => string,
    started: StartedExecution[],
  ) => {
    const named = started.map((e) => {
      const run: StartedRun = { runId: e.runId, label: label(e), accountId: e.accountId, region: e.region };
      runs.set(e.executionArn, run);
      return { executionArn: e.executionArn, run };
    });
    callbacks.onRunsStarted(
      batch,
      named.map((s) => s.run),
    );
    const finished = await Promise.all(
      named.map(async ({ executionArn, run }) => {
        const result = await loop.wait(executionArn, 10 * 60_000);
        callbacks.onRunFinished(run.runId, run.label, result.status);
        // With --faults the table may still be failing: what cannot be read is left out of the summary
        // (the run's status and error still say what happened), never a crash of the whole demo.
        const summary =
          result.status === 'SUCCEEDED'
            ? await loop.blobs.getBlob(run, 'report', 0).catch(() => undefined)
            : undefined;
        const approvals = await loop.approvals.listForRun(run.runId, run).catch(() => []);
        return {
          ...run,
          status: result.status,
          ...(result.error ? { error: result.error } : {}),
          ...(result.cause ? { cause: result.cause } : {}),
          ...(summary ? { summary } : {}),
          approvals,
        };
      }),
    );
    records.push(...finished);
  };
  /** A sweep: the schedule's event, delivered to on-event (see the module comment for which scopes). */
  const sweep = async (label: string) => {
    const events = options.policyHasTargets ? [hub] : estateScopes(loop, hub);
    // A schedule event on-event cannot take (its table under an injected fault) starts nothing: say so,
    // as the dead-letter queue would keep it, and go on.
    const started = (
      await Promise.all(
        events.map((scope) =>
          loop.sweep(scope).catch((error: unknown) => {
            dropped++;
            const reason = `on-event failed: ${error instanceof Error ? error.message : String(error)}`;
            callbacks.onEventDelivered?.(label, { outcome: 'dead-lettered', reason });
            return [];
          }),
        ),
      )
    ).flat();
    const several = started.length > 1;
    await runBatch(label, (e) => (several ? `${label} ${e.accountId}/${e.region}` : label), started);
  };

  /** `--events`: all delivered at once; the runs they start are one batch, each execution once. */
  const deliverFileEvents = async (fileEvents: readonly FileEvent[]): Promise<EventDeliveries> => {
    const results = await Promise.all(fileEvents.map((e) => deliverAsEventBridge(loop, e)));
    const labels = new Map<string, { first: string; more: number }>();
    const unique = new Map<string, StartedExecution>();
    results.forEach(({ delivery, started }, i) => {
      const label = fileEvents[i]?.label ?? `event ${i + 1}`;
      callbacks.onEventDelivered?.(label, delivery);
      for (const e of started) {
        unique.set(e.executionArn, e);
        const named = labels.get(e.executionArn);
        labels.set(e.executionArn, named ? { ...named, more: named.more + 1 } : { first: label, more: 0 });
      }
    });
    if (unique.size > 0) {
      await runBatch(
        'events',
        (e) => {
          const named = labels.get(e.executionArn);
          return `${named?.first ?? 'event'}${named?.more ? ` (+${named.more} more events)` : ''}`;
        },
        [...unique.values()],
      );
    }
    const count = (outcome: EventDelivery['outcome']) =>
      results.filter((r) => r.delivery.outcome === outcome).length;
    return {
      delivered: results.length,
      started: count('started'),
      ignored: count('ignored'),
      invalid: count('invalid'),
      deadLettered: count('dead-lettered'),
    };
  };
  let deliveries: EventDeliveries | undefined;

  try {
    for (const event of eventsOfPhase(events, 'before-sweep').drift)
      applyDriftEvent(loop.sandbox, event, defaults);
    // Recorded API calls, delivered as CloudTrail would: classified like the on-event Lambda does.
    for (const recorded of eventsOfPhase(events, 'before-sweep').cloudTrail) {
      const delivered = await replayCloudTrail(loop.sandbox, recorded);
      const created = (delivered.detail.responseElements.vpc as { vpcId?: string } | undefined)?.vpcId;
      if (created) callbacks.onResourceCreated?.(created, recorded.vpc.name);
      const label = `${delivered.detail.eventName} by ${recorded.userIdentityArn.split('/').pop()}`;
      // As EventBridge delivers it: a failure of on-event (an injected fault) is retried as Lambda retries.
      const { delivery, started } = await deliverAsEventBridge(loop, { label, event: delivered });
      if (delivery.outcome === 'dead-lettered') callbacks.onEventDelivered?.(label, delivery);
      if (started.length > 0) await runBatch(label, () => label, started);
    }
    if (options.events !== undefined) deliveries = await deliverFileEvents(options.events);
    await sweep('scheduled sweep');
    const drift = eventsOfPhase(events, 'after-sweep').drift;
    if (drift.length > 0) {
      for (const event of drift) applyDriftEvent(loop.sandbox, event, defaults);
      await sweep('sweep after drift');
    }
    if (options.recovery && (records.some((r) => r.status !== 'SUCCEEDED') || dropped > 0)) {
      options.recovery.clearFaults();
      await new Promise((r) => setTimeout(r, options.recovery?.waitMs));
      // A failed run whose table was failing could not release its scope's lease: in AWS the next event takes
      // it over after the lease's start grace (LEASE_START_GRACE_SECONDS, real minutes); the rehearsal lets
      // that time pass at once.
      const leases = new ScopeLeaseStore(loop.table);
      for (const r of records.filter((x) => x.status !== 'SUCCEEDED')) await leases.release(r, r.runId);
      await sweep('sweep after the faults ended');
    }
  } finally {
    stopWatching();
    await stopApprover();
  }
  const scopes = new Map<string, Scope>();
  for (const r of records)
    scopes.set(`${r.accountId}/${r.region}`, { accountId: r.accountId, region: r.region });
  const auditLog: AuditEntry[] = [];
  for (const s of scopes.values())
    auditLog.push(...(await loop.auditLog.listAuditEntries(s.accountId, s.region)));
  return { runs: records, scopes: [...scopes.values()], auditLog, ...(deliveries ? { deliveries } : {}) };
}
