/**
 * What a run changed, from the audit log, once the open intents are closed: what the end of a run (Report,
 * FailureReport) tells people. Intents of this run are closed whatever their age (no step of it runs any
 * more); another run's only when older than the longest a step may run, so a call still in flight is left
 * alone.
 */
import type { RecordedChange } from '../domain/notifications.ts';
import type { Deps, Scope } from './deps.ts';
import { reconcileOpenIntents } from './reconcile.ts';
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
export async function closeOpenIntents(
  d: Pick<Deps, 'auditLog' | 'ec2For' | 'now' | 'actionPoll' | 'timeScale'>,
  scope: Scope,
  by: string,
): Promise<{ intent: AuditIntent; why: string }[]> {
  const ec2 = await d.ec2For(scope);
  const ctx = { ec2, now: d.now, ...(d.actionPoll ? { poll: d.actionPoll } : {}) };
  const stale = new Date(d.now().getTime() - STEP_MAX_MS / d.timeScale);
  const own = await reconcileOpenIntents(d.auditLog, ctx, scope, { runId: scope.runId }, by);
  await reconcileOpenIntents(d.auditLog, ctx, scope, { before: stale }, by);
  return own.open;
}

export async function changesOfRun(
  d: Pick<Deps, 'auditLog' | 'ec2For' | 'now' | 'actionPoll' | 'timeScale'>,
  scope: Scope,
  by: string,
  problems: string[],
): Promise<{ changes: RecordedChange[] | null; openIntents: RecordedChange[] }> {
  const openIntents: RecordedChange[] = [];
  try {
    for (const { intent, why } of await closeOpenIntents(d, scope, by)) {
      openIntents.push({ ...changeOf(intent), outcome: 'open' });
      problems.push(`The outcome of ${intent.kind} on ${intent.resourceId} could not be read back: ${why}`);
    }
  } catch (error) {
    problems.push(`Changes left unrecorded by a stopped step could not be read back: ${messageOf(error)}`);
  }
  try {
    const entries = await d.auditLog.listAuditEntries(scope.accountId, scope.region);
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
