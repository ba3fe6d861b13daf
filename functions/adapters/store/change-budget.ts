/**
 * The change budget: how many changes a run, and all the runs of one scheduled sweep, have made — counted in
 * the state table, not in memory, so that it holds across the run's iterations, across retried and
 * re-invoked Lambdas, and across the scopes of a sweep that run at the same time (docs/loop.md "Change caps").
 *
 * One counter item per run (`RUN#<run>` / `CHANGES`) and per sweep (`SWEEP#<sweepId>` / `CHANGES`), each a
 * string set of the changes it holds. A reservation adds the change to the set with a conditional
 * UpdateItem: `ADD` on a set is idempotent, and the condition lets it in only when the set already holds it
 * (a retry of the same action costs nothing more) or holds fewer than the cap. DynamoDB evaluates the
 * condition and applies the update atomically per item ("Condition expressions", DynamoDB Developer Guide,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html),
 * so concurrent reservations never take one set past its cap.
 *
 * The run's set is reserved first, then the sweep's; when the sweep is full the run's reservation is given
 * back. No transaction (the sandbox's DynamoDB has none, and none is needed): each set on its own never
 * passes its cap, and a change is made only when both hold it. A Lambda that dies between the two leaves
 * the run holding a change it never made — the cap errs on the side of fewer changes, never more.
 */
import {
  GetCommand,
  type GetCommandOutput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { AwsCallError } from '../../shared/errors.ts';
import { isConditionalCheckFailed, keys, type RunKey, type StateTable, send } from './table.ts';

/** Whose budget a change draws on: its run, and the sweep the run belongs to (null: none). */
export interface BudgetOwner {
  readonly run: RunKey;
  readonly sweepId: string | null;
}

export interface ChangeCaps {
  /** `limits.maxChangesPerRun` */
  readonly perRun: number;
  /** `limits.maxChangesPerSweep`; used only when the owner belongs to a sweep. */
  readonly perSweep: number;
}

export type Reservation =
  /** `fresh`: which sets this call added the change to (false: they held it already, from an earlier try). */
  | { readonly reserved: true; readonly fresh: { readonly run: boolean; readonly sweep: boolean } }
  /** Which cap is full: the change is deferred to a later run, not failed. */
  | { readonly reserved: false; readonly cap: 'run' | 'sweep' };

/** Changes held so far: by the run, and by its sweep (null: the run belongs to none). */
export interface ChangesUsed {
  readonly run: number;
  readonly sweep: number | null;
}

const CHANGES = 'changes';
const HELD_BACK = 'heldBack';

export class ChangeBudgetStore {
  readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  /**
   * Reserve one change (`changeId`: the planned action's id, stable across iterations) before its mutating
   * call. Reserving a change the owner already holds succeeds and costs nothing.
   */
  async reserve(owner: BudgetOwner, changeId: string, caps: ChangeCaps): Promise<Reservation> {
    const run = await this.add(runCounter(owner), changeId, caps.perRun);
    if (run === 'full') return { reserved: false, cap: 'run' };
    if (owner.sweepId === null) return { reserved: true, fresh: { run: run === 'added', sweep: false } };
    const sweep = await this.add(sweepCounter(owner.sweepId), sweepEntry(owner, changeId), caps.perSweep);
    if (sweep !== 'full')
      return { reserved: true, fresh: { run: run === 'added', sweep: sweep === 'added' } };
    // The sweep is full: the run must not keep a change it will not make (it would shrink its own budget).
    await this.remove(runCounter(owner), changeId);
    return { reserved: false, cap: 'sweep' };
  }

  /**
   * Give back what a reservation added (`fresh`): its action made no mutating call after all. A change the
   * sets held before this reservation stays: an earlier try made it.
   */
  async release(
    owner: BudgetOwner,
    changeId: string,
    fresh: { run: boolean; sweep: boolean },
  ): Promise<void> {
    if (fresh.run) await this.remove(runCounter(owner), changeId);
    if (fresh.sweep && owner.sweepId !== null) {
      await this.remove(sweepCounter(owner.sweepId), sweepEntry(owner, changeId));
    }
  }

  /**
   * Note on the run's counter the changes a full cap held back, for the run's report (`heldBack`). A set
   * again: a retried Apply notes each once.
   */
  async recordHeldBack(owner: BudgetOwner, changeIds: readonly string[]): Promise<void> {
    if (changeIds.length === 0) return;
    await send(
      this.table,
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: runCounter(owner),
        UpdateExpression: 'ADD #heldBack :ids',
        ExpressionAttributeNames: { '#heldBack': HELD_BACK },
        ExpressionAttributeValues: { ':ids': new Set(changeIds) },
      }),
    );
  }

  /** What the run and its sweep hold now (strongly consistent reads). */
  async used(owner: BudgetOwner): Promise<ChangesUsed> {
    const [run, sweep] = await Promise.all([
      this.read(runCounter(owner)),
      owner.sweepId === null ? Promise.resolve(null) : this.read(sweepCounter(owner.sweepId)),
    ]);
    return { run: run.changes.length, sweep: sweep === null ? null : sweep.changes.length };
  }

  /** The run's own record: the changes it holds and those a cap held back (some may have been made later). */
  async ofRun(owner: BudgetOwner): Promise<{ changes: string[]; heldBack: string[] }> {
    return this.read(runCounter(owner));
  }

  /** Add `entry` to the counter's set unless that would pass `cap`: `held` when the set had it already. */
  private async add(counter: CounterKey, entry: string, cap: number): Promise<'added' | 'held' | 'full'> {
    // `attribute_not_exists` would let the first change in under a cap of 0.
    if (cap <= 0) return 'full';
    try {
      const { Attributes } = await send<UpdateCommandOutput>(
        this.table,
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: counter,
          UpdateExpression: 'ADD #changes :entry',
          ConditionExpression:
            'attribute_not_exists(#changes) OR contains(#changes, :id) OR size(#changes) < :cap',
          ExpressionAttributeNames: { '#changes': CHANGES },
          ExpressionAttributeValues: { ':entry': new Set([entry]), ':id': entry, ':cap': cap },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const before = Attributes?.[CHANGES];
      return before instanceof Set && before.has(entry) ? 'held' : 'added';
    } catch (error) {
      // The cap is full: an answer, not a failure.
      if (error instanceof AwsCallError && isConditionalCheckFailed(error.cause)) return 'full';
      throw error;
    }
  }

  private async remove(counter: CounterKey, entry: string): Promise<void> {
    await send(
      this.table,
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: counter,
        UpdateExpression: 'DELETE #changes :entry',
        ExpressionAttributeNames: { '#changes': CHANGES },
        ExpressionAttributeValues: { ':entry': new Set([entry]) },
      }),
    );
  }

  private async read(counter: CounterKey): Promise<{ changes: string[]; heldBack: string[] }> {
    const { Item } = await send<GetCommandOutput>(
      this.table,
      'GetItem',
      new GetCommand({ TableName: this.table.tableName, Key: counter, ConsistentRead: true }),
    );
    const list = (value: unknown) => (value instanceof Set ? [...value].map(String).sort() : []);
    return { changes: list(Item?.[CHANGES]), heldBack: list(Item?.[HELD_BACK]) };
  }
}

interface CounterKey {
  readonly pk: string;
  readonly sk: string;
}

const runCounter = (owner: BudgetOwner): CounterKey => ({ pk: keys.run(owner.run), sk: keys.changesSk });
const sweepCounter = (sweepId: string): CounterKey => ({ pk: keys.sweep(sweepId), sk: keys.changesSk });
/** A sweep's set holds the changes of many runs: each entry names its run and scope. */
const sweepEntry = (owner: BudgetOwner, changeId: string) =>
  `${owner.run.runId}#${owner.run.accountId}#${owner.run.region}#${changeId}`;

// ---------------------------------------------------------------------------------------------------------
// One Apply invocation's use of the budget

/** The part of a planned action the budget needs. */
export interface BudgetedAction {
  readonly id: string;
  /** Does the action call anything mutating at all (`isMutating`, functions/domain/action-kinds.ts)? */
  readonly mutating: boolean;
}

export interface HeldBackChange {
  readonly actionId: string;
  readonly cap: 'run' | 'sweep';
}

/**
 * The budget as one Apply invocation draws on it, action by action: `admit` right before an action's call,
 * `settle` after the last. Only real mutating calls count:
 * - a dry run reserves nothing (its calls go out with DryRun=true and change nothing), nor does an action
 *   that calls nothing mutating (manual guidance);
 * - a reservation whose action then made no mutating call (already so, refused by a precondition, failed on
 *   a read) is given back when the next action is admitted or at `settle`: `mutatingCalls` (the EC2
 *   gateway's count of mutating attempts) did not move;
 * - a reservation whose action did call is kept, whatever the outcome: a failed call may have changed
 *   something (an instance stopped before its retype failed), and the cap counts what vecguard tried.
 */
export class ApplyBudget {
  readonly heldBack: HeldBackChange[] = [];
  private open:
    | { readonly actionId: string; readonly calls: number; readonly fresh: { run: boolean; sweep: boolean } }
    | undefined;

  private readonly store: ChangeBudgetStore;
  private readonly owner: BudgetOwner;
  private readonly caps: ChangeCaps;
  private readonly options: { readonly dryRun: boolean; readonly mutatingCalls: () => number };

  constructor(
    store: ChangeBudgetStore,
    owner: BudgetOwner,
    caps: ChangeCaps,
    options: { readonly dryRun: boolean; readonly mutatingCalls: () => number },
  ) {
    this.store = store;
    this.owner = owner;
    this.caps = caps;
    this.options = options;
  }

  /** May this action go ahead? false: a cap is full, and the action is held back (deferred, not failed). */
  async admit(action: BudgetedAction): Promise<boolean> {
    await this.settle();
    if (this.options.dryRun || !action.mutating) return true;
    const reservation = await this.store.reserve(this.owner, action.id, this.caps);
    if (!reservation.reserved) {
      this.heldBack.push({ actionId: action.id, cap: reservation.cap });
      await this.store.recordHeldBack(this.owner, [action.id]);
      return false;
    }
    this.open = { actionId: action.id, calls: this.options.mutatingCalls(), fresh: reservation.fresh };
    return true;
  }

  /** Close the last admitted action: give its reservation back if it called nothing mutating. */
  async settle(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    if (open && this.options.mutatingCalls() === open.calls) {
      await this.store.release(this.owner, open.actionId, open.fresh);
    }
  }
}
