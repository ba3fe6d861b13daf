/**
 * The action registry: one declarative unit per `ActionKind`, the IAM permissions CDK grants are derived from,
 * and the one way the loop applies a planned action (preconditions → apply → optionally a first verify) and
 * undoes an audit-log entry. Errors never escape these two functions and are never dropped: each becomes a
 * `failed` outcome carrying AWS's error code (and whether AWS said it may succeed later), for the handler to
 * count, record and, when retryable, retry.
 */
import type { ActionKind } from '../../domain/action-kinds.ts';
import type { PlannedAction } from '../../domain/remediation-plan.ts';
import { createFlowLog } from './create-flow-log.ts';
import { createMonitorControl } from './create-monitor-control.ts';
import { disableExclusion } from './disable-exclusion.ts';
import { enableExclusion } from './enable-exclusion.ts';
import { enableTgwEncryption } from './enable-tgw-encryption.ts';
import { manualGuidance } from './manual-guidance.ts';
import { moveInstance } from './move-instance.ts';
import { restoreEnforce } from './restore-enforce.ts';
import { switchToEnforce } from './switch-to-enforce.ts';
import {
  type ActionContext,
  type ActionDefinition,
  type AppliedChange,
  type ApplyOutcome,
  failureOf,
  outcomeFor,
  type StateSnapshot,
  type VerifyOutcome,
} from './types.ts';

export const ACTIONS: { readonly [K in ActionKind]: ActionDefinition<K> } = {
  'create-monitor-control': createMonitorControl,
  'switch-to-enforce': switchToEnforce,
  'enable-exclusion': enableExclusion,
  'disable-exclusion': disableExclusion,
  'move-instance': moveInstance,
  'enable-tgw-encryption': enableTgwEncryption,
  'create-flow-log': createFlowLog,
  'restore-enforce': restoreEnforce,
  'manual-guidance': manualGuidance,
};

export function definitionFor<K extends ActionKind>(kind: K): ActionDefinition<K> {
  return ACTIONS[kind];
}

/** Every IAM action any unit may call, sorted and unique: what the member role's policy grants. */
export function allPermissions(): string[] {
  return [...new Set(Object.values(ACTIONS).flatMap((d) => d.permissions))].sort();
}

/**
 * What the stacks grant: `allPermissions()` less what only `undo` calls (no deployed function undoes), so
 * e.g. `ec2:DeleteVpcEncryptionControl` is granted to nobody.
 */
export function grantedPermissions(): string[] {
  const undoOnly = new Set(Object.values(ACTIONS).flatMap((d) => d.undoOnly ?? []));
  const usedElsewhere = new Set(
    Object.values(ACTIONS).flatMap((d) => d.permissions.filter((p) => !(d.undoOnly ?? []).includes(p))),
  );
  return allPermissions().filter((p) => !undoOnly.has(p) || usedElsewhere.has(p));
}

export interface ActionResult extends ApplyOutcome {
  readonly actionId: string;
  /** The first verify after an `applied` outcome, when asked for. */
  readonly verify?: VerifyOutcome;
}

export interface ApplyOptions {
  /** Read the result once right after applying (the loop's PollTransitions keeps polling). Default false. */
  readonly verify?: boolean;
  /**
   * Called after the preconditions said ok and before the change is made, with the state they read: the
   * audit log's intent is written here. If it throws, nothing is changed and the error is thrown on
   * unchanged (the one error `applyPlannedAction` lets out: a change that could not be recorded is not made).
   */
  readonly beforeChange?: (before: StateSnapshot) => Promise<void>;
}

/** Carries a `beforeChange` failure past the catch that turns AWS errors into outcomes. */
class NotRecorded {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * Apply one planned action: preconditions on the live state, then the change, then (optionally) a first
 * verify. Returns exactly one outcome and never throws, except what `beforeChange` throws.
 */
export async function applyPlannedAction(
  ctx: ActionContext,
  action: PlannedAction,
  options: ApplyOptions = {},
): Promise<ActionResult> {
  const definition: ActionDefinition = ACTIONS[action.kind];
  const out = outcomeFor(ctx, action);
  const result = (outcome: ApplyOutcome, verify?: VerifyOutcome): ActionResult => ({
    ...outcome,
    actionId: action.id,
    ...(verify === undefined ? {} : { verify }),
  });
  if (action.gate === 'off') {
    return result(
      out('refused', `The policy's gate for ${action.kind} is off; it is reported, never applied.`),
    );
  }
  let before: StateSnapshot | undefined;
  try {
    const checked = await definition.preconditions(ctx, action);
    before = checked.before;
    if (checked.status === 'refused') {
      return result(out('refused', checked.reason, checked.before ? { before: checked.before } : {}));
    }
    if (checked.status === 'already-so') {
      return result(out('already-so', checked.message, { before: checked.before }));
    }
    if (options.beforeChange) {
      try {
        await options.beforeChange(checked.before);
      } catch (error) {
        throw new NotRecorded(error);
      }
    }
    const applied = await definition.apply(ctx, action, checked);
    if (!options.verify || applied.outcome !== 'applied') return result(applied);
    return result(applied, await verifySafely(definition, ctx, action));
  } catch (error) {
    if (error instanceof NotRecorded) throw error.error;
    const failure = failureOf(error);
    return result(
      out('failed', failure.message, {
        ...(before === undefined ? {} : { before }),
        errorCode: failure.errorCode,
        retryable: failure.retryable,
      }),
    );
  }
}

/** A verify whose read failed says so as `pending`: the change itself was made, only the read back was not. */
async function verifySafely(
  definition: ActionDefinition,
  ctx: ActionContext,
  action: PlannedAction,
): Promise<VerifyOutcome> {
  try {
    return await definition.verify(ctx, action);
  } catch (error) {
    const failure = failureOf(error);
    return {
      status: 'pending',
      message: `Could not read the result yet (${failure.errorCode}): ${failure.message}`,
    };
  }
}

/** Verify one planned action; a failed read is reported as pending with its error code (see verifySafely). */
export function verifyPlannedAction(ctx: ActionContext, action: PlannedAction): Promise<VerifyOutcome> {
  return verifySafely(ACTIONS[action.kind], ctx, action);
}

/** Undo one audit-log entry; `refused` with the unit's reason where undo is impossible. Never throws. */
export async function undoChange(ctx: ActionContext, entry: AppliedChange): Promise<ApplyOutcome> {
  const definition: ActionDefinition = ACTIONS[entry.kind];
  const out = outcomeFor(ctx, entry);
  if (definition.undo === undefined) return out('refused', definition.undoUnavailable);
  try {
    return await definition.undo(ctx, entry);
  } catch (error) {
    const failure = failureOf(error);
    return out('failed', failure.message, { errorCode: failure.errorCode, retryable: failure.retryable });
  }
}

/**
 * What the live state says of a change whose caller stopped before recording it: in effect (the call took),
 * failed (it landed somewhere else: the unit's verify says how), or not in effect (the call was lost or
 * refused). `unknown` when the state could not be read: the intent stays open for the next reader.
 */
export type ReadBack =
  | {
      readonly status: 'in-effect' | 'not-in-effect' | 'failed';
      readonly message: string;
      readonly state?: StateSnapshot;
    }
  | { readonly status: 'unknown'; readonly message: string };

export async function readBack(ctx: ActionContext, action: PlannedAction): Promise<ReadBack> {
  const definition: ActionDefinition = ACTIONS[action.kind];
  try {
    const checked = await definition.preconditions(ctx, action);
    if (checked.status === 'already-so')
      return { status: 'in-effect', message: checked.message, state: checked.before };
    if (checked.status === 'ok') {
      return {
        status: 'not-in-effect',
        message: 'the live state still wants the change: the call was lost or did not take',
        state: checked.before,
      };
    }
    // Refused now: the change may have landed somewhere the preconditions do not start from (enforce-failed).
    const verified = await definition.verify(ctx, action);
    if (verified.status === 'failed') {
      return {
        status: 'failed',
        message: verified.message,
        ...(verified.state ? { state: verified.state } : {}),
      };
    }
    return {
      status: 'in-effect',
      message: verified.message,
      ...(verified.state ? { state: verified.state } : {}),
    };
  } catch (error) {
    const failure = failureOf(error);
    return { status: 'unknown', message: `${failure.errorCode}: ${failure.message}` };
  }
}
