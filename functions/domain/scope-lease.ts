/**
 * One execution per scope at a time (docs/loop.md "One run per scope at a time"). A scope's lease names the
 * run that holds it; an event for a scope already running adds its VPCs to the lease's pending set instead of
 * starting a run; when the run ends, the VPCs still pending start exactly one follow-up run, which takes the
 * lease over. These are the pure parts: how long a lease lasts, what is pending, and the follow-up run.
 */
import { digest } from './asff.ts';
import {
  EXECUTION_NAME_MAX,
  type ExecutionInput,
  LOOP_DEFAULTS,
  MAX_VPC_IDS,
  type RunSettings,
} from './triggers.ts';

/**
 * How events reach on-event (infra/constructs/event-triggers.ts; local/loop.ts mirrors it): EventBridge rules
 * target a queue, and its event source mapping hands on-event up to `batchSize` messages gathered for up to
 * `batchingWindowSeconds`; a message that failed `maxReceiveCount` times moves to the dead-letter queue.
 */
export const EVENT_BUFFER = { batchSize: 100, batchingWindowSeconds: 30, maxReceiveCount: 5 } as const;

/** What an event asks of a running scope: these VPCs, or the whole scope. */
export interface PendingWork {
  readonly vpcIds: readonly string[];
  readonly wholeScope: boolean;
}

export const NOTHING_PENDING: PendingWork = { vpcIds: [], wholeScope: false };

export function isNothingPending(p: PendingWork): boolean {
  return !p.wholeScope && p.vpcIds.length === 0;
}

/** The work a run's `vpcIds` stand for (null: the whole scope). */
export function pendingOf(vpcIds: readonly string[] | null): PendingWork {
  return vpcIds === null ? { vpcIds: [], wholeScope: true } : { vpcIds: [...vpcIds], wholeScope: false };
}

export function mergePending(a: PendingWork, b: PendingWork): PendingWork {
  return {
    vpcIds: [...new Set([...a.vpcIds, ...b.vpcIds])].sort(),
    wholeScope: a.wholeScope || b.wholeScope,
  };
}

/** A run's `vpcIds` for the work: null when it is the whole scope or more VPCs than a run lists. */
export function vpcIdsOf(p: PendingWork): string[] | null {
  return p.wholeScope || p.vpcIds.length > MAX_VPC_IDS ? null : [...new Set(p.vpcIds)].sort();
}

/** An hour past the longest a run can take, so that only a run that died without reporting outlives it. */
const LEASE_SLACK_SECONDS = 3600;

/**
 * How long a run holds its scope: every iteration may wait for an approval to time out and poll its
 * transitions to the limit, plus an hour. A lease is released when the run reports (Report or FailureReport);
 * the expiry is only for a run that never did (aborted, or its reporting failed), so that it cannot block
 * the scope forever: the next event then takes the lease, and what the dead run left pending with it.
 */
export function leaseSeconds(
  input: Pick<ExecutionInput, 'maxIterations' | 'pollSeconds' | 'maxPolls' | 'approvalTimeoutSeconds'>,
): number {
  return (
    input.maxIterations * (input.approvalTimeoutSeconds + input.pollSeconds * input.maxPolls) +
    LEASE_SLACK_SECONDS
  );
}

export function leaseExpiry(input: Parameters<typeof leaseSeconds>[0], now: Date): string {
  return new Date(now.getTime() + leaseSeconds(input) * 1000).toISOString();
}

/**
 * How long a lease may name an execution that does not exist yet: on-event (60 s timeout) claims before it
 * starts the run, Report (5 min) hands over before it starts the follow-up. Past this, a lease whose
 * execution is over or absent is a dead run's, and the next event takes it over.
 */
export const LEASE_START_GRACE_SECONDS = 600;

export function pastStartGrace(startedAt: string, now: Date): boolean {
  const at = Date.parse(startedAt);
  return !Number.isFinite(at) || now.getTime() - at > LEASE_START_GRACE_SECONDS * 1000;
}

/** What of an ending run a follow-up inherits: its scope and how it reaches the account. */
export type EndingRun = Pick<
  ExecutionInput,
  'runId' | 'accountId' | 'region' | 'roleArn' | 'organizationalUnitIds'
>;

/**
 * The one follow-up run for the VPCs still pending when `ending` ends. Its name and run id derive from the
 * ending run only: a Report retried after it started the follow-up starts the same one (Step Functions
 * answers "already exists"), never a second.
 */
export function followUpRun(
  ending: EndingRun,
  pending: PendingWork,
  settings: RunSettings,
): { readonly input: ExecutionInput; readonly name: string } {
  const hash = digest(`follow-up|${ending.accountId}|${ending.region}|${ending.runId}`);
  const readable = `fu-${ending.accountId}-${ending.region}-${ending.runId.replace(/^run-/, '')}`
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, EXECUTION_NAME_MAX - hash.length - 1);
  return {
    name: `${readable}-${hash}`,
    input: {
      runId: `run-fu-${hash}`,
      accountId: ending.accountId,
      region: ending.region,
      roleArn: ending.roleArn,
      vpcIds: vpcIdsOf(pending),
      organizationalUnitIds: [...ending.organizationalUnitIds],
      // A follow-up answers events, not the schedule: it belongs to no sweep's budget (its own run cap holds).
      sweepId: null,
      ...LOOP_DEFAULTS,
      approvalTimeoutSeconds: settings.policy.approval.timeoutMinutes * 60,
    },
  };
}
