/**
 * Closing open intents (functions/adapters/store/audit-log.ts): a step that stopped between a mutating call
 * and its record (a killed Lambda, a table that refused the write) left an intent with no outcome. Whoever
 * finds one reads the live state back and appends the outcome it shows, saying it was read back and by whom,
 * so a run never ends with a change the audit log does not explain.
 */
import { readBack } from './actions/registry.ts';
import type { ActionContext } from './actions/types.ts';
import type { AuditEntry, AuditIntent, AuditLog, OpenIntentFilter } from './store/audit-log.ts';

/**
 * How far back open intents are looked for: the scope's audit partition grows with its history, and a read
 * of all of it in every step would too. Every run closes its own intents when it ends (Report, FailureReport)
 * and the next run closes those of one that died without either, so an intent older than this is long closed
 * or beyond any run that could still explain it (the policy's approval timeout is at most days).
 */
export const OPEN_INTENT_HORIZON_MS = 35 * 24 * 3600_000;

export interface Reconciled {
  /** Outcome entries appended, one per intent closed. */
  readonly closed: AuditEntry[];
  /** Intents still open: their state could not be read (the message says why). */
  readonly open: { readonly intent: AuditIntent; readonly why: string }[];
}

export async function reconcileOpenIntents(
  log: AuditLog,
  ctx: ActionContext,
  scope: { readonly accountId: string; readonly region: string },
  filter: OpenIntentFilter,
  by: string,
  /**
   * Intents recorded after this may belong to a step still running (Step Functions lets a Lambda finish when
   * its Map fails): one the live state does not show yet is left open, not closed as not in effect.
   */
  inFlightAfter?: Date,
): Promise<Reconciled> {
  const closed: AuditEntry[] = [];
  const open: Reconciled['open'] = [];
  const since = filter.since ?? new Date(ctx.now().getTime() - OPEN_INTENT_HORIZON_MS);
  for (const intent of await log.listOpenIntents(scope.accountId, scope.region, { ...filter, since })) {
    const seen = await readBack(ctx, intent.action);
    if (seen.status === 'unknown') {
      open.push({ intent, why: seen.message });
      continue;
    }
    if (seen.status === 'not-in-effect' && inFlightAfter && intent.at > inFlightAfter.toISOString()) {
      open.push({
        intent,
        why: 'recorded moments ago: its step may still be calling; its outcome follows in the audit log',
      });
      continue;
    }
    const outcome = seen.status === 'in-effect' ? 'applied' : 'failed';
    closed.push(
      await log.appendAuditEntry({
        at: ctx.now().toISOString(),
        accountId: intent.accountId,
        region: intent.region,
        actionId: intent.actionId,
        runId: intent.runId,
        kind: intent.kind,
        resourceId: intent.resourceId,
        params: intent.params,
        ...(intent.approvalId ? { approvalId: intent.approvalId } : {}),
        approvedBy: intent.approvedBy,
        before: intent.before,
        ...('state' in seen && seen.state ? { after: seen.state } : {}),
        outcome,
        ...(outcome === 'failed'
          ? { error: `${seen.status === 'failed' ? 'TransitionFailed' : 'NotInEffect'}: ${seen.message}` }
          : {}),
        intentAt: intent.at,
        reconciled: `read back from the live state by ${by}: the step that made the call stopped before recording its outcome`,
      }),
    );
  }
  return { closed, open };
}
