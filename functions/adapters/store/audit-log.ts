/**
 * The audit log: one entry per applied (or dry-run, failed, already-so) action, with who approved it and
 * the state before and after, so that every change vecguard makes can be explained and undone (docs/design.md §5).
 * Append-only: a put is conditional on `attribute_not_exists(pk)`, so an entry is never overwritten.
 */
import { PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ActionKindSchema, ActionOutcomeSchema } from '../../domain/action-kinds.ts';
import { toAwsCallError } from '../../shared/errors.ts';
import { AuditEntryExistsError, StoreIntegrityError } from './errors.ts';
import { isConditionalCheckFailed, isoTime, keys, type StateTable, send } from './table.ts';

/** The domain's outcomes (functions/domain/action-kinds.ts): the run summary counts what the log records. */
export const AuditOutcomeSchema = ActionOutcomeSchema;
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

export const AuditEntrySchema = z.object({
  /** When the action was applied; with the action id it is the entry's sort key. */
  at: z.iso.datetime(),
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  actionId: z.string().min(1),
  runId: z.string().min(1),
  kind: ActionKindSchema,
  resourceId: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  approvalId: z.string().optional(),
  /** The approver's ARN, or `auto` for an action the policy lets run without approval. */
  approvedBy: z.string().min(1),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  outcome: AuditOutcomeSchema,
  error: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditEntryInput = z.input<typeof AuditEntrySchema>;

export interface ListAuditOptions {
  /** Only entries at or after this time. */
  readonly since?: Date | string;
  /** Newest first instead of oldest first. */
  readonly newestFirst?: boolean;
  /** At most this many entries. */
  readonly limit?: number;
}

export class AuditLog {
  readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  /** Append one entry; `AuditEntryExistsError` if an entry with the same time and action id exists. */
  async appendAuditEntry(input: AuditEntryInput): Promise<AuditEntry> {
    const parsed = AuditEntrySchema.parse(input);
    // JSON round trip: before/after/params are plain data; this drops undefined values DynamoDB would refuse.
    const entry = JSON.parse(JSON.stringify({ ...parsed, at: isoTime(parsed.at, 'at') })) as AuditEntry;
    const pk = keys.audit(entry.accountId, entry.region);
    const sk = keys.auditSk(entry.at, entry.actionId);
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { pk, sk, ...entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new AuditEntryExistsError(pk, sk);
      throw toAwsCallError(error, 'dynamodb', 'PutItem');
    }
    return entry;
  }

  /** The scope's entries in time order (oldest first unless `newestFirst`). */
  async listAuditEntries(
    accountId: string,
    region: string,
    options: ListAuditOptions = {},
  ): Promise<AuditEntry[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    const pk = keys.audit(accountId, region);
    const since = options.since === undefined ? undefined : isoTime(options.since, 'since');
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const remaining = options.limit === undefined ? undefined : options.limit - entries.length;
      const page = await send<QueryCommandOutput>(
        this.table,
        'Query',
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: since === undefined ? 'pk = :pk' : 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: since === undefined ? { ':pk': pk } : { ':pk': pk, ':since': since },
          ScanIndexForward: !options.newestFirst,
          ...(remaining === undefined ? {} : { Limit: remaining }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, ...rest } = item;
        const parsed = AuditEntrySchema.safeParse(rest);
        if (!parsed.success) {
          throw new StoreIntegrityError(`audit entry ${pk} / ${String(item.sk)} is not what vecguard writes`);
        }
        entries.push(parsed.data);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (options.limit === undefined || entries.length < options.limit));
    return entries;
  }
}
