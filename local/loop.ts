/**
 * The enforcement loop, locally: the sandbox, the very ASL file CDK deploys executed by the sandbox's Step
 * Functions endpoint, every Task bound to the real handler module, invoked in process — and every run started
 * the way a deployment starts it: an event goes through the on-event Lambda handler, which builds the
 * execution input and calls StartExecution (docs/design.md "One way to start a run"). Handlers find the
 * sandbox through the same environment variables they read in Lambda.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DEFAULT_ACCOUNT_ID,
  type Ec2Durations,
  type LocalHandler,
  lambdaContext,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
} from '@vecguard/sandbox';
import type { Answer } from '#adapters/approver.ts';
import { ApproverClient } from '#adapters/approver-client.ts';
import { ApprovalStore } from '#adapters/store/approvals.ts';
import { AuditLog } from '#adapters/store/audit-log.ts';
import { BlobStore } from '#adapters/store/blob-store.ts';
import { createTable, type StateTable, stateTableClient } from '#adapters/store/table.ts';
import { parsePolicy, validatePolicy } from '#domain/policy.ts';
import { EVENT_BUFFER } from '#domain/scope-lease.ts';
import { LOOP_DEFAULTS } from '#domain/triggers.ts';
import { type DiePoint, setDiePoints } from '#shared/die-points.ts';
import { readPolicyDocument } from '#shared/policy-file.ts';
import type { OnEventResult } from '../functions/handlers/on-event.ts';
import { EventQueue } from './event-queue.ts';
import { scheduledEvent } from './events.ts';

export const ASL_FILE = fileURLToPath(new URL('../statemachines/enforcement-loop.asl.json', import.meta.url));

/** Task substitution → handler module, as CDK wires them (docs/loop.md). */
export const LOOP_FUNCTIONS = {
  InventoryFunctionArn: 'inventory',
  AuditFunctionArn: 'audit',
  PublishFindingsFunctionArn: 'publish-findings',
  PlanFunctionArn: 'plan',
  LoadPageFunctionArn: 'load-page',
  ApplyFunctionArn: 'apply',
  RequestApprovalFunctionArn: 'request-approval',
  RecordRejectionFunctionArn: 'record-rejection',
  PollTransitionsFunctionArn: 'poll-transitions',
  ReportFunctionArn: 'report',
  FailureReportFunctionArn: 'failure-report',
} as const;

/** The member role's name, as infra/member-stack.ts deploys it by default in every account (the hub's too). */
/** Handler invocations still running, so that `stop` lets them end before the sandbox goes. */
const inFlight = new Set<Promise<unknown>>();
const IN_FLIGHT_WAIT_MS = 15_000;

function tracked(handler: LocalHandler): LocalHandler {
  return (event, context) => {
    const running = Promise.resolve().then(() => handler(event, context));
    inFlight.add(running);
    void running.then(
      () => inFlight.delete(running),
      () => inFlight.delete(running),
    );
    return running;
  };
}

export const MEMBER_ROLE_NAME = 'vecguard-member';

export interface LocalLoopOptions {
  /** A built-in scenario name or a path. */
  readonly scenario?: string;
  readonly policyFile: string;
  /**
   * Rehearsal only: the approval timeout in minutes of the state machine's clock, instead of the policy's
   * (whose default day is 144 real seconds at 600×). The handlers read a copy of the policy with it set.
   */
  readonly approvalTimeoutMinutes?: number;
  /** Sandbox seconds per real second, for EC2 transitions and the state machine's waits and timeouts. */
  readonly speed?: number;
  readonly dryRun?: boolean;
  readonly throttle?: boolean;
  /** Seed of the injected faults' randomness, so a run with an error rate replays identically. */
  readonly faultSeed?: number;
  /**
   * With `throttle`: EC2's buckets refill this many times faster than EC2's documented rates, in real time
   * whatever `speed` is, and the handlers' client-side limiter is sized with the same factor (benchmarks use
   * it to keep a large sweep short). Absent: the buckets and the limiter go by the sandbox clock (× `speed`).
   */
  readonly throttleSpeed?: number;
  readonly port?: number;
  /** Handler log level (Powertools); default SILENT so the demo's output stays readable. */
  readonly logLevel?: string;
  /** How long asynchronous EC2 changes take, in sandbox milliseconds. */
  readonly durations?: Partial<Ec2Durations>;
  /** Access keys and the principals they stand for (approvers of the hub account or strangers). */
  readonly principals?: SandboxOptions['principals'];
  /**
   * Handlers that die at a named point (functions/shared/die-points.ts), as a Lambda killed between two
   * writes: rehearses what the audit log and the failure notice say when a step stops mid-way.
   */
  readonly dieAt?: readonly DiePoint[];
  /**
   * The events queue's batching window in real milliseconds. @default EVENT_BUFFER's window on the sandbox
   * clock (30 s at 600× is 50 ms)
   */
  readonly batchWindowMs?: number;
}

/** An account + Region: what one execution of the loop covers. */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

/** One execution on-event started (or found already started) for an event. */
export interface StartedExecution extends Scope {
  readonly runId: string;
  readonly executionArn: string;
  readonly vpcIds: readonly string[] | null;
}

export interface LocalLoop {
  readonly sandbox: Sandbox;
  readonly stateMachineArn: string;
  readonly table: StateTable;
  readonly approvals: ApprovalStore;
  readonly auditLog: AuditLog;
  readonly blobs: BlobStore;
  readonly topicArn: string;
  readonly sfn: SFNClient;
  /**
   * The approver endpoint's function URL (`AWS_IAM` auth) on the sandbox, served by the real
   * approver-endpoint handler; also in VECGUARD_APPROVER_URL, for the CLI.
   */
  readonly approverUrl: string;
  /** The policy file the handlers read (a copy when `approvalTimeoutMinutes` is set). */
  readonly policyFile: string;
  /**
   * Delivers an event as EventBridge does: to the events queue, whose batch (the events delivered within the
   * batching window) reaches the on-event Lambda handler, which starts or coalesces the runs. Resolves with
   * what became of this event; rejects with the error of an event on-event failed (invalid, or its run could
   * not start).
   */
  deliver(event: unknown): Promise<OnEventResult>;
  /** Every event delivered so far, in order, with what on-event answered. */
  readonly deliveries: readonly { readonly event: unknown; readonly result: OnEventResult }[];
  /** Delivers the schedule's event for a scope (default: the hub's) and returns the executions it started. */
  sweep(scope?: Scope): Promise<StartedExecution[]>;
  /** Wait for an execution to end; resolves with its final description. */
  wait(
    executionArn: string,
    timeoutMs?: number,
  ): Promise<{ status: string; output?: unknown; error?: string; cause?: string }>;
  /**
   * Answer an approval as the identity behind `credentials` (default: the sandbox's default key), through
   * the approver endpoint's function URL with a SigV4-signed request, as `vecguard approve` does. A refusal
   * (not an approver, another account, already answered…) throws an `ApproverEndpointError`.
   */
  answer(
    approvalId: string,
    answer: Answer,
    credentials?: { accessKeyId: string; secretAccessKey: string },
  ): Promise<void>;
  stop(): Promise<void>;
}

const TABLE = 'vecguard-state';

/** The executions an on-event result names. */
export function executionsOf(result: OnEventResult): StartedExecution[] {
  if (result.outcome !== 'started') return [];
  return result.runs.map((r) => ({
    accountId: r.accountId,
    region: r.region,
    runId: r.runId,
    executionArn: r.executionArn,
    vpcIds: r.vpcIds,
  }));
}

/**
 * The sandbox of the loop running in this process, if any. The handlers read one environment and keep their
 * clients per container, as in Lambda: two loops at once would cross-wire (one's runs in the other's sandbox).
 */
let running: string | undefined;

export async function startLocalLoop(options: LocalLoopOptions): Promise<LocalLoop> {
  if (running !== undefined) {
    throw new Error(
      `a local loop is already running in this process (sandbox ${running}): stop it first; the handlers read one environment`,
    );
  }
  const savedEnv = { ...process.env };
  // Before the sandbox: a policy that does not parse fails here, with nothing to clean up.
  const policy = effectivePolicyFile(options);
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await startSandbox(sandboxOptions(options));
    const loop = await wire(sandbox, options, policy, savedEnv);
    setDiePoints(options.dieAt ?? []);
    running = sandbox.url;
    return loop;
  } catch (error) {
    await sandbox?.stop().catch(() => undefined);
    policy.remove();
    restoreEnv(savedEnv);
    throw error;
  }
}

function sandboxOptions(options: LocalLoopOptions): SandboxOptions {
  const speed = options.speed ?? 600;
  return {
    port: options.port ?? 0,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    clock: { speed },
    throttle: {
      enabled: options.throttle ?? false,
      // The sandbox refills on its own clock (× speed); divide so that the refill is throttleSpeed × EC2's in real time.
      ...(options.throttleSpeed === undefined ? {} : { speed: options.throttleSpeed / speed }),
    },
    ...(options.faultSeed === undefined ? {} : { faultSeed: options.faultSeed }),
    ...(options.durations ? { ec2: { durations: options.durations } } : {}),
    ...(options.principals ? { principals: options.principals } : {}),
    stepFunctions: {
      speed,
      // WaitForTransitions reads SecondsPath, which the runner cannot scale: pin it to real milliseconds.
      waitTimeOverrides: {
        WaitForTransitions: Math.max(20, Math.round((LOOP_DEFAULTS.pollSeconds * 1000) / speed)),
      },
    },
  };
}

/** Points the handlers at the sandbox, creates what CDK would deploy, binds the tasks to their handlers. */
async function wire(
  sandbox: Sandbox,
  options: LocalLoopOptions,
  policy: { file: string; remove(): void },
  savedEnv: NodeJS.ProcessEnv,
): Promise<LocalLoop> {
  const speed = options.speed ?? 600;
  const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:111111111111:function:vecguard-${name}`;

  // The handlers read their configuration from the environment, exactly as in Lambda.
  Object.assign(process.env, sandbox.env, {
    VECGUARD_TABLE_NAME: TABLE,
    VECGUARD_POLICY_FILE: policy.file,
    VECGUARD_MEMBER_ROLE_NAME: MEMBER_ROLE_NAME,
    VECGUARD_ACTION_POLL_INTERVAL_MS: String(Math.max(5, Math.round(15_000 / speed))),
    VECGUARD_TIME_SCALE: String(speed),
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  if (options.dryRun === undefined) delete process.env.VECGUARD_DRY_RUN;
  else process.env.VECGUARD_DRY_RUN = String(options.dryRun);
  // The handlers' limiter paces EC2 calls at the rate the sandbox's buckets refill: throttleSpeed × EC2's in
  // real time, or EC2's on the sandbox clock. Unscaled, a 1,000-VPC scope would take EC2's real 45 s to read
  // while everything else runs `speed` times faster.
  process.env.VECGUARD_EC2_RATE_SCALE = String(options.throttleSpeed ?? speed);
  const clientConfig = {
    endpoint: sandbox.url,
    region: sandbox.region,
    credentials: sandbox.clientCredentials,
  };
  const sns = new SNSClient(clientConfig);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'vecguard' }))).TopicArn ?? '';
  sns.destroy();
  process.env.VECGUARD_TOPIC_ARN = topicArn;
  const ddb = new DynamoDBClient(clientConfig);
  await createTable(ddb, TABLE);
  const table: StateTable = { client: stateTableClient(ddb), tableName: TABLE };
  const sfn = new SFNClient(clientConfig);

  const machine = sandbox.stepFunctions.registerStateMachine({
    name: 'vecguard-enforcement-loop',
    definition: readFileSync(ASL_FILE, 'utf8'),
    substitutions: Object.fromEntries(Object.entries(LOOP_FUNCTIONS).map(([s, m]) => [s, lambdaArn(m)])),
  });
  process.env.VECGUARD_STATE_MACHINE_ARN = machine.arn;

  const { resetDeps } = await import('#adapters/deps.ts');
  const { resetConfig } = await import('#shared/config.ts');
  resetConfig();
  resetDeps();
  for (const module of Object.values(LOOP_FUNCTIONS)) {
    const mod = (await import(`../functions/handlers/${module}.ts`)) as { handler: LocalHandler };
    sandbox.stepFunctions.runner.bindHandler(lambdaArn(module), tracked(mod.handler));
  }
  const endpoint = (await import('../functions/handlers/approver-endpoint.ts')) as { handler: LocalHandler };
  const approverUrl = sandbox.functionUrls.register({
    functionName: 'vecguard-approver-endpoint',
    handler: endpoint.handler,
  }).url;
  process.env.VECGUARD_APPROVER_URL = approverUrl;
  const onEvent = await import('../functions/handlers/on-event.ts');
  onEvent.resetOnEventConfig();
  const deliveries: { event: unknown; result: OnEventResult }[] = [];
  // As the events queue and its event source mapping deliver them (infra/constructs/event-triggers.ts): events
  // arriving within the batching window (sandbox time) reach on-event as one SQS batch of at most
  // EVENT_BUFFER.batchSize messages, so that a storm is coalesced as it is in AWS.
  const queue = new EventQueue({
    windowMs: options.batchWindowMs ?? Math.max(5, (EVENT_BUFFER.batchingWindowSeconds * 1000) / speed),
    batchSize: EVENT_BUFFER.batchSize,
    region: sandbox.region,
    queueArn: `arn:aws:sqs:${sandbox.region}:${DEFAULT_ACCOUNT_ID}:vecguard-events`,
    now: () => sandbox.clock.now(),
    process: async (batch) => {
      const context = lambdaContext({
        invoked: lambdaArn('on-event'),
        timeoutSeconds: 60,
        now: () => sandbox.clock.now(),
      });
      return (await onEvent.batchHandler(batch, context as never)).outcomes;
    },
  });
  const deliver = async (event: unknown): Promise<OnEventResult> => {
    const outcome = await queue.send(structuredClone(event));
    // A message the batch failed would return to the queue and, after its receives, to the dead-letter queue;
    // here the caller sees the error at once.
    if (outcome.outcome === 'failed') throw outcome.error;
    deliveries.push({ event: structuredClone(event), result: outcome });
    return outcome;
  };
  let sweeps = 0;
  let stopped = false;

  return {
    sandbox,
    stateMachineArn: machine.arn,
    table,
    approvals: new ApprovalStore(table),
    auditLog: new AuditLog(table),
    blobs: new BlobStore(table),
    topicArn,
    sfn,
    approverUrl,
    policyFile: policy.file,
    deliver,
    deliveries,
    async sweep(scope = { accountId: DEFAULT_ACCOUNT_ID, region: sandbox.region }) {
      sweeps += 1;
      const event = scheduledEvent(scope, new Date(sandbox.clock.now()), sweeps);
      return executionsOf(await deliver(event));
    },
    async wait(executionArn, timeoutMs = 60_000) {
      await sandbox.stepFunctions.runner.waitForExecution(executionArn, { timeoutMs });
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return {
        status: d.status ?? 'UNKNOWN',
        ...(d.output ? { output: JSON.parse(d.output) as unknown } : {}),
        ...(d.error ? { error: d.error } : {}),
        ...(d.cause ? { cause: d.cause } : {}),
      };
    },
    async answer(approvalId, answer, credentials = sandbox.clientCredentials) {
      const client = new ApproverClient({ url: approverUrl, region: sandbox.region, credentials });
      await client.decide(approvalId, answer);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        sandbox.stepFunctions.runner.dispose();
        // A step still running when its execution ended (Step Functions lets a Lambda finish when its Map
        // fails) still writes: let it end before the table goes, as its Lambda would, within a bound.
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise((r) => setTimeout(r, IN_FLIGHT_WAIT_MS)),
        ]);
        sfn.destroy();
        ddb.destroy();
        await sandbox.stop();
      } finally {
        policy.remove();
        restoreEnv(savedEnv);
        resetConfig();
        resetDeps();
        onEvent.resetOnEventConfig();
        setDiePoints([]);
        running = undefined;
      }
    },
  };
}

/** Puts the environment back as it was before the loop started. */
function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
}

/** The policy file the handlers read: the user's, or a copy with the rehearsal's approval timeout. */
function effectivePolicyFile(options: LocalLoopOptions): { file: string; remove(): void } {
  if (options.approvalTimeoutMinutes === undefined) return { file: options.policyFile, remove: () => {} };
  // Validated first, so that a broken policy fails here with the user's own file named, not the copy.
  const document = readPolicyDocument(options.policyFile);
  validatePolicy(document, options.policyFile);
  const raw = (document ?? {}) as { approval?: Record<string, unknown> };
  const copy = JSON.stringify({
    ...raw,
    approval: { ...raw.approval, timeoutMinutes: options.approvalTimeoutMinutes },
  });
  // The override is held to the policy's own bounds here, not first at a handler mid-run.
  parsePolicy(copy, `${options.policyFile} (approval.timeoutMinutes ${options.approvalTimeoutMinutes})`);
  const dir = mkdtempSync(join(tmpdir(), 'vecguard-policy-'));
  const file = join(dir, 'policy.json');
  writeFileSync(file, copy);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
