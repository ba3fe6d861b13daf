/**
 * OnEvent: EventBridge (CloudTrail calls, Config changes, the schedule, Security Hub custom actions) →
 * one enforcement-loop execution per scope the event touches.
 *
 * Invoked asynchronously by EventBridge, so its failures go to the function's on-failure destination (a
 * DLQ) after Lambda's retries: an invalid event throws `InvalidInputError` with a one-line reason and is
 * kept there, never dropped; an event vecguard does not care about is logged with the reason and counted
 * (`EventsIgnored`); a StartExecution that fails throws `AwsCallError`, and the retry is safe because
 * execution names are derived from the event (a scope already started answers "duplicate").
 *
 * When the policy targets organizational units (`policyNeedsOrganization`), each run's input carries its
 * account's parent chain, so that the loop's audit matches OU targets: a sweep reads the whole organisation
 * once (it must find every account below each OU target), any other event climbs its accounts' chains with
 * ListParents. Organizations refusing the read (the hub is not the management account or a delegated
 * administrator) fails the invocation with an `AccessError` of one line, before any run starts — the event
 * lands in the dead-letter queue like every other failure, rather than runs that silently ignore OU targets.
 *
 * Parsing: the domain's schemas (functions/domain/triggers.ts), not the Powertools EventBridge envelope. The
 * envelope hands the handler only `detail`, but the trigger needs the envelope's account, Region, id and
 * time; the detail's shape depends on `detail-type` (four sources); and an unknown detail-type must be
 * `ignored`, not a parse failure, while a malformed event needs a one-line reason rather than a ZodError
 * dump. This is also why the step handlers' chain (./middy.ts, which names errors for Step Functions) is not
 * used here.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { type StartExecutionClient, startRun, stepFunctionsClient } from '../adapters/executions.ts';
import {
  type OrganizationReadContext,
  type OrganizationsReadClient,
  organizationsClient,
  readOrganizationTree,
  readParentChain,
} from '../adapters/organizations.ts';
import { displayText } from '../domain/display-text.ts';
import { type OrganizationTree, parentChain, unknownParents } from '../domain/organization.ts';
import { organizationalUnitsOf, type Policy, policyNeedsOrganization } from '../domain/policy.ts';
import {
  classifyEvent,
  executionInput,
  executionName,
  type Trigger,
  type TriggerSource,
  triggersToStart,
} from '../domain/triggers.ts';
import { config } from '../shared/config.ts';
import { InvalidInputError } from '../shared/errors.ts';
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
  /** Read only when the policy targets organizational units. */
  readonly organizations: OrganizationsReadClient;
  readonly config: OnEventConfig;
  readonly clock: () => Date;
}

export interface RunStarted {
  readonly accountId: string;
  readonly region: string;
  readonly vpcIds: string[] | null;
  /** The account's parent chain the run was given (empty when the policy targets no OU). */
  readonly organizationalUnitIds: readonly string[];
  readonly source: TriggerSource;
  readonly runId: string;
  readonly executionName: string;
  readonly executionArn: string;
  /** `duplicate`: this event already started it (a re-delivery). */
  readonly status: 'started' | 'duplicate';
}

export type OnEventResult =
  | { readonly outcome: 'started'; readonly runs: RunStarted[] }
  | { readonly outcome: 'ignored'; readonly reason: string };

export async function onEvent(event: unknown, deps: OnEventDeps): Promise<OnEventResult> {
  const decision = classifyEvent(event);
  if (decision.kind === 'invalid') {
    metrics.addMetric('EventsInvalid', MetricUnit.Count, 1);
    throw new InvalidInputError(
      `${decision.reason}; the event is kept in the dead-letter queue: fix its producer or the EventBridge rule, then redrive it`,
    );
  }
  if (decision.kind === 'ignored') {
    // The reason quotes the event (its eventName, a Config type): whatever a producer put there, one
    // bounded line in the log and the answer.
    const reason = displayText(decision.reason, { max: IGNORE_REASON_MAX });
    const eventId = eventIdOf(event);
    logger.info('event ignored', {
      reason,
      eventId: typeof eventId === 'string' ? displayText(eventId, { max: 256 }) : eventId,
    });
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    return { outcome: 'ignored', reason };
  }

  const organization = await organizationForSweep(decision.triggers, deps);
  const triggers = triggersToStart(decision.triggers, deps.config.policy, organization);
  const chains = await parentChains(
    triggers.map((t) => t.accountId),
    organization,
    deps,
  );
  const ageSeconds = eventAgeSeconds(triggers[0], deps.clock());
  if (ageSeconds !== undefined) metrics.addMetric('EventAgeSeconds', MetricUnit.Seconds, ageSeconds);

  // Every scope is attempted; the first failure is rethrown afterwards so that Lambda retries the event,
  // and the scopes that did start answer "duplicate" on the retry.
  const runs: RunStarted[] = [];
  const failures: unknown[] = [];
  for (const trigger of triggers) {
    try {
      runs.push(await start(trigger, deps, chains.get(trigger.accountId) ?? []));
    } catch (error) {
      logger.error('could not start the enforcement loop', {
        accountId: trigger.accountId,
        region: trigger.region,
        error,
      });
      failures.push(error);
    }
  }
  metrics.addMetric('RunsStarted', MetricUnit.Count, runs.filter((r) => r.status === 'started').length);
  metrics.addMetric('RunsDuplicate', MetricUnit.Count, runs.filter((r) => r.status === 'duplicate').length);
  if (failures.length > 0) throw failures[0];
  return { outcome: 'started', runs };
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

async function start(
  trigger: Trigger,
  deps: OnEventDeps,
  organizationalUnitIds: readonly string[],
): Promise<RunStarted> {
  const name = executionName(trigger);
  const input = executionInput(trigger, deps.config, organizationalUnitIds);
  const result = await startRun(deps.sfn, deps.config.stateMachineArn, input, name);
  const run: RunStarted = {
    accountId: trigger.accountId,
    region: trigger.region,
    vpcIds: trigger.vpcIds,
    organizationalUnitIds: input.organizationalUnitIds,
    source: trigger.source,
    runId: input.runId,
    executionName: name,
    executionArn: result.executionArn,
    status: result.started ? 'started' : 'duplicate',
  };
  logger.info(
    result.started ? 'enforcement loop started' : 'enforcement loop already started (re-delivery)',
    {
      ...run,
      reason: trigger.reason,
      eventId: trigger.eventId,
    },
  );
  return run;
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
  | { config: OnEventConfig; sfn: StartExecutionClient; organizations: OrganizationsReadClient }
  | undefined;

/** For tests and the local runtime, which change the environment (and the policy file) between invocations. */
export function resetOnEventConfig(): void {
  container = undefined;
}

export const handler = middy()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event: unknown) => {
    container ??= {
      config: loadOnEventConfig(),
      sfn: tracer.captureAWSv3Client(stepFunctionsClient()),
      organizations: tracer.captureAWSv3Client(organizationsClient()),
    };
    return onEvent(event, { ...container, clock: () => new Date() });
  });
