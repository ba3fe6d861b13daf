/**
 * What a run changed, from the audit log, once its open intents are closed: what the end of a run (Report,
 * FailureReport) tells people. Another run's open intents are closed by the next run's first Inventory,
 * before it changes anything (`closeEarlierRunsIntents`).
 */
import type { RecordedChange } from '../domain/notifications.ts';
import type { Deps, Scope } from './deps.ts';
import { OPEN_INTENT_HORIZON_MS, reconcileOpenIntents } from './reconcile.ts';
import type { AuditIntent } from './store/audit-log.ts';

/**
 * Lambda's longest timeout (Apply's is 10 minutes, infra/constructs/loop-functions.ts): no step runs longer.
 * The local runner scales task timeouts by `timeScale`, so a step there is over sooner, alike.
 */
export const STEP_MAX_MS = 15 * 60_000;

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Close the open intents of the run (and stale ones of other runs) by reading their outcome back. Returns
 * the run's intents that stayed open, with why.
 */
/** Close the open intents of this run by reading their outcome back; returns those that stayed open, with why. */
export async function closeOpenIntents(
  d: Pick<Deps, 'auditLog' | 'ec2For' | 'now' | 'actionPoll' | 'timeScale'>,
  scope: Scope,
  by: string,
  /** The run failed: a step of it may still be running (Report runs only once every step is over). */
  stepsMayRun = false,
): Promise<{ intent: AuditIntent; why: string }[]> {
  const stale = new Date(d.now().getTime() - STEP_MAX_MS / d.timeScale);
  const { open } = await reconcileOpenIntents(
    d.auditLog,
    await contextFor(d, scope),
    scope,
    { runId: scope.runId },
    by,
    stepsMayRun ? stale : undefined,
  );
  return open;
}

/**
 * Close what earlier runs of the scope left open (their steps are over: older than a step can live). Only
 * before this run changes anything (Inventory of its first iteration): afterwards, the live state could show
 * this run's own change and credit it to the dead one.
 */
export async function closeEarlierRunsIntents(
  d: Pick<Deps, 'auditLog' | 'ec2For' | 'now' | 'actionPoll' | 'timeScale'>,
  scope: Scope,
): Promise<number> {
  const stale = new Date(d.now().getTime() - STEP_MAX_MS / d.timeScale);
  const { closed } = await reconcileOpenIntents(
    d.auditLog,
    await contextFor(d, scope),
    scope,
    { before: stale },
    `run ${scope.runId} before it changed anything`,
  );
  return closed.length;
}

async function contextFor(d: Pick<Deps, 'ec2For' | 'now' | 'actionPoll'>, scope: Scope) {
  const ec2 = await d.ec2For(scope);
  return { ec2, now: d.now, ...(d.actionPoll ? { poll: d.actionPoll } : {}) };
}

export async function changesOfRun(
  d: Pick<Deps, 'auditLog' | 'ec2For' | 'now' | 'actionPoll' | 'timeScale'>,
  scope: Scope,
  by: string,
  problems: string[],
): Promise<{ changes: RecordedChange[] | null; openIntents: RecordedChange[] }> {
  const openIntents: RecordedChange[] = [];
  try {
    for (const { intent, why } of await closeOpenIntents(d, scope, by, true)) {
      openIntents.push({ ...changeOf(intent), outcome: 'open' });
      problems.push(`The outcome of ${intent.kind} on ${intent.resourceId} could not be read back: ${why}`);
    }
  } catch (error) {
    problems.push(`Changes left unrecorded by a stopped step could not be read back: ${messageOf(error)}`);
  }
  try {
    const entries = await d.auditLog.listAuditEntries(scope.accountId, scope.region, {
      since: new Date(d.now().getTime() - OPEN_INTENT_HORIZON_MS),
    });
    // Real changes: applied, or failed after the call was made (an intent was recorded for it).
    const changes = entries
      .filter(
        (e) => e.runId === scope.runId && (e.outcome === 'applied' || (e.outcome === 'failed' && e.intentAt)),
      )
      .map((e) => ({
        ...changeOf(e),
        // Read back as not in effect: the call was lost or never made; the notice says so, not "failed".
        outcome: e.reconciled && e.error?.startsWith('NotInEffect:') ? 'not made' : e.outcome,
        ...(e.reconciled ? { reconciled: true } : {}),
      }))
      // A step still in flight when the run failed records its own outcome after the read back: one line each.
      .filter(
        (c, i, all) => all.findIndex((o) => o.actionId === c.actionId && o.outcome === c.outcome) === i,
      );
    return { changes, openIntents };
  } catch (error) {
    problems.push(`The audit log could not be read: ${messageOf(error)}`);
    return { changes: null, openIntents };
  }
}

function changeOf(e: { actionId: string; kind: string; resourceId: string }) {
  return { actionId: e.actionId, kind: e.kind, resourceId: e.resourceId };
}
