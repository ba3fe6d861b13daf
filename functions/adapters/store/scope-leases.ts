/**
 * The per-scope lease (`SCOPE#<account>#<region>` / `LEASE`, docs/loop.md "The store"): which run holds the
 * scope, until when, the input it was started with, and the VPCs events named while it ran (`pending`, a
 * string set, and `pendingWholeScope`). Every write is conditional, so that two on-event invocations at once
 * cannot both take a scope, and a run that lost its lease (expired, taken over) cannot release another's.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  type GetCommandOutput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { mergePending, NOTHING_PENDING, type PendingWork } from '../../domain/scope-lease.ts';
import { AwsCallError, toAwsCallError } from '../../shared/errors.ts';
import { StoreIntegrityError } from './errors.ts';
import { isConditionalCheckFailed, keys, type StateTable, send, stateTableClient } from './table.ts';

/** The leases of the state table `tableName`, with a DynamoDB client of the SDK's usual chain (on-event's). */
export function scopeLeaseStore(
  tableName: string,
  instrument: (client: DynamoDBClient) => DynamoDBClient = (c) => c,
): ScopeLeaseStore {
  return new ScopeLeaseStore({ client: stateTableClient(instrument(new DynamoDBClient({}))), tableName });
}

const LeaseItemSchema = z.object({
  runId: z.string().min(1),
  executionName: z.string().min(1),
  executionArn: z.string().min(1),
  /** The execution input, as JSON: what a hand-over retried after the handover starts again. */
  input: z.string().min(1),
  startedAt: z.string(),
  expiresAt: z.string(),
  pending: z.set(z.string()).optional(),
  pendingWholeScope: z.boolean().optional(),
  /** The run that handed the lease to this one (a follow-up). */
  handedOverBy: z.string().optional(),
});

export interface ScopeLease {
  readonly runId: string;
  readonly executionName: string;
  readonly executionArn: string;
  readonly input: string;
  readonly startedAt: string;
  readonly expiresAt: string;
  readonly pending: PendingWork;
  readonly handedOverBy?: string;
}

/** The run a lease is taken for. */
export interface LeaseHolder {
  readonly runId: string;
  readonly executionName: string;
  readonly executionArn: string;
  readonly input: string;
  readonly expiresAt: string;
}

export interface ScopeKey {
  readonly accountId: string;
  readonly region: string;
}

export type ClaimResult =
  /** `stale`: what a lease that had expired still held pending; the new run must cover it. */
  | { readonly claimed: true; readonly stale: PendingWork }
  | { readonly claimed: false; readonly holder: ScopeLease };

export class ScopeLeaseStore {
  readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  private key(scope: ScopeKey) {
    return { pk: keys.scope(scope.accountId, scope.region), sk: keys.scopeSk };
  }

  async get(scope: ScopeKey): Promise<ScopeLease | undefined> {
    const { Item } = await send<GetCommandOutput>(
      this.table,
      'GetItem',
      new GetCommand({ TableName: this.table.tableName, Key: this.key(scope), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : this.parse(scope, Item);
  }

  /**
   * Take the scope for `holder` if nobody holds it or the holder's lease expired. An expired lease's pending
   * work is handed back (and cleared), so the new run covers it: a dead run loses nothing.
   */
  async claim(scope: ScopeKey, holder: LeaseHolder, now: Date, attempt = 0): Promise<ClaimResult> {
    const claimed = await this.conditional<UpdateCommandOutput>(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        UpdateExpression:
          'SET runId = :runId, executionName = :name, executionArn = :arn, #input = :input, startedAt = :now, expiresAt = :expiresAt REMOVE pending, pendingWholeScope, handedOverBy',
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeNames: { '#input': 'input' },
        ExpressionAttributeValues: {
          ':runId': holder.runId,
          ':name': holder.executionName,
          ':arn': holder.executionArn,
          ':input': holder.input,
          ':now': now.toISOString(),
          ':expiresAt': holder.expiresAt,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (claimed !== undefined) {
      return { claimed: true, stale: claimed.Attributes ? pendingIn(claimed.Attributes) : NOTHING_PENDING };
    }
    const holderNow = await this.get(scope);
    // Released or expired between the two calls: try again, a few times (then the caller's retry does).
    if (holderNow === undefined || holderNow.expiresAt < now.toISOString()) {
      if (attempt < 3) return this.claim(scope, holder, now, attempt + 1);
      throw new AwsCallError(
        'dynamodb',
        'UpdateItem',
        'LeaseContention',
        'the scope lease kept changing hands',
      );
    }
    return { claimed: false, holder: holderNow };
  }

  /**
   * Take the scope from `staleRunId`, whose execution is over without having released it (aborted, or its
   * reporting failed): conditional on that run still holding it. Answers what it left pending, or undefined
   * when someone else took or released the lease first.
   */
  async takeOver(
    scope: ScopeKey,
    staleRunId: string,
    holder: LeaseHolder,
    now: Date,
  ): Promise<{ readonly stale: PendingWork } | undefined> {
    const taken = await this.conditional<UpdateCommandOutput>(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        UpdateExpression:
          'SET runId = :runId, executionName = :name, executionArn = :arn, #input = :input, startedAt = :now, expiresAt = :expiresAt REMOVE pending, pendingWholeScope, handedOverBy',
        ConditionExpression: 'runId = :stale',
        ExpressionAttributeNames: { '#input': 'input' },
        ExpressionAttributeValues: {
          ':runId': holder.runId,
          ':name': holder.executionName,
          ':arn': holder.executionArn,
          ':input': holder.input,
          ':now': now.toISOString(),
          ':expiresAt': holder.expiresAt,
          ':stale': staleRunId,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return taken === undefined
      ? undefined
      : { stale: taken.Attributes ? pendingIn(taken.Attributes) : NOTHING_PENDING };
  }

  /**
   * Add work to the run holding the scope (a DynamoDB ADD to the string set: concurrent adds all land).
   * Answers the holder, or undefined when no live lease holds the scope (the caller claims it instead).
   */
  async addPending(scope: ScopeKey, work: PendingWork, now: Date): Promise<ScopeLease | undefined> {
    const set: string[] = [];
    const values: Record<string, unknown> = { ':now': now.toISOString() };
    if (work.vpcIds.length > 0) {
      set.push('ADD pending :vpcIds');
      values[':vpcIds'] = new Set(work.vpcIds);
    }
    if (work.wholeScope) {
      set.push('SET pendingWholeScope = :true');
      values[':true'] = true;
    }
    if (set.length === 0) return this.get(scope);
    const added = await this.conditional<UpdateCommandOutput>(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        UpdateExpression: set.join(' '),
        ConditionExpression: 'attribute_exists(pk) AND expiresAt >= :now',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return added?.Attributes ? this.parse(scope, added.Attributes) : undefined;
  }

  /**
   * The run `runId` ends: release the scope if nothing is pending. Answers `released`, `not-held` (the lease
   * is another run's: expired and taken, or already handed over), or `pending` with the work to follow up.
   */
  async release(
    scope: ScopeKey,
    runId: string,
  ): Promise<
    | { readonly outcome: 'released' }
    | { readonly outcome: 'not-held'; readonly lease?: ScopeLease }
    | { readonly outcome: 'pending'; readonly lease: ScopeLease }
  > {
    const deleted = await this.conditional(
      'DeleteItem',
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        ConditionExpression:
          'runId = :runId AND attribute_not_exists(pending) AND (attribute_not_exists(pendingWholeScope) OR pendingWholeScope = :false)',
        ExpressionAttributeValues: { ':runId': runId, ':false': false },
      }),
    );
    if (deleted !== undefined) return { outcome: 'released' };
    const lease = await this.get(scope);
    if (lease === undefined) return { outcome: 'not-held' };
    if (lease.runId !== runId) return { outcome: 'not-held', lease };
    return { outcome: 'pending', lease };
  }

  /**
   * Hand the scope from `fromRunId` to its follow-up, taking `taken` out of the pending work (work added
   * after it was read stays pending, for the follow-up's own end). Answers false when `fromRunId` no longer
   * holds the scope.
   */
  async handOver(scope: ScopeKey, fromRunId: string, to: LeaseHolder, taken: PendingWork, now: Date) {
    const actions = [
      'SET runId = :runId, executionName = :name, executionArn = :arn, #input = :input, startedAt = :now, expiresAt = :expiresAt, handedOverBy = :from',
    ];
    const values: Record<string, unknown> = {
      ':runId': to.runId,
      ':name': to.executionName,
      ':arn': to.executionArn,
      ':input': to.input,
      ':now': now.toISOString(),
      ':expiresAt': to.expiresAt,
      ':from': fromRunId,
    };
    if (taken.wholeScope) actions.push('REMOVE pendingWholeScope');
    if (taken.vpcIds.length > 0) {
      actions.push('DELETE pending :taken');
      values[':taken'] = new Set(taken.vpcIds);
    }
    const updated = await this.conditional(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        UpdateExpression: actions.join(' '),
        ConditionExpression: 'runId = :from',
        ExpressionAttributeNames: { '#input': 'input' },
        ExpressionAttributeValues: values,
      }),
    );
    return updated !== undefined;
  }

  /**
   * Give up a lease whose run did not start (StartExecution failed, or the name was already used): it
   * expires now, keeping `keep` pending, so that the next event takes the scope and covers that work.
   */
  async abandon(scope: ScopeKey, runId: string, keep: PendingWork): Promise<void> {
    const actions = ['SET expiresAt = :past'];
    const values: Record<string, unknown> = { ':runId': runId, ':past': new Date(0).toISOString() };
    if (keep.vpcIds.length > 0) {
      actions.push('ADD pending :keep');
      values[':keep'] = new Set(keep.vpcIds);
    }
    if (keep.wholeScope) {
      actions[0] += ', pendingWholeScope = :true';
      values[':true'] = true;
    }
    // Not held any more (taken over): nothing of ours to give up.
    await this.conditional(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: this.key(scope),
        UpdateExpression: actions.join(' '),
        ConditionExpression: 'runId = :runId',
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** A conditional write: its output, or `undefined` when the condition did not hold. */
  private async conditional<Output>(action: string, command: unknown): Promise<Output | undefined> {
    try {
      return (await this.table.client.send(command as never)) as Output;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw toAwsCallError(error, 'dynamodb', action);
    }
  }

  private parse(scope: ScopeKey, item: Record<string, unknown>): ScopeLease {
    const parsed = LeaseItemSchema.safeParse(item);
    if (!parsed.success) {
      throw new StoreIntegrityError(
        `scope lease ${keys.scope(scope.accountId, scope.region)} is not what vecguard writes: ${parsed.error.message}`,
      );
    }
    const { pending: _p, pendingWholeScope: _w, handedOverBy, ...rest } = parsed.data;
    return {
      ...rest,
      pending: pendingIn(item),
      ...(handedOverBy === undefined ? {} : { handedOverBy }),
    };
  }
}

function pendingIn(item: Record<string, unknown>): PendingWork {
  const set = item.pending instanceof Set ? [...(item.pending as Set<unknown>)] : [];
  return mergePending(NOTHING_PENDING, {
    vpcIds: set.filter((v): v is string => typeof v === 'string'),
    wholeScope: item.pendingWholeScope === true,
  });
}
