/**
 * The audit log: one entry per applied (or dry-run, failed, already-so) action, with who approved it and
 * the state before and after, so that every change vecguard makes can be explained and undone (docs/design.md §5).
 * Append-only: a put is conditional on `attribute_not_exists(pk)`, so an entry is never overwritten.
 *
 * Write-ahead: before a mutating call, an **intent** (the action, its approval and the state it was checked
 * on) is appended; after it, the **outcome** entry names its intent (`intentAt`). An intent with no outcome
 * is open: the call may or may not have happened, and whoever finds it (a retry, the end of the run, the
 * next run) reads the live state and appends the outcome (`reconciled` says how it was found out).
 * Intents live beside the entries (sort key `<at>#<actionId>#intent`) and are listed apart from them.
 */
import { PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ActionKindSchema, ActionOutcomeSchema } from '../../domain/action-kinds.ts';
import { PlannedActionSchema } from '../../domain/remediation-plan.ts';
import { toAwsCallError } from '../../shared/errors.ts';
import { AuditEntryExistsError, StoreIntegrityError } from './errors.ts';
import { isConditionalCheckFailed, isoTime, keys, type StateTable, send } from './table.ts';

/** The domain's outcomes (functions/domain/action-kinds.ts): the run summary counts what the log records. */
export const AuditOutcomeSchema = ActionOutcomeSchema;
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/** What an intent and its outcome both say: which action, on what, for which run, under whose approval. */
const AuditedActionSchema = z.object({
  /** When it was recorded; with the action id it is the item's sort key. */
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
  /** The live state before: read by the preconditions just before the call. */
  before: z.unknown().optional(),
});

export const AuditEntrySchema = AuditedActionSchema.extend({
  after: z.unknown().optional(),
  outcome: AuditOutcomeSchema,
  error: z.string().optional(),
  /** The intent this outcome closes (its `at`); absent when no mutating call was made (dry run, refusal…). */
  intentAt: z.iso.datetime().optional(),
  /** Set when the outcome was read back from the live state, not seen by the caller: how and by whom. */
  reconciled: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditEntryInput = z.input<typeof AuditEntrySchema>;

/** What is about to be called, recorded before the call. */
export const AuditIntentSchema = AuditedActionSchema.extend({
  phase: z.literal('intent'),
  /** The planned action itself, so whoever reconciles can read its live state again. */
  action: PlannedActionSchema,
});
export type AuditIntent = z.infer<typeof AuditIntentSchema>;
export type AuditIntentInput = Omit<z.input<typeof AuditIntentSchema>, 'phase'>;

export interface OpenIntentFilter {
  /** Only this run's intents. */
  readonly runId?: string;
  /** Only intents of these actions. */
  readonly actionIds?: readonly string[];
  /** Only intents recorded before this time (another run's call that may still be in flight is left alone). */
  readonly before?: Date;
  /** Only entries at or after this time (intents and outcomes alike). */
  readonly since?: Date | string;
}

const INTENT_SUFFIX = '#intent';

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
    await this.put(entry.accountId, entry.region, keys.auditSk(entry.at, entry.actionId), entry);
    return entry;
  }

  /** Record what is about to be called, before calling it (see the module comment). */
  async appendIntent(input: AuditIntentInput): Promise<AuditIntent> {
    const parsed = AuditIntentSchema.parse({ ...input, phase: 'intent' });
    const intent = JSON.parse(JSON.stringify({ ...parsed, at: isoTime(parsed.at, 'at') })) as AuditIntent;
    const sk = `${keys.auditSk(intent.at, intent.actionId)}${INTENT_SUFFIX}`;
    await this.put(intent.accountId, intent.region, sk, intent);
    return intent;
  }

  /** Intents of the scope that no outcome entry closes yet, oldest first. */
  async listOpenIntents(
    accountId: string,
    region: string,
    filter: OpenIntentFilter = {},
  ): Promise<AuditIntent[]> {
    const { entries, intents } = await this.readScope(accountId, region, {
      ...(filter.since === undefined ? {} : { since: filter.since }),
    });
    const closed = new Set(entries.flatMap((e) => (e.intentAt ? [`${e.intentAt}#${e.actionId}`] : [])));
    return intents.filter(
      (i) =>
        !closed.has(`${i.at}#${i.actionId}`) &&
        (filter.runId === undefined || i.runId === filter.runId) &&
        (filter.actionIds === undefined || filter.actionIds.includes(i.actionId)) &&
        (filter.before === undefined || i.at < filter.before.toISOString()),
    );
  }

  private async put(accountId: string, region: string, sk: string, item: object): Promise<void> {
    const pk = keys.audit(accountId, region);
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { pk, sk, ...item },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new AuditEntryExistsError(pk, sk);
      throw toAwsCallError(error, 'dynamodb', 'PutItem');
    }
  }

  /** The scope's entries in time order (oldest first unless `newestFirst`); intents are not entries. */
  async listAuditEntries(
    accountId: string,
    region: string,
    options: ListAuditOptions = {},
  ): Promise<AuditEntry[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    return (await this.readScope(accountId, region, options)).entries;
  }

  /** The scope's partition: entries and intents apart, each in the order asked for. */
  private async readScope(
    accountId: string,
    region: string,
    options: ListAuditOptions,
  ): Promise<{ entries: AuditEntry[]; intents: AuditIntent[] }> {
    const pk = keys.audit(accountId, region);
    const since = options.since === undefined ? undefined : isoTime(options.since, 'since');
    const entries: AuditEntry[] = [];
    const intents: AuditIntent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await send<QueryCommandOutput>(
        this.table,
        'Query',
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: since === undefined ? 'pk = :pk' : 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: since === undefined ? { ':pk': pk } : { ':pk': pk, ':since': since },
          ScanIndexForward: !options.newestFirst,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk, ...rest } = item;
        const isIntent = typeof sk === 'string' && sk.endsWith(INTENT_SUFFIX);
        const parsed = (isIntent ? AuditIntentSchema : AuditEntrySchema).safeParse(rest);
        if (!parsed.success) {
          throw new StoreIntegrityError(`audit entry ${pk} / ${String(sk)} is not what vecguard writes`);
        }
        if (isIntent) intents.push(parsed.data as AuditIntent);
        else entries.push(parsed.data as AuditEntry);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (options.limit === undefined || entries.length < options.limit));
    return { entries: options.limit === undefined ? entries : entries.slice(0, options.limit), intents };
  }
}
