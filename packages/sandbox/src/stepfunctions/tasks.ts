/**
 * Running Task states: the function aws-local-stepfunctions calls for each Task of an execution, the
 * invocation of the bound local handler, its timers (task timeout, heartbeat) and how it settles
 * (succeeded, failed, timed out, cancelled), each with its history events. See runner.ts for how a Task
 * finds its handler and how time is scaled.
 */
import { randomUUID } from 'node:crypto';
import {
  EFFECTIVE_INPUT_KEY,
  integrationOf,
  isObject,
  type Json,
  type JsonObject,
  MAX_TIMER_MS,
  resolveReferencePath,
  STATE_INPUT_KEY,
  type TaskSpec,
} from './definition.ts';
import { StatesRuntimeError, statesRuntime, taskCancelled } from './errors.ts';
import { type ExecutionRecord, MAX_PAYLOAD_BYTES } from './executions.ts';
import type { CallerIdentity } from './history.ts';
import { invokeHandler, type LocalHandler, lambdaContext } from './lambda.ts';
import type { HistoryRecorder } from './recorder.ts';
import { newTaskToken, type TaskTokens } from './task-tokens.ts';

/** What `$$.Task.Token` resolves to inside aws-local-stepfunctions; replaced by a real token per task. */
export const TASK_TOKEN_PLACEHOLDER = 'sandbox-task-token-placeholder';

/** One attempt of one Task state. */
export interface TaskInvocation {
  readonly execution: ExecutionRecord;
  readonly spec: TaskSpec;
  readonly token: string | undefined;
  /** The effective input, token in place. */
  readonly delivered: Json;
  readonly timeoutSeconds: number | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly resolve: (output: Json) => void;
  readonly reject: (error: Error) => void;
  readonly timers: Set<NodeJS.Timeout>;
  settled: boolean;
  submitted: boolean;
}

/** `overrides.taskResourceLocalHandlers` of one run: state name → the function the library calls. */
export type TaskHandlers = Record<string, (input: Json) => Promise<Json>>;

export interface TasksParts {
  readonly speed: number;
  /** What `context.getRemainingTimeInMillis()` counts down from. */
  readonly lambdaTimeoutSeconds: number;
  readonly history: HistoryRecorder;
  readonly tokens: TaskTokens;
  /** The local handler bound to a function ARN, name or Resource ARN. */
  readonly handlerFor: (key: string) => LocalHandler | undefined;
}

export class Tasks {
  private readonly parts: TasksParts;
  private readonly heartbeatTimers = new WeakMap<TaskInvocation, NodeJS.Timeout>();

  constructor(parts: TasksParts) {
    this.parts = parts;
  }

  /** One local handler per Task state of the execution's machine. */
  localHandlers(execution: ExecutionRecord): TaskHandlers {
    const handlers: TaskHandlers = {};
    for (const [stateName, spec] of execution.machine.specs) {
      const runtimeState = execution.machine.taskStates.get(stateName);
      if (runtimeState !== undefined) {
        handlers[stateName] = this.localHandler(execution, spec, runtimeState);
      }
    }
    return handlers;
  }

  succeed(invocation: TaskInvocation, output: Json, answeredBy?: CallerIdentity): void {
    if (!this.settle(invocation)) {
      return;
    }
    const { spec } = invocation;
    this.parts.history.record(invocation.execution, {
      type: spec.kind === 'lambda' ? 'LambdaFunctionSucceeded' : 'TaskSucceeded',
      stateName: spec.stateName,
      ...(spec.kind === 'lambda' ? {} : integrationOf(spec.resource)),
      output,
      ...(answeredBy === undefined ? {} : { answeredBy }),
    });
    invocation.resolve(output);
  }

  fail(invocation: TaskInvocation, error: Error, answeredBy?: CallerIdentity): void {
    if (!this.settle(invocation)) {
      return;
    }
    const { spec } = invocation;
    this.parts.history.record(invocation.execution, {
      type: spec.kind === 'lambda' ? 'LambdaFunctionFailed' : 'TaskFailed',
      stateName: spec.stateName,
      ...(spec.kind === 'lambda' ? {} : integrationOf(spec.resource)),
      error: error.name,
      cause: error.message,
      ...(answeredBy === undefined ? {} : { answeredBy }),
    });
    invocation.reject(error);
  }

  /** (Re)arms the heartbeat deadline, when the Task has one. */
  heartbeat(invocation: TaskInvocation): void {
    if (invocation.heartbeatSeconds === undefined) {
      return;
    }
    const previous = this.heartbeatTimers.get(invocation);
    if (previous !== undefined) {
      clearTimeout(previous);
      invocation.timers.delete(previous);
    }
    const ms = Math.min(MAX_TIMER_MS, (invocation.heartbeatSeconds * 1000) / this.parts.speed);
    this.heartbeatTimers.set(
      invocation,
      this.arm(invocation, ms, () => this.timeOut(invocation, 'States.HeartbeatTimeout')),
    );
  }

  /** Rejects every task of the execution still in flight with `States.Cancelled`. */
  cancel(execution: ExecutionRecord, message: string): void {
    for (const invocation of [...execution.invocations]) {
      if (this.settle(invocation)) {
        invocation.reject(taskCancelled(message));
      }
    }
  }

  /** The function aws-local-stepfunctions calls for one Task state of one execution. */
  private localHandler(
    execution: ExecutionRecord,
    spec: TaskSpec,
    runtimeState: JsonObject,
  ): (input: Json) => Promise<Json> {
    return (received) => {
      // Everything up to `return` runs synchronously, before the library arms its task timer.
      let effective = received;
      let stateInput = received;
      if (spec.wrapsStateInput && isObject(received)) {
        effective = received[EFFECTIVE_INPUT_KEY] ?? null;
        stateInput = received[STATE_INPUT_KEY] ?? null;
      }
      if (execution.status !== 'RUNNING') {
        return Promise.reject(taskCancelled(`${execution.arn} is ${execution.status}`));
      }
      let timeoutSeconds: number | undefined;
      let heartbeatSeconds: number | undefined;
      try {
        timeoutSeconds = seconds(execution, stateInput, spec.timeoutSeconds, spec.timeoutSecondsPath);
        heartbeatSeconds = seconds(execution, stateInput, spec.heartbeatSeconds, spec.heartbeatSecondsPath);
      } catch (error) {
        return Promise.reject(error);
      }
      const scaledSeconds =
        timeoutSeconds === undefined
          ? MAX_TIMER_MS / 1000
          : Math.min(MAX_TIMER_MS / 1000, timeoutSeconds / this.parts.speed);
      runtimeState.TimeoutSeconds = scaledSeconds;
      // The library arms `setTimeout(…, TimeoutSeconds * 1e3)` right after this returns; the runner's deadline
      // uses the very same float, so both timers share Node's list for that delay and ours fires first.
      const deadlineMs = scaledSeconds * 1e3;

      const token = spec.waitForTaskToken ? newTaskToken() : undefined;
      let resolve: (output: Json) => void = () => {};
      let reject: (error: Error) => void = () => {};
      const promise = new Promise<Json>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const invocation: TaskInvocation = {
        execution,
        spec,
        token,
        delivered: token === undefined ? effective : replacePlaceholder(effective, token),
        timeoutSeconds,
        heartbeatSeconds,
        resolve,
        reject,
        timers: new Set(),
        settled: false,
        submitted: false,
      };
      execution.invocations.add(invocation);
      if (token !== undefined) {
        this.parts.tokens.add(token, invocation);
        this.heartbeat(invocation);
      }
      if (timeoutSeconds !== undefined) {
        this.arm(invocation, deadlineMs, () => this.timeOut(invocation, 'States.Timeout'));
      }
      setImmediate(() => {
        void this.invoke(invocation);
      });
      return promise;
    };
  }

  private async invoke(invocation: TaskInvocation): Promise<void> {
    if (invocation.settled) {
      return;
    }
    const { history } = this.parts;
    const { spec, execution, delivered } = invocation;
    const integration = integrationOf(spec.resource);
    const invokeIntegration = spec.kind === 'lambda-invoke';
    const functionKey = invokeIntegration
      ? isObject(delivered) && typeof delivered.FunctionName === 'string'
        ? delivered.FunctionName
        : undefined
      : spec.handlerKey;
    const event = invokeIntegration ? (isObject(delivered) ? (delivered.Payload ?? null) : null) : delivered;
    if (spec.kind === 'lambda') {
      history.record(execution, {
        type: 'LambdaFunctionScheduled',
        stateName: spec.stateName,
        resource: spec.resource,
        input: event,
        ...(invocation.timeoutSeconds === undefined ? {} : { timeoutInSeconds: invocation.timeoutSeconds }),
      });
      history.record(execution, { type: 'LambdaFunctionStarted', stateName: spec.stateName });
    } else {
      history.record(execution, {
        type: 'TaskScheduled',
        stateName: spec.stateName,
        ...integration,
        region: execution.machine.region,
        parameters: delivered,
        ...(invocation.timeoutSeconds === undefined ? {} : { timeoutInSeconds: invocation.timeoutSeconds }),
        ...(invocation.heartbeatSeconds === undefined
          ? {}
          : { heartbeatInSeconds: invocation.heartbeatSeconds }),
        ...(invocation.token === undefined ? {} : { taskToken: invocation.token }),
      });
      history.record(execution, { type: 'TaskStarted', stateName: spec.stateName, ...integration });
    }
    const handler = functionKey === undefined ? undefined : this.parts.handlerFor(functionKey);
    if (handler === undefined || functionKey === undefined) {
      this.fail(
        invocation,
        new StatesRuntimeError(
          'Lambda.ResourceNotFoundException',
          `Function not found: ${functionKey ?? '(no FunctionName)'} (no local handler is bound to it in the sandbox runner)`,
          { retryable: true, catchable: true },
        ),
      );
      return;
    }
    let result: Json;
    try {
      result = (await invokeHandler(
        handler,
        event,
        lambdaContext({
          invoked: functionKey,
          timeoutSeconds: this.parts.lambdaTimeoutSeconds,
          now: Date.now,
        }),
      )) as Json;
    } catch (error) {
      this.fail(invocation, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (invocation.settled) {
      return;
    }
    const output = invokeIntegration ? lambdaInvokeOutput(result) : result;
    if (invocation.token !== undefined) {
      invocation.submitted = true;
      history.record(execution, {
        type: 'TaskSubmitted',
        stateName: spec.stateName,
        ...integration,
        output,
        taskToken: invocation.token,
      });
      return;
    }
    if (Buffer.byteLength(JSON.stringify(output)) > MAX_PAYLOAD_BYTES) {
      this.fail(
        invocation,
        new StatesRuntimeError(
          'States.DataLimitExceeded',
          `The output of ${spec.stateName} exceeds the 256 KiB Step Functions payload limit`,
          { retryable: false, catchable: true },
        ),
      );
      return;
    }
    this.succeed(invocation, output);
  }

  private timeOut(invocation: TaskInvocation, error: 'States.Timeout' | 'States.HeartbeatTimeout'): void {
    if (!this.settle(invocation)) {
      return;
    }
    const { spec } = invocation;
    const cause =
      error === 'States.Timeout'
        ? `The task did not complete within ${invocation.timeoutSeconds} s`
        : `No heartbeat within ${invocation.heartbeatSeconds} s`;
    this.parts.history.record(invocation.execution, {
      type: spec.kind === 'lambda' ? 'LambdaFunctionTimedOut' : 'TaskTimedOut',
      stateName: spec.stateName,
      ...(spec.kind === 'lambda' ? {} : integrationOf(spec.resource)),
      error,
      cause,
    });
    if (error === 'States.HeartbeatTimeout') {
      invocation.reject(new StatesRuntimeError(error, cause, { retryable: true, catchable: true }));
    }
    // States.Timeout: the library's own timer, armed just after ours with the same delay, rejects the task
    // with its StatesTimeoutError, which `States.TaskFailed` does not match (as in AWS). Rejecting here too
    // would race it with an error that `States.TaskFailed` does match.
  }

  /** Marks the invocation settled (token dead, timers cleared); false when it already was. */
  private settle(invocation: TaskInvocation): boolean {
    if (invocation.settled) {
      return false;
    }
    invocation.settled = true;
    for (const timer of invocation.timers) {
      clearTimeout(timer);
    }
    invocation.timers.clear();
    invocation.execution.invocations.delete(invocation);
    return true;
  }

  private arm(invocation: TaskInvocation, ms: number, fire: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      invocation.timers.delete(timer);
      fire();
    }, ms);
    invocation.timers.add(timer);
    return timer;
  }
}

/** A Task's timeout or heartbeat in seconds: fixed, or read from the state input by its `…Path`. */
function seconds(
  execution: ExecutionRecord,
  stateInput: Json,
  fixed: number | undefined,
  path: string | undefined,
): number | undefined {
  if (fixed !== undefined || path === undefined) {
    return fixed;
  }
  const context: Json = {
    Execution: {
      Id: execution.arn,
      Name: execution.name,
      Input: execution.input,
      StartTime: new Date(execution.startDate).toISOString(),
      RoleArn: execution.machine.roleArn,
    },
    StateMachine: { Id: execution.machine.arn, Name: execution.machine.name },
  };
  const value = resolveReferencePath(path, stateInput, context);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw statesRuntime(`The path '${path}' must select a positive integer, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** The result of `arn:aws:states:::lambda:invoke`, as the optimized integration returns it. */
function lambdaInvokeOutput(payload: Json): Json {
  const requestId = randomUUID();
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

function replacePlaceholder(value: Json, token: string): Json {
  if (typeof value === 'string') {
    return value.replaceAll(TASK_TOKEN_PLACEHOLDER, token);
  }
  if (Array.isArray(value)) {
    return value.map((item) => replacePlaceholder(item, token));
  }
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replacePlaceholder(v, token)]));
  }
  return value;
}
