/**
 * Large JSON (inventory snapshot, audit report, plan) kept between the steps of a run, so that payloads
 * between states carry ids and counts only (docs/loop.md, "Payloads stay small"). Each blob name has one
 * schema (functions/domain/run-blobs.ts): a write is typed by it, and a read parses with it, so what a step
 * gets back is what the name promises or a `BlobInvalidError` naming the blob, the run and the path.
 *
 * A value is JSON-encoded and cut into chunks of at most 300 KB of UTF-8 (never inside a character), each an
 * item under 400 KB, DynamoDB's item limit. Every chunk carries the chunk count and the id of the write it
 * belongs to, so a reader detects a missing chunk, or chunks of two writes, instead of parsing half a plan.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
 */
import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { RUN_BLOB_SCHEMAS, type RunBlob, type RunBlobName } from '../../domain/run-blobs.ts';
import { AwsCallError } from '../../shared/errors.ts';
import { BlobIncompleteError, BlobInvalidError, BlobNotFoundError } from './errors.ts';
import { keys, type RunKey, type StateTable, send } from './table.ts';

/** Bytes of JSON per chunk (decimal KB, so well under DynamoDB's 400 KB item with its keys). */
export const CHUNK_BYTES = 300_000;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_MAX = 25;

export type { RunBlob, RunBlobName };

export interface BlobStoreOptions {
  /** Bytes per chunk; tests lower it. Default and maximum `CHUNK_BYTES`. */
  readonly chunkBytes?: number;
  /** Attempts at writing UnprocessedItems before giving up. Default 8. */
  readonly maxWriteAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface ChunkItem {
  pk: string;
  sk: string;
  chunk: number;
  chunks: number;
  writeId: string;
  bytes: number;
  data: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Split UTF-8 text into pieces of at most `max` bytes, never cutting a multi-byte character. */
export function splitUtf8(text: string, max: number): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const pieces: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + max, bytes.length);
    // 10xxxxxx is a continuation byte: back off to the start of its character.
    while (end < bytes.length && end > start && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    if (end === start) throw new RangeError(`a chunk of ${max} bytes cannot hold one character`);
    pieces.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return pieces.length === 0 ? [''] : pieces;
}

/** A zod issue path as a reader writes it: `vpcs[3].control.state`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

export class BlobStore {
  readonly table: StateTable;
  readonly #chunkBytes: number;
  readonly #maxWriteAttempts: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(table: StateTable, options: BlobStoreOptions = {}) {
    this.table = table;
    this.#chunkBytes = Math.min(options.chunkBytes ?? CHUNK_BYTES, CHUNK_BYTES);
    if (!(this.#chunkBytes >= 4))
      throw new RangeError(`chunkBytes must be at least 4, got ${this.#chunkBytes}`);
    this.#maxWriteAttempts = options.maxWriteAttempts ?? 8;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Store `value` as JSON under the run, name and iteration, replacing what was there (a retried step
   * writes again). Returns the number of chunks written.
   */
  async putBlob<N extends RunBlobName>(
    run: RunKey,
    name: N,
    iteration: number,
    value: RunBlob<N>,
  ): Promise<{ chunks: number }> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`blob ${name} has no JSON form (undefined or a function)`);
    const pk = keys.run(run);
    const pieces = splitUtf8(json, this.#chunkBytes);
    const writeId = randomUUID();
    const items: ChunkItem[] = pieces.map((data, chunk) => ({
      pk,
      sk: keys.blobChunk(name, iteration, chunk),
      chunk,
      chunks: pieces.length,
      writeId,
      bytes: Buffer.byteLength(data),
      data,
    }));
    const stale = (await this.#chunkKeys(pk, keys.blobPrefix(name, iteration))).filter(
      (k) => k.chunk >= pieces.length,
    );
    const requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = [
      ...items.map((Item) => ({ PutRequest: { Item } })),
      // Chunks past the new end, left by a longer earlier write: removed so the blob is exactly this one.
      ...stale.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
    ];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
      await this.#batchWrite(requests.slice(i, i + BATCH_WRITE_MAX));
    }
    return { chunks: pieces.length };
  }

  /**
   * Read a blob back, parsed with its name's schema. Throws `BlobNotFoundError` when absent,
   * `BlobIncompleteError` when a chunk is missing and `BlobInvalidError` when it does not parse.
   */
  async getBlob<N extends RunBlobName>(run: RunKey, name: N, iteration: number): Promise<RunBlob<N>> {
    const pk = keys.run(run);
    const prefix = keys.blobPrefix(name, iteration);
    const items = await this.#queryChunks(pk, prefix);
    if (items.length === 0) throw new BlobNotFoundError(pk, prefix);
    const first = items[0] as ChunkItem;
    const where = `blob ${pk} / ${prefix}*`;
    if (first.chunk !== 0) {
      throw new BlobIncompleteError(`${where}: chunk 0 of ${first.chunks} is missing`);
    }
    const expected = first.chunks;
    const parts: string[] = [];
    for (let i = 0; i < expected; i++) {
      const item = items[i];
      if (item === undefined || item.chunk !== i) {
        throw new BlobIncompleteError(`${where}: chunk ${i} of ${expected} is missing`);
      }
      if (item.writeId !== first.writeId || item.chunks !== expected) {
        throw new BlobIncompleteError(`${where}: chunk ${i} belongs to another write (torn write)`);
      }
      parts.push(item.data);
    }
    let json: unknown;
    try {
      json = JSON.parse(parts.join(''));
    } catch (error) {
      throw new BlobIncompleteError(
        `${where}: the ${expected} chunks do not form valid JSON (${String(error)})`,
      );
    }
    const parsed = RUN_BLOB_SCHEMAS[name].safeParse(json);
    if (!parsed.success) {
      const [issue] = parsed.error.issues;
      throw new BlobInvalidError(name, pk, iteration, issuePath(issue?.path ?? []), issue?.message ?? '');
    }
    return parsed.data as RunBlob<N>;
  }

  /** `getBlob`, but undefined when nothing is stored (a step that did not run in this iteration). */
  async findBlob<N extends RunBlobName>(
    run: RunKey,
    name: N,
    iteration: number,
  ): Promise<RunBlob<N> | undefined> {
    try {
      return await this.getBlob(run, name, iteration);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
  }

  async #queryChunks(pk: string, prefix: string): Promise<ChunkItem[]> {
    const items: ChunkItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await send<QueryCommandOutput>(
        this.table,
        'Query',
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          // Chunks are written just before they are read by the next state: read what was written.
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      items.push(...((page.Items ?? []) as ChunkItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  async #chunkKeys(pk: string, prefix: string): Promise<{ pk: string; sk: string; chunk: number }[]> {
    const found: { pk: string; sk: string; chunk: number }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await send<QueryCommandOutput>(
        this.table,
        'Query',
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ProjectionExpression: 'pk, sk, #chunk',
          ExpressionAttributeNames: { '#chunk': 'chunk' },
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) found.push(item as { pk: string; sk: string; chunk: number });
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return found;
  }

  /**
   * BatchWriteItem, writing UnprocessedItems again with exponential backoff and jitter, as the DynamoDB
   * guide asks; what is still unprocessed after the last attempt is an error, never dropped.
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
   */
  async #batchWrite(requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; ; attempt++) {
      const output = await send<BatchWriteCommandOutput>(
        this.table,
        'BatchWriteItem',
        new BatchWriteCommand({ RequestItems: { [this.table.tableName]: pending } }),
      );
      pending = output.UnprocessedItems?.[this.table.tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= this.#maxWriteAttempts) {
        throw new AwsCallError(
          'dynamodb',
          'BatchWriteItem',
          'UnprocessedItems',
          `${pending.length} chunk writes still unprocessed after ${attempt} attempts`,
        );
      }
      const backoff = Math.min(2_000, 50 * 2 ** (attempt - 1));
      await this.#sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
}
