/**
 * The shape of a remediation unit (Cloud Custodian style: each action declares what it is, what it may
 * cost, which IAM actions it needs, and how to check, apply, verify and undo it) and of what it reports.
 * Outcomes are small JSON: the apply handler writes them to the audit log as they are.
 */
import type { ActionKind } from '../../domain/action-kinds.ts';
import type { ActionParams, PlannedAction } from '../../domain/remediation-plan.ts';
import { AwsCallError } from '../../shared/errors.ts';
import type { Ec2Gateway } from '../ec2-gateway.ts';

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/** What a resource looked like, for the audit log: mode, exclusion states, instance type and state… */
export type StateSnapshot = { readonly [key: string]: JsonValue };

/** How long and how often to poll a transition an action must wait for inside `apply` (an instance stopping). */
export interface PollSettings {
  readonly intervalMs: number;
  readonly maxTries: number;
}

/** The EC2 instance-stopped waiter's own settings (15 s × 40). */
export const DEFAULT_POLL: PollSettings = { intervalMs: 15_000, maxTries: 40 };

export interface ActionContext {
  readonly ec2: Ec2Gateway;
  /** The clock outcomes are stamped with. */
  readonly now: () => Date;
  /** Waits between polls; the sandbox tests pass one that advances the sandbox clock. Default: a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default: DEFAULT_POLL. */
  readonly poll?: PollSettings;
}

/**
 * - applied: the change was made (it may still be transitioning: see `verify`);
 * - dry-run: the mutating calls went out with DryRun=true and AWS said they would succeed; nothing changed;
 * - already-so: the live state already is what the action wants (idempotent success);
 * - refused: a precondition checked on the live state said no; nothing changed;
 * - failed: an AWS call failed (`errorCode` says which error); see the message for what was left changed;
 * - guidance: manual guidance, handed to a person; vecguard called nothing.
 */
export const OUTCOME_KINDS = ['applied', 'dry-run', 'already-so', 'refused', 'failed', 'guidance'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** Outcomes that count as success for the loop (nothing left to do for this action in this run). */
export function isSuccess(outcome: OutcomeKind): boolean {
  return outcome === 'applied' || outcome === 'dry-run' || outcome === 'already-so';
}

export interface ApplyOutcome {
  readonly kind: ActionKind;
  readonly resourceId: string;
  readonly outcome: OutcomeKind;
  /** One or two sentences for people. */
  readonly message: string;
  /** ISO-8601, from `ActionContext.now`. */
  readonly at: string;
  readonly before?: StateSnapshot;
  readonly after?: StateSnapshot;
  /** For `failed`: AWS's error code (`AwsCallError.code`), or the name of a local error. */
  readonly errorCode?: string;
  /** For `failed`: whether AWS said the call may succeed later (throttling, 5xx). */
  readonly retryable?: boolean;
  /** Things a person must know even when the action succeeded (e.g. a Xen source needs NVMe drivers). */
  readonly warnings?: readonly string[];
}

/** What an action found on the live state before changing anything. `Live` is what `apply` needs of it. */
export type Precondition<Live = unknown> =
  | { readonly status: 'ok'; readonly before: StateSnapshot; readonly live: Live }
  | { readonly status: 'already-so'; readonly before: StateSnapshot; readonly message: string }
  | { readonly status: 'refused'; readonly reason: string; readonly before?: StateSnapshot };

export type Ready<Live> = Extract<Precondition<Live>, { status: 'ok' }>;

/**
 * - done: the change has landed (the control is `available` in the new mode, the exclusion `enabled`…);
 * - pending: AWS is still moving it (unknown state strings count as pending: AWS has renamed states before);
 * - failed: it landed somewhere else (`enforce-failed`, the instance on another type…), with AWS's message.
 */
export interface VerifyOutcome {
  readonly status: 'done' | 'pending' | 'failed';
  readonly message: string;
  readonly state?: StateSnapshot;
}

/** An audit-log entry, as much of it as undo needs. */
export interface AppliedChange {
  readonly actionId: string;
  readonly kind: ActionKind;
  readonly resourceId: string;
  readonly vpcId?: string;
  readonly params: ActionParams;
  readonly outcome: OutcomeKind;
  readonly before?: StateSnapshot;
  readonly after?: StateSnapshot;
}

interface ActionDefinitionBase<K extends ActionKind, Live> {
  readonly kind: K;
  /** Every IAM action the unit may call, reads and undo included; CDK grants are derived from these. */
  readonly permissions: readonly string[];
  /**
   * Those of `permissions` only `undo` calls. No deployed function undoes (no handler calls `undoChange`), so
   * the stacks do not grant them (registry `grantedPermissions()`).
   */
  readonly undoOnly?: readonly string[];
  readonly description: string;
  /** Checks the live state: already so (idempotent success), ok (with what `apply` needs), or a refusal. */
  preconditions(ctx: ActionContext, action: PlannedAction): Promise<Precondition<Live>>;
  /** Makes the change; call only after `preconditions` said ok. Throws `AwsCallError` when AWS refuses. */
  apply(ctx: ActionContext, action: PlannedAction, ready: Ready<Live>): Promise<ApplyOutcome>;
  /** Reads whether the change has landed; never changes anything. */
  verify(ctx: ActionContext, action: PlannedAction): Promise<VerifyOutcome>;
}

/** A unit either can be undone, or says why it cannot. */
export type ActionDefinition<K extends ActionKind = ActionKind, Live = unknown> = ActionDefinitionBase<
  K,
  Live
> &
  (
    | {
        /** Puts back what the audit-log entry says was there; idempotent like apply. */
        undo(ctx: ActionContext, entry: AppliedChange): Promise<ApplyOutcome>;
        readonly undoUnavailable?: undefined;
      }
    | { readonly undo?: undefined; readonly undoUnavailable: string }
  );

/** Builds outcomes for one action, stamped with the context's clock. */
export function outcomeFor(
  ctx: ActionContext,
  subject: { readonly kind: ActionKind; readonly resourceId: string },
) {
  return (
    outcome: OutcomeKind,
    message: string,
    extra: Omit<ApplyOutcome, 'kind' | 'resourceId' | 'outcome' | 'message' | 'at'> = {},
  ): ApplyOutcome => ({
    kind: subject.kind,
    resourceId: subject.resourceId,
    outcome,
    message,
    at: ctx.now().toISOString(),
    ...extra,
  });
}

/** The audit-log entry for an outcome of `action` (what `undo` takes back). */
export function appliedChangeOf(action: PlannedAction, outcome: ApplyOutcome): AppliedChange {
  return {
    actionId: action.id,
    kind: action.kind,
    resourceId: action.resourceId,
    ...(action.vpcId === undefined ? {} : { vpcId: action.vpcId }),
    params: action.params,
    outcome: outcome.outcome,
    ...(outcome.before === undefined ? {} : { before: outcome.before }),
    ...(outcome.after === undefined ? {} : { after: outcome.after }),
  };
}

/** What an error says, for a `failed` outcome: AWS's code when AWS answered, the error's name otherwise. */
export function failureOf(error: unknown): { errorCode: string; retryable: boolean; message: string } {
  if (error instanceof AwsCallError) {
    return { errorCode: error.code, retryable: error.retryable, message: error.message };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorCode: e.name || 'Error', retryable: false, message: e.message };
}

/** Undo only takes back what an entry changed: a dry run, a refusal or "already so" left nothing to undo. */
export function changedNothing(entry: AppliedChange): boolean {
  return entry.outcome !== 'applied';
}

export const NOTHING_TO_UNDO =
  'the action changed nothing (its outcome was not "applied"), so there is nothing to undo';

/** A real timer, for Lambda; tests inject one that moves the sandbox clock. */
export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
