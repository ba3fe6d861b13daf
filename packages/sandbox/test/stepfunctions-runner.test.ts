import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/stepfunctions/definition.ts';
import { LocalRunner } from '../src/stepfunctions/runner.ts';

const FN = 'arn:aws:lambda:us-east-1:111111111111:function';

/** One state machine per test, run in-process (the API suite covers the wire). */
function machine(runner: LocalRunner, States: JsonObject, extra: JsonObject = {}): string {
  const name = `m-${Math.random().toString(36).slice(2, 10)}`;
  return runner.registerStateMachine({
    name,
    definition: { StartAt: Object.keys(States)[0], States, ...extra },
  }).arn;
}

describe('LocalRunner', () => {
  let runner: LocalRunner;
  afterEach(() => runner.dispose());

  it('shapes lambda:invoke results like the integration and finds handlers by function name or dynamic FunctionName', async () => {
    runner = new LocalRunner({
      speed: 1000,
      handlers: {
        double: (e: { n: number }) => ({ n: e.n * 2 }),
        [`${FN}:label`]: (e: { n: number }) => `n=${e.n}`,
      },
    });
    const arn = machine(runner, {
      Both: {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'Static',
            States: {
              Static: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { FunctionName: `${FN}:double`, 'Payload.$': '$' },
                ResultSelector: { 'n.$': '$.Payload.n', 'status.$': '$.StatusCode' },
                End: true,
              },
            },
          },
          {
            StartAt: 'Dynamic',
            States: {
              Dynamic: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { 'FunctionName.$': '$.labeller', 'Payload.$': '$' },
                OutputPath: '$.Payload',
                End: true,
              },
            },
          },
        ],
        End: true,
      },
    });
    const execution = runner.startExecution(arn, { input: { n: 21, labeller: 'label' } });
    const done = await runner.waitForExecution(execution.arn, { timeoutMs: 2000 });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual([{ n: 42, status: 200 }, 'n=21']);
  });

  it('fails a task whose function has no local handler with Lambda.ResourceNotFoundException', async () => {
    runner = new LocalRunner({ speed: 1000 });
    const arn = machine(runner, { Missing: { Type: 'Task', Resource: `${FN}:nowhere`, End: true } });
    expect(runner.unboundTasks(arn).map((t) => t.stateName)).toEqual(['Missing']);
    const done = await runner.waitForExecution(runner.startExecution(arn).arn, { timeoutMs: 2000 });
    expect(done).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
  });

  it('does not let States.TaskFailed catch a timeout, as AWS does not', async () => {
    runner = new LocalRunner({ speed: 1000, handlers: { slow: () => new Promise(() => {}) } });
    const arn = machine(runner, {
      Slow: {
        Type: 'Task',
        Resource: `${FN}:slow`,
        TimeoutSeconds: 50,
        Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Succeed' },
    });
    const done = await runner.waitForExecution(runner.startExecution(arn).arn, { timeoutMs: 2000 });
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(done.history.map((e) => e.type)).toContain('LambdaFunctionTimedOut');
  });

  it('times a token task out on a missing heartbeat, and a heartbeat keeps it alive', async () => {
    runner = new LocalRunner({ speed: 1000, handlers: { wait: () => ({}) } });
    const arn = machine(runner, {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'wait', Payload: { 'token.$': '$$.Task.Token' } },
        // 200 ms at speed 1000; the live task beats every 20 ms.
        HeartbeatSeconds: 200,
        End: true,
      },
    });
    const silent = runner.startExecution(arn);
    const alive = runner.startExecution(arn);
    const aliveTask = await runner.nextTaskToken({ executionArn: alive.arn });
    const beat = setInterval(() => runner.sendTaskHeartbeat(aliveTask.token), 20);
    const timedOut = await runner.waitForExecution(silent.arn, { timeoutMs: 2000 });
    clearInterval(beat);
    expect(timedOut).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect(runner.execution(alive.arn)?.status).toBe('RUNNING');
    runner.sendTaskSuccess(aliveTask.token, { ok: true });
    expect(await runner.waitForExecution(alive.arn, { timeoutMs: 2000 })).toMatchObject({
      status: 'SUCCEEDED',
      output: { ok: true },
    });
  });

  it('ends an execution past its TimeoutSeconds as TIMED_OUT and kills its tokens', async () => {
    runner = new LocalRunner({ speed: 1000, handlers: { wait: () => ({}) } });
    const arn = machine(
      runner,
      {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'wait', Payload: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      },
      { TimeoutSeconds: 50 },
    );
    const execution = runner.startExecution(arn);
    const { token } = await runner.nextTaskToken({ executionArn: execution.arn });
    const done = await runner.waitForExecution(execution.arn, { timeoutMs: 2000 });
    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(done.history.at(-1)?.type).toBe('ExecutionTimedOut');
    expect(() => runner.sendTaskSuccess(token, {})).toThrow(/Task Timed Out/);
  });

  it('tells listeners about states and tokens as they happen', async () => {
    runner = new LocalRunner({ speed: 1000, handlers: { ask: () => ({ asked: true }) } });
    const arn = machine(runner, {
      Ask: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'ask', Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    });
    const seen: string[] = [];
    const off = runner.onEvent((event) => {
      seen.push(event.type);
      if (event.type === 'TaskSubmitted' && event.taskToken !== undefined) {
        runner.sendTaskSuccess(event.taskToken, 'yes');
      }
    });
    const done = await runner.waitForExecution(runner.startExecution(arn).arn, { timeoutMs: 2000 });
    off();
    expect(done.output).toBe('yes');
    expect(seen).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });
});
