/**
 * OnEvent: EventBridge (CloudTrail calls, Config changes, the schedule, Security Hub custom actions) → the
 * events queue → batches of up to 100 events gathered over 30 s → one enforcement-loop execution per scope
 * at a time (docs/loop.md "One run per scope at a time").
 *
 * Invoked by the queue's event source mapping with `ReportBatchItemFailures`: a message this batch failed
 * returns to the queue and, after `maxReceiveCount` receives, lands in the queue's dead-letter queue, never
 * dropped — an invalid event with its `InvalidInputError` one-line reason (logged), a scope whose run could
 * not start with its `AwsCallError`. An event vecguard does not care about is logged with the reason and
 * counted (`EventsIgnored`). The events of a batch are coalesced per scope; a scope with no live lease gets
 * a run and the lease (a conditional write), a scope already running gets the VPCs added to its lease's
 * pending set, for the one follow-up run Report or FailureReport starts when it ends. A retried message is
 * safe: execution names derive from the events (a re-delivery answers "duplicate") and a running scope only
 * gains pending VPCs it may already have.
 *
 * When the policy targets organizational units (`policyNeedsOrganization`), each run's input carries its
 * account's parent chain, so that the loop's audit matches OU targets: a sweep reads the whole organisation
 * once (it must find every account below each OU target), any other event climbs its accounts' chains with
 * ListParents. Organizations refusing the read (the hub is not the management account or a delegated
 * administrator) fails every event of the batch that would start a run with an `AccessError` of one line,
 * before any run starts — they land in the dead-letter queue like every other failure, rather than runs that
 * silently ignore OU targets.
 *
 * Parsing: the domain's schemas (functions/domain/triggers.ts), not the Powertools EventBridge envelope. The
 * envelope hands the handler only `detail`, but the trigger needs the envelope's account, Region, id and
 * time; the detail's shape depends on `detail-type` (four sources); and an unknown detail-type must be
 * `ignored`, not a parse failure, while a malformed event needs a one-line reason rather than a ZodError
 * dump. This is also why the step handlers' chain (./middy.ts, which names errors for Step Functions) is not
 * used here.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import {
  type ExecutionStatusClient,
  executionArnOf,
  executionEnded,
  type StartExecutionClient,
  startRun,
  stepFunctionsClient,
} from '../adapters/executions.ts';
import {
  type OrganizationReadContext,
  type OrganizationsReadClient,
  organizationsClient,
  readOrganizationTree,
  readParentChain,
} from '../adapters/organizations.ts';
import { type ScopeLeaseStore, scopeLeaseStore } from '../adapters/store/scope-leases.ts';
import { displayText } from '../domain/display-text.ts';
import { type OrganizationTree, parentChain, unknownParents } from '../domain/organization.ts';
import { organizationalUnitsOf, type Policy, policyNeedsOrganization } from '../domain/policy.ts';
import {
  isNothingPending,
  leaseExpiry,
  mergePending,
  pastStartGrace,
  pendingOf,
  vpcIdsOf,
} from '../domain/scope-lease.ts';
import {
  classifyEvent,
  coalesce,
  executionInput,
  executionName,
  type Trigger,
  type TriggerSource,
  triggersToStart,
} from '../domain/triggers.ts';
import { config } from '../shared/config.ts';
import { AwsCallError, InvalidInputError } from '../shared/errors.ts';
import { loadPolicyFile } from '../shared/policy-file.ts';
import { logger, metrics, tracer } from '../shared/powertools.ts';

/** An ignore reason, in the log and the answer, is at most this long (an event name can be 1 MB). */
export const IGNORE_REASON_MAX = 1_000;

export interface OnEventConfig {
  readonly stateMachineArn: string;
  /** `VECGUARD_MEMBER_ROLE_NAME`: the role the loop assumes in each member account; absent: own credentials. */
  readonly memberRoleName?: string;
  /** The policy decides the approval timeout and, for a sweep, the scopes. */
  readonly policy: Pick<Policy, 'approval' | 'targets' | 'defaults'>;
}

export interface OnEventDeps {
  readonly sfn: StartExecutionClient;
  /** Whether a lease's execution is over (a run that ended without releasing its scope). */
  readonly executionStatus: ExecutionStatusClient;
  /** Read only when the policy targets organizational units. */
  readonly organizations: OrganizationsReadClient;
  /** The per-scope leases: one execution per scope at a time. */
  readonly leases: ScopeLeaseStore;
  readonly config: OnEventConfig;
  readonly clock: () => Date;
}

export interface RunStarted {
  readonly accountId: string;
  readonly region: string;
  /** The VPCs the event(s) named in this scope (null: the whole scope). */
  readonly vpcIds: string[] | null;
  /** The account's parent chain the run was given (empty when the policy targets no OU). */
  readonly organizationalUnitIds: readonly string[];
  readonly source: TriggerSource;
  readonly runId: string;
  readonly executionName: string;
  readonly executionArn: string;
  /**
   * `started`: a new execution; `duplicate`: this event already started it (a re-delivery); `coalesced`: the
   * scope was running, so the VPCs were added to what it follows up on when it ends (the run named here).
   */
  readonly status: 'started' | 'duplicate' | 'coalesced';
}

export type OnEventResult =
  | { readonly outcome: 'started'; readonly runs: RunStarted[] }
  | { readonly outcome: 'ignored'; readonly reason: string };

/** What became of one event of a batch. */
export type EventOutcome =
  | OnEventResult
  /** Not retried with any hope (a malformed event), or its scope's run could not be started: the error says. */
  | { readonly outcome: 'failed'; readonly error: unknown };

/** One EventBridge event: the runs it started (or joined), or why none; throws what `onEvents` reports failed. */
export async function onEvent(event: unknown, deps: OnEventDeps): Promise<OnEventResult> {
  const [outcome] = await onEvents([event], deps);
  if (outcome === undefined || outcome.outcome === 'failed') throw outcome?.error;
  return outcome;
}

/**
 * A batch of EventBridge events (what the queue delivered within its batching window): classified one by one,
 * then coalesced per scope across the batch, so that a storm of events for one scope becomes one trigger.
 * Each scope then starts a run if it holds no live lease, or adds its VPCs to the running one's pending set.
 * Answers one outcome per event, in order.
 */
export async function onEvents(events: readonly unknown[], deps: OnEventDeps): Promise<EventOutcome[]> {
  const outcomes: (EventOutcome | undefined)[] = events.map(() => undefined);
  const triggersOf = new Map<number, Trigger[]>();
  for (const [index, event] of events.entries()) {
    const decision = classifyEvent(event);
    if (decision.kind === 'invalid') {
      metrics.addMetric('EventsInvalid', MetricUnit.Count, 1);
      outcomes[index] = {
        outcome: 'failed',
        error: new InvalidInputError(
          `${shorten(decision.reason)}; the event is kept in the dead-letter queue: fix its producer or the EventBridge rule, then redrive it`,
        ),
      };
    } else if (decision.kind === 'ignored') {
      // The reason quotes the event (its eventName, a Config type): one bounded line in the log and the answer.
      const reason = shorten(decision.reason, IGNORE_REASON_MAX);
      const eventId = eventIdOf(event);
      logger.info('event ignored', {
        reason,
        eventId: typeof eventId === 'string' ? shorten(eventId, 256) : eventId,
      });
      metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
      outcomes[index] = { outcome: 'ignored', reason };
    } else {
      triggersOf.set(index, decision.triggers);
    }
  }
  if (triggersOf.size > 0) {
    try {
      for (const [index, result] of await startScopes(triggersOf, deps)) outcomes[index] = result;
    } catch (error) {
      // Reading the organisation failed: no scope can start, every event that would have is retried.
      for (const index of triggersOf.keys()) outcomes[index] = { outcome: 'failed', error };
    }
  }
  return outcomes.map((o) => o ?? { outcome: 'failed', error: new Error('the event was not processed') });
}

/** The scopes of the batch's triggers, each started or coalesced once; the outcome of each event. */
async function startScopes(
  triggersOf: ReadonlyMap<number, Trigger[]>,
  deps: OnEventDeps,
): Promise<Map<number, EventOutcome>> {
  const all = [...triggersOf.values()].flat();
  const organization = await organizationForSweep(all, deps);
  // Which events touch which scope: an event's outcome is that of its scopes.
  const eventsOfScope = new Map<string, number[]>();
  const expanded: Trigger[] = [];
  for (const [index, triggers] of triggersOf) {
    for (const t of triggersToStart(triggers, deps.config.policy, organization)) {
      expanded.push(t);
      const key = `${t.accountId}/${t.region}`;
      eventsOfScope.set(key, [...(eventsOfScope.get(key) ?? []), index]);
    }
  }
  const triggers = coalesce(expanded);
  const chains = await parentChains(
    triggers.map((t) => t.accountId),
    organization,
    deps,
  );
  const ageSeconds = eventAgeSeconds(triggers[0], deps.clock());
  if (ageSeconds !== undefined) metrics.addMetric('EventAgeSeconds', MetricUnit.Seconds, ageSeconds);

  // Every scope is attempted; an event whose scope failed is retried (the queue redelivers it), and the
  // scopes that did start or coalesce answer the same on the retry.
  const runsOf = new Map<number, RunStarted[]>();
  const failed = new Map<number, unknown>();
  for (const trigger of triggers) {
    const indices = [...new Set(eventsOfScope.get(`${trigger.accountId}/${trigger.region}`) ?? [])];
    try {
      const run = await startOrCoalesce(trigger, deps, chains.get(trigger.accountId) ?? []);
      for (const i of indices) runsOf.set(i, [...(runsOf.get(i) ?? []), run]);
    } catch (error) {
      logger.error('could not start the enforcement loop', {
        accountId: trigger.accountId,
        region: trigger.region,
        error,
      });
      for (const i of indices) if (!failed.has(i)) failed.set(i, error);
    }
  }
  const runs = [...runsOf.values()].flat();
  const count = (status: RunStarted['status']) =>
    new Set(runs.filter((r) => r.status === status).map((r) => r.executionArn)).size;
  metrics.addMetric('RunsStarted', MetricUnit.Count, count('started'));
  metrics.addMetric('RunsDuplicate', MetricUnit.Count, count('duplicate'));
  metrics.addMetric('RunsCoalesced', MetricUnit.Count, count('coalesced'));
  const outcomes = new Map<number, EventOutcome>();
  for (const index of triggersOf.keys()) {
    const error = failed.get(index);
    outcomes.set(
      index,
      failed.has(index)
        ? { outcome: 'failed', error }
        : { outcome: 'started', runs: [...(runsOf.get(index) ?? [])].sort(byScope) },
    );
  }
  return outcomes;
}

function byScope(a: RunStarted, b: RunStarted): number {
  return a.accountId.localeCompare(b.accountId) || a.region.localeCompare(b.region);
}

/** Why Organizations is read, for the error a refusal becomes: the OUs the policy names. */
function readContext(deps: OnEventDeps): OrganizationReadContext {
  return { organizationalUnits: organizationalUnitsOf(deps.config.policy) };
}

/** A read of Organizations: a failure is logged and counted, then fails the invocation (to the DLQ). */
async function readingOrganization<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    logger.error('could not read AWS Organizations for the policy’s OU targets', { error });
    metrics.addMetric('OrganizationReadsFailed', MetricUnit.Count, 1);
    throw error;
  }
}

/** The whole organisation, for a sweep of a policy with OU targets; otherwise nothing is read. */
async function organizationForSweep(
  triggers: readonly Trigger[],
  deps: OnEventDeps,
): Promise<OrganizationTree | undefined> {
  if (!policyNeedsOrganization(deps.config.policy) || !triggers.some((t) => t.source === 'schedule')) {
    return undefined;
  }
  const context = readContext(deps);
  const tree = await readingOrganization(() => readOrganizationTree(deps.organizations, context));
  logger.info('organisation read for the sweep', {
    organizationalUnits: tree.organizationalUnits.length,
    accounts: tree.accounts.length,
  });
  const unknown = unknownParents(tree, context.organizationalUnits);
  if (unknown.length > 0) {
    // Not fatal (an OU deleted since the policy was written must not stop every sweep), but never silent.
    logger.warn('the policy targets OUs the organisation does not hold: they match no account', { unknown });
    metrics.addMetric('PolicyOrganizationalUnitsUnknown', MetricUnit.Count, unknown.length);
  }
  return tree;
}

/**
 * Each account's parent chain, for the runs' input: from the sweep's tree, else climbed with ListParents
 * (an event concerns one account or a few: reading the whole organisation for it would waste Organizations'
 * low request rate). Empty chains when the policy targets no OU: nothing is read.
 */
async function parentChains(
  accountIds: readonly string[],
  tree: OrganizationTree | undefined,
  deps: OnEventDeps,
): Promise<Map<string, readonly string[]>> {
  const chains = new Map<string, readonly string[]>();
  if (!policyNeedsOrganization(deps.config.policy)) return chains;
  const context = readContext(deps);
  for (const accountId of new Set(accountIds)) {
    chains.set(
      accountId,
      tree
        ? parentChain(tree, accountId)
        : await readingOrganization(() => readParentChain(deps.organizations, accountId, context)),
    );
  }
  return chains;
}

/**
 * Start the scope's run if no live lease holds the scope, taking the lease first (a conditional write: of two
 * invocations at once, one wins and the other coalesces); else add the trigger's VPCs to the holder's pending
 * work. A lease whose run did not start is given up at once (kept pending), so the next event takes over.
 */
async function startOrCoalesce(
  trigger: Trigger,
  deps: OnEventDeps,
  organizationalUnitIds: readonly string[],
  attempt = 0,
): Promise<RunStarted> {
  const now = deps.clock();
  const name = executionName(trigger);
  const input = executionInput(trigger, deps.config, organizationalUnitIds);
  const holder = {
    runId: input.runId,
    executionName: name,
    executionArn: executionArnOf(deps.config.stateMachineArn, name),
    input: JSON.stringify(input),
    expiresAt: leaseExpiry(input, now),
  };
  const base = {
    accountId: trigger.accountId,
    region: trigger.region,
    vpcIds: trigger.vpcIds,
    organizationalUnitIds: input.organizationalUnitIds,
    source: trigger.source,
  };
  let claim = await deps.leases.claim(trigger, holder, now);
  // Held by a run that is over without having released it (aborted, its reporting failed): take it over,
  // with what that run left pending, rather than wait for its expiry.
  if (
    !claim.claimed &&
    pastStartGrace(claim.holder.startedAt, now) &&
    (await holderEnded(deps, claim.holder.executionArn))
  ) {
    const taken = await deps.leases.takeOver(trigger, claim.holder.runId, holder, now);
    if (taken) {
      logger.warn('scope lease taken over from a run that ended without releasing it', {
        accountId: trigger.accountId,
        region: trigger.region,
        staleRunId: claim.holder.runId,
      });
      claim = { claimed: true, stale: taken.stale };
    }
  }
  if (!claim.claimed) {
    const running = await deps.leases.addPending(trigger, pendingOf(trigger.vpcIds), now);
    if (running === undefined) {
      // Released between the two calls: take it now (bounded: a scope cannot flap forever within one call).
      if (attempt < 3) return startOrCoalesce(trigger, deps, organizationalUnitIds, attempt + 1);
      throw new AwsCallError(
        'dynamodb',
        'UpdateItem',
        'LeaseContention',
        'the scope lease kept changing hands',
      );
    }
    const run: RunStarted = {
      ...base,
      runId: running.runId,
      executionName: running.executionName,
      executionArn: running.executionArn,
      status: 'coalesced',
    };
    logger.info('scope already running: VPCs added to its follow-up', {
      ...run,
      reason: shorten(trigger.reason),
      eventId: shorten(trigger.eventId),
    });
    return run;
  }
  // A lease that had expired (its run died) hands over what it still had pending: this run covers it too.
  const covering = isNothingPending(claim.stale)
    ? input
    : { ...input, vpcIds: vpcIdsOf(mergePending(pendingOf(input.vpcIds), claim.stale)) };
  let result: Awaited<ReturnType<typeof startRun>>;
  try {
    result = await startRun(deps.sfn, deps.config.stateMachineArn, covering, name);
  } catch (error) {
    await deps.leases.abandon(trigger, input.runId, mergePending(pendingOf(covering.vpcIds), claim.stale));
    throw error;
  }
  // Already started by this very event (a re-delivery after its run ended): the lease holds no run.
  if (!result.started) await deps.leases.abandon(trigger, input.runId, claim.stale);
  const run: RunStarted = {
    ...base,
    vpcIds: covering.vpcIds,
    runId: input.runId,
    executionName: name,
    executionArn: result.executionArn,
    status: result.started ? 'started' : 'duplicate',
  };
  logger.info(
    result.started ? 'enforcement loop started' : 'enforcement loop already started (re-delivery)',
    { ...run, reason: shorten(trigger.reason), eventId: shorten(trigger.eventId) },
  );
  return run;
}

/** Whether the lease holder's execution is over; when Step Functions cannot say, it is taken as running. */
async function holderEnded(deps: OnEventDeps, executionArn: string): Promise<boolean> {
  try {
    return await executionEnded(deps.executionStatus, executionArn);
  } catch (error) {
    logger.warn('could not read the lease holder’s execution: the events join it as pending', {
      executionArn,
      error,
    });
    return false;
  }
}

/** Logs keep a value's start: an event's reason or ids can be as long as its sender made them. */
/** Text an event carries, for the log and the answer: one escaped line, bounded (an event name can be 1 MB). */
function shorten(text: string, max = 500): string {
  return displayText(text, { max });
}

function eventIdOf(event: unknown): unknown {
  return event !== null && typeof event === 'object' ? (event as { id?: unknown }).id : undefined;
}

function eventAgeSeconds(trigger: Trigger | undefined, now: Date): number | undefined {
  const at = trigger ? Date.parse(trigger.time) : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, Math.round((now.getTime() - at) / 1000)) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Configuration of this function (read once per container, on the first invocation)

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** The on-event settings from the environment and the policy file; throws naming what to fix. */
export function loadOnEventConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): OnEventConfig {
  const shared = config();
  if (shared.stateMachineArn === undefined) {
    throw new InvalidInputError(
      'vecguard configuration: VECGUARD_STATE_MACHINE_ARN is not set: the on-event function starts the enforcement loop; set it to the state machine ARN (the CDK stack sets it)',
    );
  }
  const memberRoleName = z
    .string()
    .trim()
    .regex(ROLE_NAME, 'an IAM role name (1–64 of A–Z a–z 0–9 + = , . @ _ -)')
    .optional()
    .safeParse(env.VECGUARD_MEMBER_ROLE_NAME?.trim() || undefined);
  if (!memberRoleName.success) {
    throw new InvalidInputError(
      `vecguard configuration: VECGUARD_MEMBER_ROLE_NAME is not an IAM role name: set it to the member-account role's name (e.g. vecguard-member), or unset it to use the function's own credentials`,
    );
  }
  return {
    stateMachineArn: shared.stateMachineArn,
    ...(memberRoleName.data === undefined ? {} : { memberRoleName: memberRoleName.data }),
    policy: loadPolicyFile(shared.policyFile),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The Lambda handler: one middy chain, built at load

// Built on the first invocation, with the configuration: a container's environment is fixed, but the local
// runtime starts a fresh sandbox (another endpoint) per session and resets them with the configuration.
let container:
  | {
      config: OnEventConfig;
      sfn: StartExecutionClient & ExecutionStatusClient;
      organizations: OrganizationsReadClient;
      leases: ScopeLeaseStore;
    }
  | undefined;

/** For tests and the local runtime, which change the environment (and the policy file) between invocations. */
export function resetOnEventConfig(): void {
  container = undefined;
}

const processor = new BatchProcessor(EventType.SQS);

/**
 * An SQS batch (the events EventBridge queued within the batching window): every event is handled with the
 * batch (`onEvents`), and Powertools batch answers the partial batch response, so that only the messages
 * that failed (a malformed event, a scope whose run could not start) return to the queue and, after its
 * `maxReceiveCount`, reach its dead-letter queue; the others are deleted. Answers the response and each
 * message's outcome (the local runtime reads them; Lambda returns only the response).
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export async function onQueueBatch(
  event: SQSEvent,
  deps: OnEventDeps,
  context?: Context,
): Promise<{ response: SQSBatchResponse; outcomes: EventOutcome[] }> {
  if (!Array.isArray((event as Partial<SQSEvent>)?.Records)) {
    throw new InvalidInputError(
      'on-event: expected an SQS batch (Records), as the event source mapping of the events queue delivers it; EventBridge rules target the queue, not this function',
    );
  }
  const outcomes = await onEvents(
    event.Records.map((record) => bodyOf(record)),
    deps,
  );
  const byMessage = new Map(event.Records.map((r, i) => [r.messageId, outcomes[i]]));
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const outcome = byMessage.get(record.messageId);
      if (outcome === undefined || outcome.outcome === 'failed') throw outcome?.error;
      return outcome.outcome;
    },
    processor,
    { ...(context ? { context } : {}), throwOnFullBatchFailure: false },
  );
  return { response, outcomes };
}

/** The EventBridge event a message carries; a body that is not JSON is handed on as text (then `invalid`). */
function bodyOf(record: SQSRecord): unknown {
  try {
    return JSON.parse(record.body) as unknown;
  } catch {
    return record.body;
  }
}

/** The middy chain; answers the outcomes too, for the local runtime (`local/loop.ts`). */
export const batchHandler = middy<SQSEvent, { response: SQSBatchResponse; outcomes: EventOutcome[] }>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event: SQSEvent, context: Context) => {
    container ??= {
      config: loadOnEventConfig(),
      sfn: tracer.captureAWSv3Client(stepFunctionsClient()),
      organizations: tracer.captureAWSv3Client(organizationsClient()),
      leases: scopeLeaseStore(config().tableName, (c) => tracer.captureAWSv3Client(c)),
    };
    return onQueueBatch(
      event,
      { ...container, executionStatus: container.sfn, clock: () => new Date() },
      context,
    );
  });

/** The Lambda handler: the partial batch response (`batchItemFailures`), nothing else. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  (await batchHandler(event, context)).response;
