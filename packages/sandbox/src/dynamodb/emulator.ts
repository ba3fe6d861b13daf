/**
 * DynamoDB for the sandbox: dynalite (DynamoDB on LevelDB, here on `memory-level`, so nothing touches disk)
 * behind the sandbox router.
 *
 * DynamoDB state is per account and Region, so each (account, Region) gets its own dynalite instance,
 * started on its first request and listening on an ephemeral loopback port; the emulator forwards the
 * request unchanged (awsJson1_0: `POST /`, `X-Amz-Target: DynamoDB_20120810.PutItem`, SigV4 headers, which
 * dynalite checks for presence) and returns dynalite's answer unchanged, so error bodies
 * (`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",…}`) reach the SDK exactly
 * as dynalite writes them. `close()` stops every instance; call it when the sandbox stops.
 * https://github.com/architect/dynalite
 */
import { Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { AccountRegionStore } from '../account-region-store.ts';
import { isReadAction, type SandboxRequest, type SandboxResponse, type ServiceEmulator } from '../service.ts';

/** DynamoDB's reads that AWS's Describe/Get/List naming does not cover. */
const DYNAMODB_READS = ['BatchGetItem', 'Query', 'Scan'];

export interface DynamoDbEmulatorOptions {
  /**
   * How long a table stays CREATING / DELETING / UPDATING, in ms. Default 0: the state still changes on
   * the next tick (so `waitUntilTableExists` has something to wait for) but tests do not sleep.
   */
  readonly tableTransitionMs?: number;
  /** Item size limit in KB (DynamoDB: 400). */
  readonly maxItemSizeKb?: number;
}

interface Instance {
  readonly server: Server;
  readonly port: number;
  readonly agent: Agent;
}

/** Headers that belong to one hop, not to the request. */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export class DynamoDbEmulator implements ServiceEmulator {
  readonly signingName = 'dynamodb';
  readonly protocol = 'json' as const;

  private readonly options: DynamoDbEmulatorOptions;
  private readonly instances = new AccountRegionStore<Promise<Instance>>((accountId, region) =>
    this.launch(accountId, region),
  );
  private closed = false;

  constructor(options: DynamoDbEmulatorOptions = {}) {
    this.options = options;
  }

  /** The (account/Region) pairs that have a running dynalite. */
  get scopes(): string[] {
    return [...this.instances.keys()];
  }

  actionOf(req: SandboxRequest): string {
    const target = req.headers['x-amz-target'] ?? '';
    return target.slice(target.lastIndexOf('.') + 1);
  }

  /** Starts the instance for an account and Region now rather than on its first request. */
  async start(accountId: string, region: string): Promise<void> {
    await this.instance(accountId, region);
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const instance = await this.instance(req.accountId, req.region);
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_HEADERS.has(name)) {
        headers[name] = value;
      }
    }
    headers['content-length'] = Buffer.byteLength(req.body);
    const response = await forward(instance, req.method, req.path, headers, req.body);
    const action = this.actionOf(req);
    return {
      ...response,
      call: { action, mutating: !isReadAction(action, DYNAMODB_READS) },
    };
  }

  /** Stops every dynalite instance; later requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    const instances = await Promise.allSettled(this.instances.values());
    this.instances.clear();
    await Promise.all(
      instances.map(async (settled) => {
        if (settled.status !== 'fulfilled') {
          return;
        }
        const { server, agent } = settled.value;
        agent.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  private instance(accountId: string, region: string): Promise<Instance> {
    if (this.closed) {
      return Promise.reject(new Error('the sandbox DynamoDB emulator is closed'));
    }
    return this.instances.of(accountId, region);
  }

  private async launch(accountId: string, region: string): Promise<Instance> {
    const ms = this.options.tableTransitionMs ?? 0;
    // dynalite reads the account and Region it writes into table ARNs from the environment, once, while
    // creating its store (synchronously, inside `dynalite()`); set them for exactly that call.
    const saved = { account: process.env.AWS_ACCOUNT_ID, region: process.env.AWS_REGION };
    process.env.AWS_ACCOUNT_ID = accountId;
    process.env.AWS_REGION = region;
    let server: Server;
    try {
      server = dynalite({
        createTableMs: ms,
        deleteTableMs: ms,
        updateTableMs: ms,
        ...(this.options.maxItemSizeKb === undefined ? {} : { maxItemSizeKb: this.options.maxItemSizeKb }),
      });
    } finally {
      restoreEnv('AWS_ACCOUNT_ID', saved.account);
      restoreEnv('AWS_REGION', saved.region);
    }
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
    return { server, port, agent: new Agent({ keepAlive: true }) };
  }
}

/** A service factory for `startSandboxServer({ services: [dynamoDb()] })`; remember to `close()` it. */
export function dynamoDb(options: DynamoDbEmulatorOptions = {}): () => DynamoDbEmulator {
  return () => new DynamoDbEmulator(options);
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) {
    delete process.env[name];
  } else {
    process.env[name] = value;
  }
}

function forward(
  instance: Instance,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body: string,
): Promise<SandboxResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: instance.port, method, path, headers, agent: instance.agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const responseHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined && !HOP_HEADERS.has(name)) {
              responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
            }
          }
          resolve({
            status: incoming.statusCode ?? 500,
            headers: responseHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
