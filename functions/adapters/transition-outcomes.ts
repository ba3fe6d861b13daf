/**
 * A change AWS accepted can still land somewhere else: enforce ends `enforce-failed` when a blocker appears
 * meanwhile, a Transit Gateway's encryption fails. Once the scope's transitions have settled, each change
 * this iteration applied is verified against the live state, and one that failed gets a `failed` outcome in
 * the audit log after its `applied` one (the log keeps both: the call was made, and it did not hold), so the
 * run's result counts it failed instead of applied.
 */
import type { ActionKind } from '../domain/action-kinds.ts';
import { verifyPlannedAction } from './actions/registry.ts';
import type { ActionContext } from './actions/types.ts';
import { type Deps, runKey, type Scope } from './deps.ts';
import type { AuditEntry } from './store/audit-log.ts';

/** Kinds whose change is a transition AWS carries out after the call (docs/design.md "Everything is asynchronous"). */
const TRANSITION_KINDS: ReadonlySet<ActionKind> = new Set([
  'create-monitor-control',
  'switch-to-enforce',
  'restore-enforce',
  'enable-exclusion',
  'disable-exclusion',
  'enable-tgw-encryption',
]);

export async function recordFailedTransitions(
  d: Pick<Deps, 'blobs' | 'auditLog' | 'now'>,
  ctx: ActionContext,
  scope: Scope,
  iteration: number,
): Promise<AuditEntry[]> {
  const stored = await d.blobs.findBlob(runKey(scope), 'plan', iteration);
  if (!stored) return [];
  const entries = await d.auditLog.listAuditEntries(scope.accountId, scope.region, {
    since: stored.plan.plannedAt,
  });
  const last = new Map<string, AuditEntry>();
  for (const e of entries) if (e.runId === scope.runId) last.set(e.actionId, e);
  const recorded: AuditEntry[] = [];
  for (const action of stored.plan.actions) {
    const entry = last.get(action.id);
    if (entry?.outcome !== 'applied' || !TRANSITION_KINDS.has(action.kind)) continue;
    const verified = await verifyPlannedAction(ctx, action);
    if (verified.status !== 'failed') continue;
    recorded.push(
      await d.auditLog.appendAuditEntry({
        at: d.now().toISOString(),
        accountId: scope.accountId,
        region: scope.region,
        actionId: action.id,
        runId: scope.runId,
        kind: action.kind,
        resourceId: action.resourceId,
        params: action.params,
        ...(entry.approvalId ? { approvalId: entry.approvalId } : {}),
        approvedBy: entry.approvedBy,
        before: entry.before,
        ...(verified.state ? { after: verified.state } : {}),
        outcome: 'failed',
        error: `TransitionFailed: ${verified.message}`,
        ...(entry.intentAt ? { intentAt: entry.intentAt } : {}),
      }),
    );
  }
  return recorded;
}
