import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidDefinition,
  InvalidToken,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  paginateListExecutions,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID } from '../src/credentials.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';
import { type StepFunctionsEmulator, stepFunctions } from '../src/stepfunctions/emulator.ts';
import type { LambdaContext } from '../src/stepfunctions/lambda.ts';

const REGION = 'us-east-1';
const PLAN_ARN = `arn:aws:lambda:${REGION}:${DEFAULT_ACCOUNT_ID}:function:vecguard-plan`;
const REQUEST_APPROVAL_ARN = `arn:aws:lambda:${REGION}:${DEFAULT_ACCOUNT_ID}:function:vecguard-request-approval`;
const APPROVER_KEY = 'AKIDSANDBOXAPPROVER01';
const APPROVER_ACCOUNT = '222222222222';
/** 1 sandbox second = 1 real millisecond: the 30 s Wait lasts 30 ms, a 100 s approval timeout 100 ms. */
const SPEED = 1000;

/**
 * A small loop in the shape of the real one: Pass → Task (with Retry) → Map over plain strings (ItemSelector)
 * → waitForTaskToken with Catch on ApprovalRejected and States.Timeout → Choice → Wait → Succeed.
 */
const ASL = JSON.stringify({
  Comment: 'stepfunctions sandbox test loop',
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Pass',
      Parameters: {
        'runId.$': '$.runId',
        'items.$': '$.items',
        'approvalTimeoutSeconds.$': '$.approvalTimeoutSeconds',
        'throttleTimes.$': '$.throttleTimes',
      },
      Next: 'Plan',
    },
    Plan: {
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder, as CDK writes it
      Resource: '${PlanFunctionArn}',
      ResultPath: '$.plan',
      Retry: [{ ErrorEquals: ['ThrottlingError'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Next: 'Groups',
    },
    Groups: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 10,
      ItemSelector: {
        'groupId.$': '$$.Map.Item.Value',
        'runId.$': '$.runId',
        'approvalTimeoutSeconds.$': '$.approvalTimeoutSeconds',
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'RequestApproval',
        States: {
          RequestApproval: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
              FunctionName: '${RequestApprovalFunctionArn}',
              Payload: { 'runId.$': '$.runId', 'groupId.$': '$.groupId', 'taskToken.$': '$$.Task.Token' },
            },
            TimeoutSecondsPath: '$.approvalTimeoutSeconds',
            ResultPath: '$.approval',
            Catch: [
              { ErrorEquals: ['ApprovalRejected'], ResultPath: '$.rejection', Next: 'Rejected' },
              { ErrorEquals: ['States.Timeout'], ResultPath: '$.rejection', Next: 'Expired' },
            ],
            Next: 'Approved',
          },
          Approved: {
            Type: 'Pass',
            Parameters: {
              'groupId.$': '$.groupId',
              outcome: 'approved',
              'approver.$': '$.approval.approver',
            },
            End: true,
          },
          Rejected: {
            Type: 'Pass',
            Parameters: { 'groupId.$': '$.groupId', outcome: 'rejected', 'error.$': '$.rejection.Error' },
            End: true,
          },
          Expired: {
            Type: 'Pass',
            Parameters: { 'groupId.$': '$.groupId', outcome: 'expired', 'error.$': '$.rejection.Error' },
            End: true,
          },
        },
      },
      ResultPath: '$.groups',
      Next: 'AnyApproved?',
    },
    'AnyApproved?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.groups[0].outcome', StringEquals: 'approved', Next: 'Settle' }],
      Default: 'Done',
    },
    Settle: { Type: 'Wait', Seconds: 30, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
});

interface PlanEvent {
  runId: string;
  items: string[];
  throttleTimes: number;
}
interface ApprovalEvent {
  runId: string;
  groupId: string;
  taskToken: string;
}

describe('sandbox Step Functions (local runner)', () => {
  const planCalls = new Map<string, number>();
  const approvalRequests: ApprovalEvent[] = [];
  const contexts: LambdaContext[] = [];
  let sandbox: SandboxHandle;
  let emulator: StepFunctionsEmulator;
  let sfn: SFNClient;
  let approverSfn: SFNClient;
  let stateMachineArn: string;

  const plan = async (event: PlanEvent, context: LambdaContext) => {
    contexts.push(context);
    const calls = (planCalls.get(event.runId) ?? 0) + 1;
    planCalls.set(event.runId, calls);
    if (calls <= event.throttleTimes) {
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingError';
      throw error;
    }
    return { groups: event.items.length };
  };
  const requestApproval = async (event: ApprovalEvent) => {
    approvalRequests.push(event);
    return { notified: event.groupId };
  };

  beforeAll(async () => {
    sandbox = await startSandboxServer({
      region: REGION,
      services: [
        stepFunctions({
          speed: SPEED,
          handlers: { [PLAN_ARN]: plan, [REQUEST_APPROVAL_ARN]: requestApproval },
        }),
      ],
    });
    sandbox.registerCredentials(APPROVER_KEY, APPROVER_ACCOUNT);
    emulator = sandbox.router.service('states') as StepFunctionsEmulator;
    stateMachineArn = emulator.registerStateMachine({
      name: 'vecguard-test-loop',
      definition: ASL,
      substitutions: { PlanFunctionArn: PLAN_ARN, RequestApprovalFunctionArn: REQUEST_APPROVAL_ARN },
    }).arn;
    const client = (accessKeyId: string) =>
      new SFNClient({
        endpoint: sandbox.url,
        region: REGION,
        credentials: { accessKeyId, secretAccessKey: sandbox.clientCredentials.secretAccessKey },
        maxAttempts: 1,
      });
    sfn = client(DEFAULT_ACCESS_KEY_ID);
    approverSfn = client(APPROVER_KEY);
  });
  afterAll(async () => {
    emulator.runner.dispose();
    await sandbox.stop();
  });
  beforeEach(() => {
    approvalRequests.length = 0;
  });

  let runs = 0;
  const start = async (
    input: Partial<{ items: string[]; approvalTimeoutSeconds: number; throttleTimes: number }> = {},
  ) => {
    runs += 1;
    const runId = `run-${runs}`;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: runId,
        input: JSON.stringify({
          runId,
          items: ['g1'],
          approvalTimeoutSeconds: 3600,
          throttleTimes: 0,
          ...input,
        }),
      }),
    );
    return { runId, executionArn: executionArn as string };
  };
  const describeExecution = (executionArn: string) =>
    sfn.send(new DescribeExecutionCommand({ executionArn }));
  const finished = async (executionArn: string) => {
    await emulator.runner.waitForExecution(executionArn, { timeoutMs: 3000 });
    return describeExecution(executionArn);
  };
  const approve = (client: SFNClient, taskToken: string, approver: string) =>
    client.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approved: true, approver }) }),
    );
  const history = async (executionArn: string) => {
    const events: HistoryEvent[] = [];
    for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 5 }, { executionArn })) {
      events.push(...(page.events ?? []));
    }
    return events;
  };
  const enteredStates = (events: HistoryEvent[]) =>
    events.flatMap((e) =>
      e.stateEnteredEventDetails?.name === undefined ? [] : [e.stateEnteredEventDetails.name],
    );

  it('runs Pass → Task → Map → waitForTaskToken → Choice → Wait → Succeed to the expected output', async () => {
    const began = performance.now();
    const { runId, executionArn } = await start({ items: ['g1', 'g2'] });

    const first = await emulator.runner.nextTaskToken({ executionArn });
    const second = await emulator.runner.nextTaskToken({ executionArn });
    // The handler got the token where the ASL put it; each task has its own unguessable token.
    expect(approvalRequests.map((r) => r.taskToken).sort()).toEqual([first.token, second.token].sort());
    expect(first.token).not.toBe(second.token);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(JSON.stringify(first)).not.toContain('placeholder');
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');

    const byGroup = new Map(approvalRequests.map((r) => [r.groupId, r.taskToken]));
    await approve(sfn, byGroup.get('g1') as string, 'alice');
    await approve(sfn, byGroup.get('g2') as string, 'bob');

    const described = await finished(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual({
      runId,
      items: ['g1', 'g2'],
      approvalTimeoutSeconds: 3600,
      throttleTimes: 0,
      plan: { groups: 2 },
      groups: [
        { groupId: 'g1', outcome: 'approved', approver: 'alice' },
        { groupId: 'g2', outcome: 'approved', approver: 'bob' },
      ],
    });
    expect(described.stopDate?.getTime()).toBeGreaterThanOrEqual(described.startDate?.getTime() ?? Infinity);
    expect(enteredStates(await history(executionArn))).toContain('Settle');
    // The 30 s Wait ran at the speed factor.
    expect(performance.now() - began).toBeLessThan(3000);
    // A Lambda-like context reached the handler.
    expect(contexts.at(-1)?.functionName).toBe('vecguard-plan');
    expect(contexts.at(-1)?.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('accepts answers out of order and records who answered each token', async () => {
    const { executionArn } = await start({ items: ['a', 'b', 'c'] });
    const tokens = await Promise.all([0, 1, 2].map(() => emulator.runner.nextTaskToken({ executionArn })));
    const tokenOf = (groupId: string) =>
      approvalRequests.find((r) => r.groupId === groupId)?.taskToken as string;
    expect(new Set(tokens.map((t) => t.token)).size).toBe(3);

    await approve(approverSfn, tokenOf('c'), 'carol');
    await approve(sfn, tokenOf('a'), 'alice');
    await approve(approverSfn, tokenOf('b'), 'bob');

    const described = await finished(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).groups).toEqual([
      { groupId: 'a', outcome: 'approved', approver: 'alice' },
      { groupId: 'b', outcome: 'approved', approver: 'bob' },
      { groupId: 'c', outcome: 'approved', approver: 'carol' },
    ]);
    // In answer order: c, a, b.
    const answeredBy = emulator.runner
      .execution(executionArn)
      ?.history.filter((e) => e.type === 'TaskSucceeded')
      .map((e) => e.answeredBy);
    expect(answeredBy).toEqual([
      { accountId: APPROVER_ACCOUNT, accessKeyId: APPROVER_KEY },
      { accountId: DEFAULT_ACCOUNT_ID, accessKeyId: DEFAULT_ACCESS_KEY_ID },
      { accountId: APPROVER_ACCOUNT, accessKeyId: APPROVER_KEY },
    ]);
  });

  it('refuses a second answer to the same token, and malformed or unknown tokens', async () => {
    const { executionArn } = await start();
    const { token } = await emulator.runner.nextTaskToken({ executionArn });
    await approve(sfn, token, 'alice');

    await expect(approve(sfn, token, 'mallory')).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(
      sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejected' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(approve(sfn, 'not-a-token', 'mallory')).rejects.toBeInstanceOf(InvalidToken);
    await expect(approve(sfn, 'A'.repeat(64), 'mallory')).rejects.toBeInstanceOf(TaskDoesNotExist);

    const described = await finished(executionArn);
    expect(JSON.parse(described.output as string).groups).toEqual([
      { groupId: 'g1', outcome: 'approved', approver: 'alice' },
    ]);
  });

  it('takes the Catch path when the approver answers SendTaskFailure ApprovalRejected', async () => {
    const { executionArn } = await start();
    const { token } = await emulator.runner.nextTaskToken({ executionArn });
    await approverSfn.send(
      new SendTaskFailureCommand({
        taskToken: token,
        error: 'ApprovalRejected',
        cause: 'not in this window',
      }),
    );

    const described = await finished(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).groups).toEqual([
      { groupId: 'g1', outcome: 'rejected', error: 'ApprovalRejected' },
    ]);
    const events = await history(executionArn);
    expect(enteredStates(events)).toEqual([
      'Prepare',
      'Plan',
      'Groups',
      'RequestApproval',
      'Rejected',
      'AnyApproved?',
      'Done',
    ]);
    const failed = events.find((e) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({
      error: 'ApprovalRejected',
      cause: 'not in this window',
    });
    const recorded = emulator.runner.execution(executionArn)?.history.find((e) => e.type === 'TaskFailed');
    expect(recorded?.answeredBy).toEqual({ accountId: APPROVER_ACCOUNT, accessKeyId: APPROVER_KEY });
  });

  it('times the approval out (TimeoutSecondsPath, scaled) onto the Timeout path, and the token dies', async () => {
    const { executionArn } = await start({ approvalTimeoutSeconds: 100 });
    const { token } = await emulator.runner.nextTaskToken({ executionArn });

    const described = await finished(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).groups).toEqual([
      { groupId: 'g1', outcome: 'expired', error: 'States.Timeout' },
    ]);
    const timedOut = (await history(executionArn)).find((e) => e.type === 'TaskTimedOut');
    expect(timedOut?.taskTimedOutEventDetails?.error).toBe('States.Timeout');
    await expect(approve(sfn, token, 'too-late')).rejects.toBeInstanceOf(TaskTimedOut);
    expect(emulator.runner.waitingTasks(executionArn)).toEqual([]);
  });

  it('retries a handler that throws ThrottlingError as the ASL Retry says, then fails once attempts run out', async () => {
    const retried = await start({ throttleTimes: 2 });
    const { token } = await emulator.runner.nextTaskToken({ executionArn: retried.executionArn });
    await approve(sfn, token, 'alice');
    expect((await finished(retried.executionArn)).status).toBe('SUCCEEDED');
    expect(planCalls.get(retried.runId)).toBe(3);
    const planEvents = (await history(retried.executionArn))
      .filter((e) => e.type?.startsWith('LambdaFunction'))
      .map(
        (e) =>
          `${e.type}${e.lambdaFunctionFailedEventDetails ? `:${e.lambdaFunctionFailedEventDetails.error}` : ''}`,
      );
    expect(planEvents).toEqual([
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed:ThrottlingError',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed:ThrottlingError',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ]);

    const exhausted = await start({ throttleTimes: 10 });
    const failed = await finished(exhausted.executionArn);
    expect(planCalls.get(exhausted.runId)).toBe(4);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('ThrottlingError');
    expect(JSON.parse(failed.cause as string)).toMatchObject({
      errorType: 'ThrottlingError',
      errorMessage: 'Rate exceeded',
    });
  });

  it('answers ExecutionDoesNotExist, StateMachineDoesNotExist and InvalidArn for unknown or malformed ARNs', async () => {
    const unknown = `arn:aws:states:${REGION}:${DEFAULT_ACCOUNT_ID}:execution:vecguard-test-loop:nope`;
    await expect(describeExecution(unknown)).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn.send(new GetExecutionHistoryCommand({ executionArn: unknown }))).rejects.toBeInstanceOf(
      ExecutionDoesNotExist,
    );
    await expect(sfn.send(new StopExecutionCommand({ executionArn: unknown }))).rejects.toBeInstanceOf(
      ExecutionDoesNotExist,
    );
    await expect(describeExecution('not-an-arn')).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: `arn:aws:states:${REGION}:${DEFAULT_ACCOUNT_ID}:stateMachine:missing`,
        }),
      ),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('applies DefinitionSubstitutions and refuses a definition that leaves one unresolved', async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect(described.definition).toContain(`"Resource":"${PLAN_ARN}"`);
    expect(described.definition).toContain(`"FunctionName":"${REQUEST_APPROVAL_ARN}"`);
    expect(described.definition).not.toContain('${');
    expect(emulator.runner.unboundTasks(stateMachineArn)).toEqual([]);

    expect(() =>
      emulator.registerStateMachine({
        name: 'missing-substitution',
        definition: ASL,
        substitutions: { PlanFunctionArn: PLAN_ARN },
      }),
    ).toThrow(/RequestApprovalFunctionArn/);
    // Through the API (no substitutions there, as with CloudFormation) the raw ${...} is not a valid ARN.
    await expect(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'raw-template',
          definition: ASL,
          roleArn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:role/sfn`,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidDefinition);
  });

  it('ListExecutions pages and filters by status; GetExecutionHistory returns the states in order', async () => {
    const { executionArn } = await start({ items: ['only'] });
    const { token } = await emulator.runner.nextTaskToken({ executionArn });
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }));
    expect(running.executions?.map((e) => e.executionArn)).toEqual([executionArn]);
    await approve(sfn, token, 'alice');
    await finished(executionArn);

    const succeeded: string[] = [];
    for await (const page of paginateListExecutions(
      { client: sfn, pageSize: 1 },
      { stateMachineArn, statusFilter: 'SUCCEEDED' },
    )) {
      expect(page.executions?.length).toBeLessThanOrEqual(1);
      succeeded.push(...(page.executions ?? []).map((e) => e.executionArn as string));
    }
    const expected = emulator.runner
      .executionsOf(stateMachineArn)
      .filter((e) => e.status === 'SUCCEEDED')
      .map((e) => e.arn);
    expect(succeeded).toEqual(expected);
    expect(succeeded[0]).toBe(executionArn);
    expect(succeeded.length).toBeGreaterThan(1);

    const events = await history(executionArn);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(enteredStates(events)).toEqual([
      'Prepare',
      'Plan',
      'Groups',
      'RequestApproval',
      'Approved',
      'AnyApproved?',
      'Settle',
      'Done',
    ]);
    const taskEvents = events
      .filter((e) => e.type?.startsWith('Task'))
      .map((e) => {
        const name = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name;
        return name === undefined ? e.type : `${e.type}:${name}`;
      });
    expect(taskEvents).toEqual([
      'TaskStateEntered:Plan',
      'TaskStateExited:Plan',
      'TaskStateEntered:RequestApproval',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited:RequestApproval',
    ]);
    const scheduled = events.find((e) => e.type === 'TaskScheduled')?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      timeoutInSeconds: 3600,
    });
    expect(JSON.parse(scheduled?.parameters as string).Payload.taskToken).toBe(token);
    expect(events[0]?.type).toBe('ExecutionStarted');
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    const reversed = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
    );
    expect(reversed.events?.[0]?.type).toBe('ExecutionSucceeded');
    expect(reversed.nextToken).toBeDefined();
  });

  it('StartExecution is idempotent for the same name and input while running, ExecutionAlreadyExists otherwise', async () => {
    const input = JSON.stringify({
      runId: 'same',
      items: ['x'],
      approvalTimeoutSeconds: 3600,
      throttleTimes: 0,
    });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input }));
    expect(again.executionArn).toBe(first.executionArn);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input: '{"other":true}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    // Stopping kills the waiting token.
    const { token } = await emulator.runner.nextTaskToken({ executionArn: first.executionArn as string });
    await sfn.send(
      new StopExecutionCommand({ executionArn: first.executionArn, error: 'Operator', cause: 'test' }),
    );
    const stopped = await describeExecution(first.executionArn as string);
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'test' });
    await expect(approve(sfn, token, 'late')).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });
});
