/**
 * The verdicts of the last audit per scope, `{ vpcId: VerdictKind }`, which the next audit reads to tell
 * DRIFTED (was enforced, is no longer) from never-enforced. One item per account + Region: 5,000 VPCs make
 * about 250 KB, inside the 400 KB item limit.
 */
import { GetCommand, type GetCommandOutput, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { type VerdictHistory, VerdictKindSchema } from '../../domain/verdict.ts';
import { StoreIntegrityError } from './errors.ts';
import { isoTime, keys, type StateTable, send } from './table.ts';

const HistoryItemSchema = z.object({
  verdicts: z.record(z.string(), VerdictKindSchema),
  updatedAt: z.string(),
  runId: z.string().optional(),
});

export class VerdictHistoryStore {
  readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  /** The verdicts of the last audit of the scope; empty when the scope was never audited. */
  async getVerdictHistory(accountId: string, region: string): Promise<VerdictHistory> {
    const pk = keys.history(accountId, region);
    const { Item } = await send<GetCommandOutput>(
      this.table,
      'GetItem',
      new GetCommand({
        TableName: this.table.tableName,
        Key: { pk, sk: keys.historySk },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return {};
    const parsed = HistoryItemSchema.safeParse(Item);
    if (!parsed.success) {
      throw new StoreIntegrityError(
        `verdict history ${pk} is not what vecguard writes: ${parsed.error.message}`,
      );
    }
    return parsed.data.verdicts;
  }

  /** Replace the scope's history with this audit's verdicts. */
  async putVerdictHistory(
    accountId: string,
    region: string,
    verdicts: VerdictHistory,
    meta: { readonly updatedAt: Date | string; readonly runId?: string },
  ): Promise<void> {
    await send(
      this.table,
      'PutItem',
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          pk: keys.history(accountId, region),
          sk: keys.historySk,
          verdicts: { ...verdicts },
          updatedAt: isoTime(meta.updatedAt, 'updatedAt'),
          ...(meta.runId === undefined ? {} : { runId: meta.runId }),
        },
      }),
    );
  }
}
