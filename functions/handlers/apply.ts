/**
 * Apply: the actions of one group — the auto ones (and those a person approved earlier in this run), or
 * after an approval exactly the actions that approval names. Every outcome goes to the audit log with who
 * approved it, and every real change is recorded as an intent before it is made (write-ahead, see
 * functions/adapters/store/audit-log.ts): a change the log cannot take is not made. An approval is taken from the store, never from the task's output alone: the answer that
 * Step Functions delivers only says which approval to look up.
 */
import { applyPlannedAction } from '../adapters/actions/registry.ts';
import type { ActionContext } from '../adapters/actions/types.ts';
import { budgetOwner, changeCaps, type Deps, deps, runKey } from '../adapters/deps.ts';
import { reconcileOpenIntents } from '../adapters/reconcile.ts';
import type { Approval } from '../adapters/store/approvals.ts';
import type { AuditIntent, AuditIntentInput, AuditOutcome } from '../adapters/store/audit-log.ts';
import { ApplyBudget } from '../adapters/store/change-budget.ts';
import { isMutating } from '../domain/action-kinds.ts';
import { actionDigests, approvedAsShown } from '../domain/approval-digest.ts';
import type { PlannedAction } from '../domain/remediation-plan.ts';
import { diePoint } from '../shared/die-points.ts';
import {
  AwsCallError,
  InvalidInputError,
  THROTTLING_CODES,
  toAwsCallError,
  UNRECORDED_MARK,
  UnrecordedChangeError,
} from '../shared/errors.ts';
import { logger } from '../shared/powertools.ts';
import { type ApplyInput, ApplyInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';
import { approvedDigestsOf, runDecisions } from './plan.ts';

const SUCCESS = new Set(['applied', 'dry-run', 'already-so']);

/** Who "approved" a gated action in a dry run: nobody was asked, and the audit entry says so. */
export const DRY_RUN_APPROVER = 'nobody: dry run, approval would be asked';

/**
 * The approval behind an `approved` apply, checked against the store and the plan, with the actions it
 * binds: those whose digest as planned now (`digests`) is the one the approval showed.
 */
async function checkedApproval(
  input: ApplyInput,
  d: Deps,
  askedIds: readonly string[],
  digests: ReadonlyMap<string, string>,
): Promise<{ approval: Approval; bound: string[] }> {
  if (!input.approval) throw new InvalidInputError('an approved apply needs the approver answer; got none');
  const approval = await d.approvals.getApproval(input.approval.approvalId);
  if (!approval) throw new InvalidInputError(`approval ${input.approval.approvalId} does not exist`);
  const { scope } = input;
  if (approval.status !== 'approved' || !approval.decidedBy) {
    throw new InvalidInputError(
      `approval ${approval.approvalId} is ${approval.status}, not approved: nothing applied`,
    );
  }
  if (
    approval.runId !== scope.runId ||
    approval.accountId !== scope.accountId ||
    approval.region !== scope.region ||
    approval.groupId !== input.groupId
  ) {
    throw new InvalidInputError(
      `approval ${approval.approvalId} was given for another run or group: nothing applied`,
    );
  }
  const extra = approval.actionIds.filter((id) => !askedIds.includes(id));
  if (extra.length > 0) {
    throw new InvalidInputError(
      `approval ${approval.approvalId} names actions this group did not ask for (${extra.join(', ')}): nothing applied`,
    );
  }
  // An approval binds to what it showed: an action planned now otherwise than it was shown is not applied
  // under it (nor a failure: the next iteration asks again).
  const approved = approvedDigestsOf([approval]);
  const bound = approval.actionIds.filter((id) => approvedAsShown(id, digests.get(id), approved));
  warnNotAsShown(approval.actionIds, bound);
  return { approval, bound };
}

function warnNotAsShown(asked: readonly string[], bound: readonly string[]): void {
  const differs = asked.filter((id) => !bound.includes(id));
  if (differs.length > 0) {
    logger.warn('approved actions differ from what their approval showed: not applied, asked again', {
      actionIds: differs,
    });
  }
}

export async function apply(input: ApplyInput, d: Deps) {
  const { scope, iteration, groupId, mode } = input;
  const stored = await d.blobs.getBlob(runKey(scope), 'plan', iteration);
  const group = stored.groups.find((g) => g.groupId === groupId);
  if (!group) throw new InvalidInputError(`group ${groupId} is not in the plan of iteration ${iteration}`);

  // Each action's digest as planned in this iteration, from the snapshot the plan was made from.
  const digestsNow = async () =>
    actionDigests(stored.plan, await d.blobs.getBlob(runKey(scope), 'snapshot', iteration));
  // Who answers for each action: `auto`, or the approver recorded in the store.
  const approvedBy = new Map<string, { approvedBy: string; approvalId?: string }>();
  let ids: readonly string[];
  if (mode === 'auto') {
    for (const id of group.autoActionIds) approvedBy.set(id, { approvedBy: 'auto' });
    if (group.preApprovedActionIds.length > 0) {
      // Approved earlier in the run: applied only as it was shown then (the same digest); anything else
      // waits, and the next iteration's plan asks for it again.
      const [{ approvals }, digests] = await Promise.all([runDecisions(d, scope), digestsNow()]);
      for (const a of approvals.filter((x) => x.status === 'approved' && x.decidedBy)) {
        const approved = approvedDigestsOf([a]);
        for (const id of group.preApprovedActionIds) {
          if (approvedAsShown(id, digests.get(id), approved))
            approvedBy.set(id, { approvedBy: a.decidedBy as string, approvalId: a.approvalId });
        }
      }
      warnNotAsShown(
        group.preApprovedActionIds,
        group.preApprovedActionIds.filter((id) => approvedBy.has(id)),
      );
    }
    ids = [...group.autoActionIds, ...group.preApprovedActionIds.filter((id) => approvedBy.has(id))];
    // A dry run asks nobody (LoadPage gives it no approvals to request): what a person would have been asked
    // runs here as dry-run calls, so the run still says exactly what it would do, and who would have to agree.
    if (d.dryRun) {
      const wouldAsk = group.approvalActionIds.filter((id) => !approvedBy.has(id));
      for (const id of wouldAsk) approvedBy.set(id, { approvedBy: DRY_RUN_APPROVER });
      ids = [...ids, ...wouldAsk];
    }
  } else {
    const { approval, bound } = await checkedApproval(input, d, group.approvalActionIds, await digestsNow());
    for (const id of bound)
      approvedBy.set(id, { approvedBy: approval.decidedBy as string, approvalId: approval.approvalId });
    ids = bound;
  }

  const wanted = new Set(ids);
  const actions = stored.plan.actions.filter((a) => wanted.has(a.id));
  const ec2 = await d.ec2For(scope);
  const ctx: ActionContext = { ec2, now: d.now, ...(d.actionPoll ? { poll: d.actionPoll } : {}) };
  const succeeded = new Set<string>();
  const counts = { applied: 0, dryRun: 0, alreadySo: 0, refused: 0, failed: 0, skipped: 0, reconciled: 0 };
  let retryable: { code: string; message: string } | undefined;
  // The run's and the sweep's change caps, counted in the state table across iterations and scopes.
  const budget = new ApplyBudget(d.changeBudget, budgetOwner(scope), changeCaps(d.policy), {
    dryRun: d.dryRun,
    mutatingCalls: () => ec2.stats.mutating,
  });

  // An earlier attempt of this step that stopped between a change and its record left open intents: read
  // their outcome back from the live state first, so the change is recorded and not made twice.
  const { closed } = await reconcileOpenIntents(
    d.auditLog,
    ctx,
    scope,
    { runId: scope.runId, actionIds: actions.map((a) => a.id) },
    'Apply (a retry of the step)',
  );
  for (const entry of closed) {
    counts.reconciled++;
    if (entry.outcome === 'applied') succeeded.add(entry.actionId);
  }

  for (const action of actions as PlannedAction[]) {
    if (succeeded.has(action.id)) continue;
    // A dependency not done in this call (deferred, waiting for approval, failed) holds the action back.
    if (action.dependsOn.some((dep) => !succeeded.has(dep))) {
      counts.skipped++;
      continue;
    }
    // The caps come first: an action they hold back opens no intent.
    if (!(await budget.admit({ id: action.id, mutating: isMutating(action.kind) }))) continue;
    const who = approvedBy.get(action.id) ?? { approvedBy: 'auto' };
    const recorded = {
      accountId: scope.accountId,
      region: scope.region,
      actionId: action.id,
      runId: scope.runId,
      kind: action.kind,
      resourceId: action.resourceId,
      params: action.params,
      ...(who.approvalId ? { approvalId: who.approvalId } : {}),
      approvedBy: who.approvedBy,
    };
    // Write-ahead: a real change is recorded as an intent before it is made (a dry run changes nothing).
    let intentAt: string | undefined;
    const result = await applyPlannedAction(
      ctx,
      action,
      d.dryRun
        ? {}
        : {
            beforeChange: async (before) => {
              intentAt = (await recordIntent(d, { ...recorded, before, action }, counts)).at;
              diePoint('Apply', 'after-intent');
            },
          },
    );
    if (intentAt !== undefined) diePoint('Apply', 'after-change');
    if (result.outcome === 'guidance') continue;
    if (SUCCESS.has(result.outcome)) succeeded.add(action.id);
    const outcome = result.outcome as AuditOutcome;
    if (outcome === 'applied') counts.applied++;
    else if (outcome === 'dry-run') counts.dryRun++;
    else if (outcome === 'already-so') counts.alreadySo++;
    else if (outcome === 'refused') counts.refused++;
    else counts.failed++;
    // Name the action and its resource: the failure report is all a person sees if the retries run out.
    if (outcome === 'failed' && result.retryable)
      retryable ??= {
        code: result.errorCode ?? 'Unknown',
        message: `${action.kind} on ${action.resourceId}: ${result.message}`,
      };
    // Throttled beyond the SDK's retries: the next action would be too. Record this one and let the state
    // machine back off, rather than spend the account's bucket on calls bound to fail.
    const throttled = outcome === 'failed' && THROTTLING_CODES.has(result.errorCode ?? '');
    try {
      await d.auditLog.appendAuditEntry({
        ...recorded,
        at: result.at,
        before: result.before,
        after: result.after,
        outcome,
        ...(outcome === 'failed' || outcome === 'refused'
          ? { error: `${result.errorCode ? `${result.errorCode}: ` : ''}${result.message}` }
          : {}),
        ...(intentAt === undefined ? {} : { intentAt }),
      });
    } catch (error) {
      // The change stands and its intent is in the log; nothing more is changed without a record.
      throw unrecorded(
        error,
        `${action.kind} on ${action.resourceId} (action ${action.id}) was ${outcome}`,
        intentAt,
      );
    }
    if (throttled) break;
  }
  await budget.settle();
  // Throttling or a 5xx that outlived the SDK's retries: let the state machine retry the step. Actions
  // already applied come back "already so", so a retry is safe.
  if (retryable) throw new AwsCallError('ec2', 'Apply', retryable.code, retryable.message);
  // Held back by a cap: deferred to a later run, not failed (noted for Report; the next Plan defers them).
  return { groupId, mode, ...counts, deferredCap: budget.heldBack.length, ec2Calls: ec2.stats.total };
}

/** The intent of a change about to be made; if the log refuses it, the change is not made. */
async function recordIntent(
  d: Deps,
  intent: Omit<AuditIntentInput, 'at'>,
  counts: { applied: number },
): Promise<AuditIntent> {
  try {
    return await d.auditLog.appendIntent({ ...intent, at: d.now().toISOString() });
  } catch (error) {
    throw unrecorded(
      error,
      `${intent.kind} on ${intent.resourceId} (action ${intent.actionId}) was not made: its intent could not be recorded; ${counts.applied} change(s) this step made before it are recorded`,
    );
  }
}

/**
 * A table failure as the state machine must see it, naming the change. Before the call (no intent): nothing
 * was changed, so a retry is safe and the error keeps AWS's retryability. After it: the change stands
 * unrecorded, so the run stops here, not retried (UnrecordedChangeError), and FailureReport names it.
 */
function unrecorded(error: unknown, what: string, intentAt?: string): Error {
  const cause = toAwsCallError(error, 'dynamodb', 'PutItem');
  if (intentAt === undefined) {
    return new AwsCallError('dynamodb', 'PutItem', cause.code, `${what} (${cause.message})`, {
      cause: error,
    });
  }
  return new UnrecordedChangeError(
    `${what} ${UNRECORDED_MARK}; its intent (${intentAt}) is, and the next step that finds it reads the outcome back (${cause.message})`,
    { cause: error },
  );
}

export const handler = lambdaHandler('Apply', ApplyInputSchema, (input) => apply(input, deps()));
