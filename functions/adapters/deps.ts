/**
 * What the handlers need, built once per Lambda container from the environment: the policy, the state
 * table's stores, and AWS clients. Endpoints and credentials come from the SDK's usual chain, so the same
 * code talks to AWS in Lambda and to the sandbox locally (AWS_ENDPOINT_URL).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { Policy } from '../domain/policy.ts';
import { type Config, config, resetConfig } from '../shared/config.ts';
import { loadPolicyFile } from '../shared/policy-file.ts';
import type { PollSettings } from './actions/types.ts';
import { Ec2Gateway } from './ec2-gateway.ts';
import { assumeScopeCredentials, roleSessionName } from './identity.ts';
import { ActionRateLimiter, EC2_BUCKETS } from './rate-limit.ts';
import { ApprovalStore } from './store/approvals.ts';
import { AuditLog } from './store/audit-log.ts';
import { BlobStore } from './store/blob-store.ts';
import { ChangeBudgetStore } from './store/change-budget.ts';
import { type StateTable, stateTableClient } from './store/table.ts';
import { VerdictHistoryStore } from './store/verdict-history.ts';

/** What the dependencies need to know of a run's scope (the step input's `scope` is one). */
export interface Scope {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  /** The member-account role to assume; null: the function's own credentials. */
  readonly roleArn: string | null;
  /** The scheduled sweep the run belongs to; null (or absent): none. */
  readonly sweepId?: string | null;
}

export interface Deps {
  readonly config: Config;
  readonly policy: Policy;
  /** The policy's dry-run, unless the environment overrides it. */
  readonly dryRun: boolean;
  readonly table: StateTable;
  readonly blobs: BlobStore;
  readonly history: VerdictHistoryStore;
  readonly approvals: ApprovalStore;
  readonly auditLog: AuditLog;
  /** Changes made per run and per sweep, against the policy's caps (Plan reads it, Apply reserves). */
  readonly changeBudget: ChangeBudgetStore;
  readonly sns: SNSClient;
  /** Answers a retried approval task with a decision already recorded (RequestApproval only). */
  readonly sfn: SFNClient;
  readonly sts: STSClient;
  /** Security Hub for the scope: findings are imported into the scope's own account, so with its role. */
  securityHubFor(scope: Scope): Promise<SecurityHubClient>;
  /** An EC2 gateway for the scope: its Region, its member-account role when it has one, dry-run as set. */
  ec2For(scope: Scope): Promise<Ec2Gateway>;
  readonly now: () => Date;
  /**
   * Seconds of the state machine's clock per real second: 1 in AWS. The local runner runs waits and task
   * timeouts faster (VECGUARD_TIME_SCALE), so an approval's expiry, computed in real time, is scaled alike.
   */
  readonly timeScale: number;
  /** How often and how long actions poll (instance stop/start); the local runner shortens it. */
  readonly actionPoll?: PollSettings;
}

function pollFromEnv(env: NodeJS.ProcessEnv): PollSettings | undefined {
  const intervalMs = Number(env.VECGUARD_ACTION_POLL_INTERVAL_MS);
  return Number.isFinite(intervalMs) && intervalMs > 0 ? { intervalMs, maxTries: 200 } : undefined;
}

/**
 * VECGUARD_EC2_RATE_SCALE: the account's EC2 buckets refill this many times faster than the documented rates
 * (raised limits, or the sandbox's throttle `speed` in benchmarks); burst sizes stay as documented.
 */
function ec2BucketsFromEnv(env: NodeJS.ProcessEnv) {
  const scale = Number(env.VECGUARD_EC2_RATE_SCALE);
  if (env.VECGUARD_EC2_RATE_SCALE === undefined || !(Number.isFinite(scale) && scale > 0)) return undefined;
  return {
    read: { ...EC2_BUCKETS.read, refillPerSecond: EC2_BUCKETS.read.refillPerSecond * scale },
    write: { ...EC2_BUCKETS.write, refillPerSecond: EC2_BUCKETS.write.refillPerSecond * scale },
  };
}

function timeScaleFromEnv(env: NodeJS.ProcessEnv): number {
  const scale = Number(env.VECGUARD_TIME_SCALE ?? 1);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** VECGUARD_EC2_RATE_SHARE: the part (0 < share ≤ 1) of each EC2 bucket one worker may use. */
function shareFromEnv(env: NodeJS.ProcessEnv): number {
  const share = Number(env.VECGUARD_EC2_RATE_SHARE ?? 1);
  return Number.isFinite(share) && share > 0 && share <= 1 ? share : 1;
}

export function buildDeps(env: NodeJS.ProcessEnv = process.env): Deps {
  const cfg = config();
  const policy = loadPolicyFile(cfg.policyFile);
  const table: StateTable = { client: stateTableClient(new DynamoDBClient({})), tableName: cfg.tableName };
  const sts = new STSClient({});
  const hubs = new Map<string, SecurityHubClient>();
  const dryRun = cfg.dryRun ?? policy.dryRun;
  const actionPoll = pollFromEnv(env);
  const ec2Buckets = ec2BucketsFromEnv(env);
  const share = shareFromEnv(env);
  // EC2 keeps one bucket per account, Region and action: every invocation this container serves for a scope
  // draws from the same client-side buckets (in Lambda one invocation runs at a time per container, and
  // VECGUARD_EC2_RATE_SHARE gives each of a Map's concurrent workers its part; locally, all run in one process).
  const limiters = new Map<string, ActionRateLimiter>();
  const limiterFor = (scope: Scope) => {
    const key = `${scope.accountId}/${scope.region}`;
    let limiter = limiters.get(key);
    if (!limiter) {
      limiter = new ActionRateLimiter({ share, ...(ec2Buckets ? { buckets: ec2Buckets } : {}) });
      limiters.set(key, limiter);
    }
    return limiter;
  };
  const assumeOptions = cfg.memberExternalId === undefined ? {} : { externalId: cfg.memberExternalId };
  const credentialsFor = (scope: Scope) =>
    assumeScopeCredentials(
      sts,
      scope.roleArn as string,
      roleSessionName(`vecguard-${scope.runId}`),
      assumeOptions,
    );
  return {
    config: cfg,
    policy,
    dryRun,
    table,
    blobs: new BlobStore(table),
    history: new VerdictHistoryStore(table),
    approvals: new ApprovalStore(table),
    auditLog: new AuditLog(table),
    changeBudget: new ChangeBudgetStore(table),
    sns: new SNSClient({}),
    sfn: new SFNClient({}),
    sts,
    securityHubFor: async (scope) => {
      if (scope.roleArn) {
        return new SecurityHubClient({ region: scope.region, credentials: await credentialsFor(scope) });
      }
      let hub = hubs.get(scope.region);
      if (!hub) {
        hub = new SecurityHubClient({ region: scope.region });
        hubs.set(scope.region, hub);
      }
      return hub;
    },
    ec2For: async (scope) => {
      const credentials = scope.roleArn ? await credentialsFor(scope) : undefined;
      const client = new EC2Client({
        region: scope.region,
        retryMode: 'adaptive',
        maxAttempts: 8,
        ...(credentials ? { credentials } : {}),
      });
      return new Ec2Gateway({ client, dryRun, limiter: limiterFor(scope) });
    },
    now: () => new Date(),
    timeScale: timeScaleFromEnv(env),
    ...(actionPoll ? { actionPoll } : {}),
  };
}

let cached: Deps | undefined;

/** The container's dependencies, built on first use (so a bad environment fails the invocation, loudly). */
export function deps(): Deps {
  cached ??= buildDeps();
  return cached;
}

/** For tests and the local runner, which change the environment between runs. */
export function resetDeps(): void {
  cached = undefined;
  resetConfig();
}

export function runKey(scope: Scope) {
  return { runId: scope.runId, accountId: scope.accountId, region: scope.region };
}

/** Whose change budget the scope's run draws on (store/change-budget.ts). */
export function budgetOwner(scope: Scope) {
  return { run: runKey(scope), sweepId: scope.sweepId ?? null };
}

/** The policy's caps, as the change budget takes them. */
export function changeCaps(policy: Policy) {
  return { perRun: policy.limits.maxChangesPerRun, perSweep: policy.limits.maxChangesPerSweep };
}
