/**
 * The EC2 gateway: the one door through which vecguard calls EC2. It
 * - rate-limits every HTTP attempt (retries included) with a client-side bucket per action, taking the token
 *   just before the attempt leaves (a few calls per action in flight),
 * - leaves retries to the SDK's adaptive retry mode (backoff with jitter on throttling and 5xx),
 * - sends mutating calls with `DryRun=true` in dry-run mode and reports "would have succeeded",
 * - counts calls per action, mutating calls and throttled responses, for reports and benchmarks.
 */
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { AwsCallError, toAwsCallError } from '../shared/errors.ts';
import { ActionRateLimiter, isReadAction } from './rate-limit.ts';

export interface CallStats {
  /** HTTP attempts per action (a retried call counts each attempt). */
  readonly byAction: Record<string, number>;
  total: number;
  /** Attempts of mutating actions, dry-run ones included. */
  mutating: number;
  /** Mutating attempts sent with DryRun=true. */
  dryRun: number;
  /** Responses that were `RequestLimitExceeded` (the SDK retried them). */
  throttled: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the gateway sends any EC2 command; outputs stay typed at call sites.
type AnyCommand = { input: any; schema?: unknown };

export type MutationResult<Output> =
  | { readonly dryRun: false; readonly output: Output }
  /** DryRun=true was answered `DryRunOperation`: the call would have succeeded. Nothing changed. */
  | { readonly dryRun: true };

export interface Ec2GatewayOptions {
  readonly client?: EC2Client;
  readonly clientConfig?: EC2ClientConfig;
  /** null: no client-side limit (tests). Default: EC2's documented buckets. */
  readonly limiter?: ActionRateLimiter | null;
  readonly dryRun?: boolean;
}

export function newCallStats(): CallStats {
  return { byAction: {}, total: 0, mutating: 0, dryRun: 0, throttled: 0 };
}

function actionOf(commandName: string | undefined): string {
  return (commandName ?? 'Unknown').replace(/Command$/, '');
}

export class Ec2Gateway {
  readonly client: EC2Client;
  readonly dryRun: boolean;
  readonly stats: CallStats = newCallStats();

  constructor(options: Ec2GatewayOptions = {}) {
    this.client =
      options.client ??
      new EC2Client({ retryMode: 'adaptive', maxAttempts: 8, ...(options.clientConfig ?? {}) });
    this.dryRun = options.dryRun ?? false;
    const limiter = options.limiter === undefined ? new ActionRateLimiter() : options.limiter;
    const stats = this.stats;
    // In finalizeRequest at low priority: inside the SDK's retry loop, so every attempt takes a token and is counted.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const action = actionOf(context.commandName);
        const send = async () => {
          stats.byAction[action] = (stats.byAction[action] ?? 0) + 1;
          stats.total += 1;
          if (!isReadAction(action)) {
            stats.mutating += 1;
            if ((args.input as { DryRun?: boolean } | undefined)?.DryRun) stats.dryRun += 1;
          }
          try {
            return await next(args);
          } catch (e) {
            if ((e as { name?: string }).name === 'RequestLimitExceeded') stats.throttled += 1;
            throw e;
          }
        };
        // The limiter caps the action's calls in flight, so a token is taken just before its call leaves.
        return limiter ? limiter.run(action, send) : send();
      },
      { step: 'finalizeRequest', priority: 'low', name: 'vecguardRateLimitAndCount', override: true },
    );
  }

  /** A read: never affected by dry-run. */
  async read<Output>(command: AnyCommand & object): Promise<Output> {
    const action = operationName(command);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: see AnyCommand.
      return (await this.client.send(command as any)) as Output;
    } catch (e) {
      throw toAwsCallError(e, 'ec2', action);
    }
  }

  /** A change. In dry-run mode it goes out with DryRun=true and resolves `{ dryRun: true }` when AWS says it would succeed. */
  async mutate<Output>(command: AnyCommand & object): Promise<MutationResult<Output>> {
    const action = operationName(command);
    if (this.dryRun) command.input = { ...command.input, DryRun: true };
    try {
      // biome-ignore lint/suspicious/noExplicitAny: see AnyCommand.
      const output = (await this.client.send(command as any)) as Output;
      if (this.dryRun) {
        // A DryRun call that returned normally did change something: never report it as a dry run.
        throw new AwsCallError('ec2', action, 'DryRunIgnored', 'the endpoint applied a DryRun request');
      }
      return { dryRun: false, output };
    } catch (e) {
      if (this.dryRun && (e as { name?: string }).name === 'DryRunOperation') return { dryRun: true };
      throw toAwsCallError(e, 'ec2', action);
    }
  }
}

/** The EC2 operation a command invokes, e.g. `DescribeVpcs`. */
export function operationName(command: object): string {
  const schema = (command as { schema?: unknown }).schema;
  if (Array.isArray(schema) && typeof schema[2] === 'string') return schema[2];
  return actionOf(command.constructor.name);
}
