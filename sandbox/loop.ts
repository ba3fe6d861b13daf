/**
 * The enforcement loop, locally: the whole sandbox, the very ASL file CDK deploys executed by the sandbox's
 * Step Functions endpoint, and every Task bound to the real handler module, invoked in process. Handlers
 * find the sandbox through the same environment variables they read in Lambda.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { type Answer, answerApproval } from '../functions/adapters/approver.ts';
import { ApprovalStore } from '../functions/adapters/store/approvals.ts';
import { AuditLog } from '../functions/adapters/store/audit-log.ts';
import { BlobStore } from '../functions/adapters/store/blob-store.ts';
import { createTable, type StateTable, stateTableClient } from '../functions/adapters/store/table.ts';
import type { Ec2Durations } from './ec2/store.ts';
import { type FullSandbox, startFullSandbox } from './full.ts';
import { type StepFunctionsEmulator, stepFunctions } from './stepfunctions/emulator.ts';
import type { LocalHandler } from './stepfunctions/lambda.ts';

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

export interface LocalLoopOptions {
  /** A built-in scenario name or a path. */
  readonly scenario?: string;
  readonly policyFile: string;
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
  /** How long asynchronous EC2 changes take, in sandbox milliseconds (see sandbox/ec2/store.ts). */
  readonly durations?: Partial<Ec2Durations>;
}

export interface RunOptions {
  readonly accountId?: string;
  readonly region?: string;
  /** The member-account role the handlers assume for the scope (null: the sandbox's default credentials). */
  readonly roleArn?: string | null;
  readonly vpcIds?: readonly string[] | null;
  /** The account's parent chain in AWS Organizations (what on-event reads for a policy with OU targets). */
  readonly organizationalUnitIds?: readonly string[];
  readonly maxIterations?: number;
  /** Sandbox seconds; the poll wait is pinned to real milliseconds because SecondsPath cannot be scaled. */
  readonly pollSeconds?: number;
  readonly maxPolls?: number;
  /** Sandbox seconds (divided by the speed, like every Step Functions timeout here). */
  readonly approvalTimeoutSeconds?: number;
  readonly runId?: string;
}

export interface LocalLoop {
  readonly full: FullSandbox;
  readonly stepFunctions: StepFunctionsEmulator;
  readonly stateMachineArn: string;
  readonly table: StateTable;
  readonly approvals: ApprovalStore;
  readonly auditLog: AuditLog;
  readonly blobs: BlobStore;
  readonly topicArn: string;
  readonly sfn: SFNClient;
  /** Start one run of the loop for a scope; resolves with the execution ARN. */
  start(options?: RunOptions): Promise<{ executionArn: string; runId: string }>;
  /** Wait for an execution to end; resolves with its final description. */
  wait(
    executionArn: string,
    timeoutMs?: number,
  ): Promise<{ status: string; output?: unknown; error?: string; cause?: string }>;
  /** Answer an approval as the identity behind `credentials` (default: the sandbox's default key). */
  answer(
    approvalId: string,
    answer: Answer,
    credentials?: { accessKeyId: string; secretAccessKey: string },
  ): Promise<void>;
  stop(): Promise<void>;
}

const TABLE = 'vecguard-state';

export async function startLocalLoop(options: LocalLoopOptions): Promise<LocalLoop> {
  const speed = options.speed ?? 600;
  const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:111111111111:function:vecguard-${name}`;
  const handlers: Record<string, LocalHandler> = {};
  const emulatorFactory = stepFunctions({
    speed,
    handlers,
    // WaitForTransitions reads SecondsPath, which the runner cannot scale: pin it to real milliseconds.
    waitTimeOverrides: { WaitForTransitions: Math.max(20, Math.round((30 * 1000) / speed)) },
  });
  const full = await startFullSandbox({
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
    extraServices: [emulatorFactory],
  });
  const { sandbox } = full;

  // The handlers read their configuration from the environment, exactly as in Lambda.
  Object.assign(process.env, sandbox.env, {
    VECGUARD_TABLE_NAME: TABLE,
    VECGUARD_POLICY_FILE: options.policyFile,
    VECGUARD_ACTION_POLL_INTERVAL_MS: String(Math.max(5, Math.round(15_000 / speed))),
    VECGUARD_TIME_SCALE: String(speed),
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    ...(options.dryRun === undefined ? {} : { VECGUARD_DRY_RUN: String(options.dryRun) }),
  });
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
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'vecguard' }));
  process.env.VECGUARD_TOPIC_ARN = TopicArn;
  const ddb = new DynamoDBClient(clientConfig);
  await createTable(ddb, TABLE);
  const table: StateTable = { client: stateTableClient(ddb), tableName: TABLE };

  const { resetDeps } = await import('../functions/handlers/deps.ts');
  resetDeps();
  for (const [substitution, module] of Object.entries(LOOP_FUNCTIONS)) {
    const mod = (await import(`../functions/handlers/${module}.ts`)) as { handler: LocalHandler };
    handlers[lambdaArn(module)] = mod.handler;
    void substitution;
  }
  const stepFunctionsEmulator = sandbox.router.service('states') as StepFunctionsEmulator;
  for (const [key, handler] of Object.entries(handlers))
    stepFunctionsEmulator.runner.bindHandler(key, handler);
  const machine = stepFunctionsEmulator.registerStateMachine({
    name: 'vecguard-enforcement-loop',
    definition: readFileSync(ASL_FILE, 'utf8'),
    substitutions: Object.fromEntries(Object.entries(LOOP_FUNCTIONS).map(([s, m]) => [s, lambdaArn(m)])),
  });
  const sfn = new SFNClient(clientConfig);
  let runs = 0;

  return {
    full,
    stepFunctions: stepFunctionsEmulator,
    stateMachineArn: machine.arn,
    table,
    approvals: new ApprovalStore(table),
    auditLog: new AuditLog(table),
    blobs: new BlobStore(table),
    topicArn: TopicArn ?? '',
    sfn,
    async start(run = {}) {
      runs += 1;
      const runId = run.runId ?? `run-${String(runs).padStart(3, '0')}`;
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machine.arn,
          name: runId,
          input: JSON.stringify({
            runId,
            accountId: run.accountId ?? '111111111111',
            region: run.region ?? sandbox.region,
            roleArn: run.roleArn ?? null,
            vpcIds: run.vpcIds ?? null,
            organizationalUnitIds: run.organizationalUnitIds ?? [],
            maxIterations: run.maxIterations ?? 6,
            pollSeconds: run.pollSeconds ?? 30,
            maxPolls: run.maxPolls ?? 40,
            approvalTimeoutSeconds: run.approvalTimeoutSeconds ?? 86_400,
          }),
        }),
      );
      return { executionArn: executionArn ?? '', runId };
    },
    async wait(executionArn, timeoutMs = 60_000) {
      await stepFunctionsEmulator.runner.waitForExecution(executionArn, { timeoutMs });
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return {
        status: d.status ?? 'UNKNOWN',
        ...(d.output ? { output: JSON.parse(d.output) as unknown } : {}),
        ...(d.error ? { error: d.error } : {}),
        ...(d.cause ? { cause: d.cause } : {}),
      };
    },
    async answer(approvalId, answer, credentials = sandbox.clientCredentials) {
      const cfg = { endpoint: sandbox.url, region: sandbox.region, credentials };
      await answerApproval(
        {
          approvals: new ApprovalStore(table),
          sfn: new SFNClient(cfg),
          sts: new STSClient(cfg),
          now: () => new Date(),
        },
        approvalId,
        answer,
      );
    },
    async stop() {
      stepFunctionsEmulator.runner.dispose();
      await sandbox.stop();
    },
  };
}
