/**
 * The local runner: executes the very ASL that CDK deploys with aws-local-stepfunctions, binding every Task
 * to a local Lambda-like handler, and implements what the library leaves out: task tokens, executions and
 * their history, stopping, and time compressed by a speed factor.
 *
 * How a Task reaches its handler. aws-local-stepfunctions calls `overrides.taskResourceLocalHandlers[stateName]`
 * with the Task's effective input (after `InputPath` and `Parameters`); the runner builds one such function per
 * Task state (nested Map `ItemProcessor`/`Iterator` and Parallel branches included, state names being unique
 * across a state machine) and finds the handler by the Task's Resource after substitution:
 * - a Lambda function ARN: the handler bound to that ARN; the result is the function's return value;
 * - `arn:aws:states:::lambda:invoke`: the handler bound to `Parameters.FunctionName` (static or `.$`), called
 *   with `Parameters.Payload`; the result is `{ ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
 *   StatusCode: 200 }` like the optimized integration;
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken`: as above, then the task waits for its token;
 * - any other Resource: the handler bound to that ARN (without `.waitForTaskToken`).
 * A handler is found by exact key, else by function name (so `...:function:plan` and `plan` both match).
 *
 * Task tokens. The library resolves `$$.Task.Token` from the context object passed to `run`, which is the
 * same for every task, so the runner passes a fixed placeholder (`TASK_TOKEN_PLACEHOLDER`) and each
 * invocation replaces it, in every string of its input, with a fresh token (48 random bytes, base64url):
 * unique per task attempt, unguessable, dead once answered, timed out, or its execution has ended.
 * `SendTaskSuccess` resolves the task's promise with the output; `SendTaskFailure` rejects it with an error
 * whose `name` is the error code, so `Catch`/`Retry` on `ApprovalRejected` match.
 *
 * Time. Wait `Seconds`, retry intervals (`IntervalSeconds`, `MaxDelaySeconds`), task and execution timeouts
 * are divided by `speed`. The library's task timer is used for `States.Timeout` (so `States.TaskFailed` does
 * not catch it, as in AWS); the runner sets each invocation's timeout on the runtime Task state right before
 * the library reads it (it reads `TimeoutSeconds` synchronously after the local handler returns its promise),
 * resolving `TimeoutSecondsPath` against the state input, and arms its own timer with the same delay to kill
 * the token and record `TaskTimedOut`. `SecondsPath`/`Timestamp`/`TimestampPath` waits cannot be scaled
 * (the library reads them after the last hook the runner has); pin them with `waitTimeOverrides`.
 *
 * History order. Library events arrive through an async generator (microtasks); the runner invokes each
 * handler one macrotask later (`setImmediate`), after the `TaskStateEntered` that precedes it was recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { DEFAULT_ACCOUNT_ID } from '../credentials.ts';
import {
  applySubstitutions,
  collectTasks,
  DefinitionError,
  EFFECTIVE_INPUT_KEY,
  integrationOf,
  isObject,
  type Json,
  type JsonObject,
  MAX_TIMER_MS,
  parseDefinition,
  prepareRuntimeDefinition,
  resolveReferencePath,
  STATE_INPUT_KEY,
  type TaskSpec,
  validateDefinition,
} from './definition.ts';
import { StatesApiError, StatesRuntimeError, statesRuntime, taskCancelled } from './errors.ts';
import type { CallerIdentity, ExecutionEvent, ExecutionEventInit } from './history.ts';
import { functionNameOf, invokeHandler, type LocalHandler, lambdaContext } from './lambda.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What `$$.Task.Token` resolves to inside aws-local-stepfunctions; replaced by a real token per task. */
export const TASK_TOKEN_PLACEHOLDER = 'sandbox-task-token-placeholder';
const TASK_TOKEN = /^[A-Za-z0-9_-]{64}$/;
/** Step Functions' limit on state input/output and execution input: 256 KiB. */
const MAX_PAYLOAD_BYTES = 262_144;
/** How long the end of an execution waits for the library's last events before recording the end. */
const DRAIN_MS = 250;
const TERMINAL_EVENTS = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'ExecutionAborted',
]);
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

export interface RunnerOptions {
  /** Local handlers by function ARN, function name, or Resource ARN (see the module comment). */
  readonly handlers?: Readonly<Record<string, LocalHandler>>;
  /** Time compression: 60 makes a 60 s Wait last 1 s. Default 1. */
  readonly speed?: number;
  /** Timestamps (history, start/stop dates); the sandbox clock when built by `stepFunctions()`. */
  readonly clock?: { now(): number };
  /** Where `registerStateMachine` puts a state machine by default. */
  readonly region?: string;
  readonly accountId?: string;
  /** Real milliseconds per Wait state name, for waits the speed factor cannot scale. */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** What `context.getRemainingTimeInMillis()` counts down from (not enforced). Default 900. */
  readonly lambdaTimeoutSeconds?: number;
}

export interface StateMachineRegistration {
  readonly name: string;
  /** ASL (JSONPath), as a JSON string or an object. */
  readonly definition: string | object;
  /** `${Name}` → value, like CDK `DefinitionSubstitutions`. */
  readonly substitutions?: Readonly<Record<string, string>>;
  readonly accountId?: string;
  readonly region?: string;
  readonly roleArn?: string;
  readonly type?: 'STANDARD' | 'EXPRESS';
}

export interface RegisteredStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  /** Sandbox-clock epoch ms. */
  readonly creationDate: number;
  /** The definition after substitutions, as JSON text. */
  readonly definition: string;
  readonly tasks: readonly TaskSpec[];
}

export interface ExecutionView {
  readonly arn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly status: ExecutionStatus;
  readonly input: Json;
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  /** Sandbox-clock epoch ms. */
  readonly startDate: number;
  readonly stopDate?: number;
  readonly history: readonly ExecutionEvent[];
}

/** A `.waitForTaskToken` task whose token has not been answered. */
export interface WaitingTask {
  readonly token: string;
  readonly executionArn: string;
  readonly stateName: string;
  /** The event the handler was (or is being) invoked with, token included. */
  readonly input: Json;
  /** True once the handler returned (history has `TaskSubmitted`). */
  readonly submitted: boolean;
}

export type RunnerEvent = ExecutionEvent & { readonly executionArn: string };

interface MachineRecord extends RegisteredStateMachine {
  readonly machine: StateMachine;
  readonly specs: ReadonlyMap<string, TaskSpec>;
  readonly taskStates: ReadonlyMap<string, JsonObject>;
}

interface ExecutionRecord {
  readonly arn: string;
  readonly name: string;
  readonly machine: MachineRecord;
  readonly input: Json;
  readonly inputText: string;
  readonly startDate: number;
  status: ExecutionStatus;
  output?: Json;
  error?: string;
  cause?: string;
  stopDate?: number;
  readonly events: ExecutionEvent[];
  readonly invocations: Set<TaskInvocation>;
  abort: () => void;
  readonly settled: Promise<void>;
  readonly markSettled: () => void;
}

interface TaskInvocation {
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

type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type TaskHandlers = Record<string, (input: Json) => Promise<Json>>;

export class LocalRunner {
  readonly speed: number;
  private readonly handlers = new Map<string, LocalHandler>();
  private readonly handlersByName = new Map<string, LocalHandler>();
  private readonly machines = new Map<string, MachineRecord>();
  private readonly executionsByArn = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, TaskInvocation>();
  private readonly listeners = new Set<(event: RunnerEvent) => void>();
  /** Tokens `nextTaskToken` has handed out. */
  private readonly handedOut = new Set<string>();
  private readonly heartbeatTimers = new WeakMap<TaskInvocation, NodeJS.Timeout>();
  private readonly clock: { now(): number };
  private readonly region: string;
  private readonly accountId: string;
  private readonly waitTimeOverrides: Record<string, number>;
  private readonly lambdaTimeoutSeconds: number;

  constructor(options: RunnerOptions = {}) {
    const speed = options.speed ?? 1;
    if (!Number.isFinite(speed) || speed <= 0) {
      throw new RangeError(`speed must be a finite number > 0, got ${speed}`);
    }
    this.speed = speed;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    this.waitTimeOverrides = { ...options.waitTimeOverrides };
    this.lambdaTimeoutSeconds = options.lambdaTimeoutSeconds ?? 900;
    for (const [key, handler] of Object.entries(options.handlers ?? {})) {
      this.bindHandler(key, handler);
    }
  }

  // ---- handlers and state machines ----

  /** Binds a local handler to a function ARN, a function name, or a Resource ARN. */
  bindHandler(key: string, handler: LocalHandler): void {
    this.handlers.set(key, handler);
    this.handlersByName.set(functionNameOf(key), handler);
  }

  registerStateMachine(registration: StateMachineRegistration): RegisteredStateMachine {
    const accountId = registration.accountId ?? this.accountId;
    const region = registration.region ?? this.region;
    if (!NAME.test(registration.name)) {
      throw new StatesApiError('InvalidName', `Invalid Name: '${registration.name}'`);
    }
    let definition: JsonObject;
    try {
      definition = applySubstitutions(
        parseDefinition(registration.definition),
        registration.substitutions ?? {},
      );
      validateDefinition(definition);
    } catch (error) {
      if (error instanceof DefinitionError) {
        throw new StatesApiError('InvalidDefinition', `Invalid State Machine Definition: '${error.message}'`);
      }
      throw error;
    }
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${registration.name}`;
    const text = JSON.stringify(definition);
    const roleArn =
      registration.roleArn ?? `arn:aws:iam::${accountId}:role/${registration.name}-sandbox-role`;
    const existing = this.machines.get(arn);
    if (existing !== undefined) {
      if (existing.definition === text && existing.roleArn === roleArn) {
        return publicMachine(existing);
      }
      throw new StatesApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const runtime = prepareRuntimeDefinition(definition, this.speed);
    const tasks = collectTasks(definition);
    const record: MachineRecord = {
      arn,
      name: registration.name,
      accountId,
      region,
      roleArn,
      type: registration.type ?? 'STANDARD',
      creationDate: this.clock.now(),
      definition: text,
      tasks,
      // Validated above, before the rewrite (whose fractional seconds the schema would refuse).
      machine: new StateMachine(runtime.definition as unknown as StateMachineDefinition, {
        validationOptions: { noValidate: true },
      }),
      specs: new Map(tasks.map((task) => [task.stateName, task])),
      taskStates: runtime.taskStates,
    };
    this.machines.set(arn, record);
    return publicMachine(record);
  }

  stateMachine(arn: string): RegisteredStateMachine | undefined {
    const record = this.machines.get(arn);
    return record === undefined ? undefined : publicMachine(record);
  }

  stateMachines(): RegisteredStateMachine[] {
    return [...this.machines.values()].map(publicMachine);
  }

  /** Task resources of a state machine that no bound handler answers (dynamic `FunctionName.$` aside). */
  unboundTasks(stateMachineArn: string): TaskSpec[] {
    return this.machineRecord(stateMachineArn).tasks.filter(
      (task) => task.handlerKey !== undefined && this.handlerFor(task.handlerKey) === undefined,
    );
  }

  // ---- executions ----

  startExecution(stateMachineArn: string, request: { name?: string; input?: Json } = {}): ExecutionView {
    const machine = this.machineRecord(stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!NAME.test(name)) {
      throw new StatesApiError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = request.input ?? {};
    const inputText = JSON.stringify(input);
    if (Buffer.byteLength(inputText) > MAX_PAYLOAD_BYTES) {
      throw new StatesApiError('InvalidExecutionInput', 'The execution input exceeds the 256 KiB limit');
    }
    const arn = `arn:aws:states:${machine.region}:${machine.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executionsByArn.get(arn);
    if (existing !== undefined) {
      // StartExecution is idempotent for a running execution with the same name and input.
      if (existing.status === 'RUNNING' && existing.inputText === inputText) {
        return view(existing);
      }
      throw new StatesApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    let markSettled = () => {};
    const settled = new Promise<void>((resolve) => {
      markSettled = resolve;
    });
    const execution: ExecutionRecord = {
      arn,
      name,
      machine,
      input,
      inputText,
      startDate: this.clock.now(),
      status: 'RUNNING',
      events: [],
      invocations: new Set(),
      abort: () => {},
      settled,
      markSettled,
    };
    this.executionsByArn.set(arn, execution);
    this.record(execution, { type: 'ExecutionStarted', input, roleArn: machine.roleArn });

    const taskResourceLocalHandlers: TaskHandlers = {};
    for (const [stateName, spec] of machine.specs) {
      const runtimeState = machine.taskStates.get(stateName);
      if (runtimeState !== undefined) {
        taskResourceLocalHandlers[stateName] = this.localHandler(execution, spec, runtimeState);
      }
    }
    const run = machine.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as never,
        waitTimeOverrides: this.waitTimeOverrides,
      },
      context: {
        Execution: { Id: arn, Name: name, RoleArn: machine.roleArn },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    execution.abort = run.abort;
    const drained = this.consume(execution, run.eventLogs);
    void this.finish(execution, run.result as Promise<Json>, drained);
    return view(execution);
  }

  execution(arn: string): ExecutionView | undefined {
    const record = this.executionsByArn.get(arn);
    return record === undefined ? undefined : view(record);
  }

  /** Executions of a state machine, newest first (the order ListExecutions uses). */
  executionsOf(stateMachineArn: string): ExecutionView[] {
    return [...this.executionsByArn.values()]
      .filter((e) => e.machine.arn === stateMachineArn)
      .reverse()
      .map(view);
  }

  /** Resolves when the execution has ended (any status but RUNNING), history complete. */
  async waitForExecution(arn: string, options: { timeoutMs?: number } = {}): Promise<ExecutionView> {
    const execution = this.executionRecord(arn);
    if (options.timeoutMs === undefined) {
      await execution.settled;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${arn} still ${execution.status} after ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      });
      try {
        await Promise.race([execution.settled, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return view(execution);
  }

  stopExecution(arn: string, reason: { error?: string; cause?: string } = {}): ExecutionView {
    const execution = this.executionRecord(arn);
    if (execution.status === 'RUNNING') {
      this.end(execution, { status: 'ABORTED', ...reason });
      execution.abort();
    }
    return view(execution);
  }

  /** Stops every running execution (test teardown): no timer of the runner stays armed. */
  dispose(): void {
    for (const execution of this.executionsByArn.values()) {
      if (execution.status === 'RUNNING') {
        this.stopExecution(execution.arn, { error: 'Sandbox.Disposed', cause: 'the runner was disposed' });
      }
    }
  }

  // ---- observing ----

  /** Every history event as it is recorded; returns a function that removes the listener. */
  onEvent(listener: (event: RunnerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** `.waitForTaskToken` tasks whose token is still live, in the order they started. */
  waitingTasks(executionArn?: string): WaitingTask[] {
    const waiting: WaitingTask[] = [];
    for (const invocation of this.tokens.values()) {
      if (!invocation.settled && (executionArn === undefined || invocation.execution.arn === executionArn)) {
        waiting.push(waitingTask(invocation));
      }
    }
    return waiting;
  }

  /**
   * The next token a handler has been invoked with and returned from (`TaskSubmitted`), matching the
   * filter and not handed out by an earlier call: a test or the demo plays the approver with it.
   */
  nextTaskToken(filter: { executionArn?: string; stateName?: string } = {}): Promise<WaitingTask> {
    const matches = (invocation: TaskInvocation) =>
      !invocation.settled &&
      invocation.submitted &&
      invocation.token !== undefined &&
      !this.handedOut.has(invocation.token) &&
      (filter.executionArn === undefined || invocation.execution.arn === filter.executionArn) &&
      (filter.stateName === undefined || invocation.spec.stateName === filter.stateName);
    const take = (invocation: TaskInvocation): WaitingTask => {
      this.handedOut.add(invocation.token as string);
      return waitingTask(invocation);
    };
    const ready = [...this.tokens.values()].find(matches);
    if (ready !== undefined) {
      return Promise.resolve(take(ready));
    }
    return new Promise((resolve, reject) => {
      const off = this.onEvent((event) => {
        const invocation = event.taskToken === undefined ? undefined : this.tokens.get(event.taskToken);
        if (event.type === 'TaskSubmitted' && invocation !== undefined && matches(invocation)) {
          off();
          resolve(take(invocation));
        } else if (event.executionArn === filter.executionArn && TERMINAL_EVENTS.has(event.type)) {
          off();
          reject(
            new Error(`${event.executionArn} ended (${event.type}) without a task waiting for its token`),
          );
        }
      });
    });
  }

  // ---- task tokens (the API side) ----

  sendTaskSuccess(token: string, output: Json, caller?: CallerIdentity): void {
    const invocation = this.claim(token);
    this.succeed(invocation, output, caller);
  }

  sendTaskFailure(
    token: string,
    failure: { error?: string; cause?: string } = {},
    caller?: CallerIdentity,
  ): void {
    const invocation = this.claim(token);
    // AWS leaves `error` empty when the caller gives none; `States.TaskFailed` keeps Catch matching sane.
    const error = new Error(failure.cause ?? '');
    error.name = failure.error ?? 'States.TaskFailed';
    this.fail(invocation, error, caller);
  }

  sendTaskHeartbeat(token: string): void {
    const invocation = this.claim(token);
    this.armHeartbeat(invocation);
  }

  private claim(token: string): TaskInvocation {
    if (!TASK_TOKEN.test(token)) {
      throw new StatesApiError('InvalidToken', "Invalid Token: 'Invalid token'");
    }
    const invocation = this.tokens.get(token);
    if (invocation === undefined) {
      throw new StatesApiError('TaskDoesNotExist', "Task Does Not Exist: 'Provided task does not exist'");
    }
    if (invocation.settled) {
      // What AWS answers for a token already answered, timed out, or whose execution has ended.
      throw new StatesApiError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return invocation;
  }

  // ---- running tasks ----

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
        timeoutSeconds = this.seconds(execution, stateInput, spec.timeoutSeconds, spec.timeoutSecondsPath);
        heartbeatSeconds = this.seconds(
          execution,
          stateInput,
          spec.heartbeatSeconds,
          spec.heartbeatSecondsPath,
        );
      } catch (error) {
        return Promise.reject(error);
      }
      const scaledSeconds =
        timeoutSeconds === undefined
          ? MAX_TIMER_MS / 1000
          : Math.min(MAX_TIMER_MS / 1000, timeoutSeconds / this.speed);
      runtimeState.TimeoutSeconds = scaledSeconds;
      // The library arms `setTimeout(…, TimeoutSeconds * 1e3)` right after this returns; the runner's deadline
      // uses the very same float, so both timers share Node's list for that delay and ours fires first.
      const deadlineMs = scaledSeconds * 1e3;

      const token = spec.waitForTaskToken ? randomBytes(48).toString('base64url') : undefined;
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
        this.tokens.set(token, invocation);
        this.armHeartbeat(invocation);
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

  private seconds(
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
      throw statesRuntime(
        `The path '${path}' must select a positive integer, found ${JSON.stringify(value)}`,
      );
    }
    return value;
  }

  private async invoke(invocation: TaskInvocation): Promise<void> {
    if (invocation.settled) {
      return;
    }
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
      this.record(execution, {
        type: 'LambdaFunctionScheduled',
        stateName: spec.stateName,
        resource: spec.resource,
        input: event,
        ...(invocation.timeoutSeconds === undefined ? {} : { timeoutInSeconds: invocation.timeoutSeconds }),
      });
      this.record(execution, { type: 'LambdaFunctionStarted', stateName: spec.stateName });
    } else {
      this.record(execution, {
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
      this.record(execution, { type: 'TaskStarted', stateName: spec.stateName, ...integration });
    }
    const handler = functionKey === undefined ? undefined : this.handlerFor(functionKey);
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
        lambdaContext({ invoked: functionKey, timeoutSeconds: this.lambdaTimeoutSeconds, now: Date.now }),
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
      this.record(execution, {
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

  private succeed(invocation: TaskInvocation, output: Json, answeredBy?: CallerIdentity): void {
    if (!this.settle(invocation)) {
      return;
    }
    const { spec } = invocation;
    this.record(invocation.execution, {
      type: spec.kind === 'lambda' ? 'LambdaFunctionSucceeded' : 'TaskSucceeded',
      stateName: spec.stateName,
      ...(spec.kind === 'lambda' ? {} : integrationOf(spec.resource)),
      output,
      ...(answeredBy === undefined ? {} : { answeredBy }),
    });
    invocation.resolve(output);
  }

  private fail(invocation: TaskInvocation, error: Error, answeredBy?: CallerIdentity): void {
    if (!this.settle(invocation)) {
      return;
    }
    const { spec } = invocation;
    this.record(invocation.execution, {
      type: spec.kind === 'lambda' ? 'LambdaFunctionFailed' : 'TaskFailed',
      stateName: spec.stateName,
      ...(spec.kind === 'lambda' ? {} : integrationOf(spec.resource)),
      error: error.name,
      cause: error.message,
      ...(answeredBy === undefined ? {} : { answeredBy }),
    });
    invocation.reject(error);
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
    this.record(invocation.execution, {
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

  private armHeartbeat(invocation: TaskInvocation): void {
    if (invocation.heartbeatSeconds === undefined) {
      return;
    }
    const previous = this.heartbeatTimers.get(invocation);
    if (previous !== undefined) {
      clearTimeout(previous);
      invocation.timers.delete(previous);
    }
    const ms = Math.min(MAX_TIMER_MS, (invocation.heartbeatSeconds * 1000) / this.speed);
    this.heartbeatTimers.set(
      invocation,
      this.arm(invocation, ms, () => this.timeOut(invocation, 'States.HeartbeatTimeout')),
    );
  }

  private handlerFor(key: string): LocalHandler | undefined {
    return this.handlers.get(key) ?? this.handlersByName.get(functionNameOf(key));
  }

  // ---- execution lifecycle and history ----

  private async consume(execution: ExecutionRecord, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const event of events) {
      if (execution.status === 'RUNNING') {
        this.recordLibraryEvent(execution, event);
      }
    }
  }

  /** Maps aws-local-stepfunctions' events to AWS history events (execution-level ones are the runner's). */
  private recordLibraryEvent(execution: ExecutionRecord, event: LibraryEvent): void {
    const mapIndex = 'index' in event && typeof event.index === 'number' ? { mapIndex: event.index } : {};
    switch (event.type) {
      case 'StateEntered':
        this.record(execution, {
          type: `${event.state.type}StateEntered`,
          stateName: event.state.name,
          input: event.state.input,
          ...mapIndex,
        });
        break;
      case 'StateExited':
        if (event.state.type !== 'Fail') {
          this.record(execution, {
            type: `${event.state.type}StateExited`,
            stateName: event.state.name,
            output: event.state.output ?? null,
            ...mapIndex,
          });
        }
        break;
      case 'StateFailed':
        if (event.state.type === 'Map' || event.state.type === 'Parallel') {
          this.record(execution, {
            type: `${event.state.type}StateFailed`,
            stateName: event.state.name,
            error: event.Error,
            cause: causeText(event.Cause),
            ...mapIndex,
          });
        }
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.record(execution, {
          type: event.type,
          stateName: event.parentState.name,
          mapIndex: event.index,
          ...('Error' in event ? { error: event.Error, cause: causeText(event.Cause) } : {}),
        });
        break;
      default:
        break;
    }
  }

  private async finish(
    execution: ExecutionRecord,
    result: Promise<Json>,
    drained: Promise<void>,
  ): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { status: 'SUCCEEDED', output: await result };
    } catch (error) {
      outcome = outcomeOf(error);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))]);
    clearTimeout(timer);
    if (execution.status === 'RUNNING') {
      this.end(execution, outcome);
    }
  }

  private end(execution: ExecutionRecord, outcome: Outcome): void {
    execution.status = outcome.status;
    execution.stopDate = this.clock.now();
    for (const invocation of [...execution.invocations]) {
      if (this.settle(invocation)) {
        invocation.reject(taskCancelled(`${execution.arn} is ${outcome.status}`));
      }
    }
    const details = {
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    };
    Object.assign(execution, details);
    switch (outcome.status) {
      case 'SUCCEEDED':
        execution.output = outcome.output ?? null;
        this.forceRecord(execution, { type: 'ExecutionSucceeded', output: execution.output });
        break;
      case 'FAILED':
        this.forceRecord(execution, { type: 'ExecutionFailed', ...details });
        break;
      case 'TIMED_OUT':
        this.forceRecord(execution, { type: 'ExecutionTimedOut', ...details });
        break;
      case 'ABORTED':
        this.forceRecord(execution, { type: 'ExecutionAborted', ...details });
        break;
      default:
        break;
    }
    execution.markSettled();
  }

  private record(execution: ExecutionRecord, init: ExecutionEventInit): void {
    if (execution.status !== 'RUNNING') {
      return;
    }
    this.forceRecord(execution, init);
  }

  private forceRecord(execution: ExecutionRecord, init: ExecutionEventInit): void {
    const id = execution.events.length + 1;
    const event: ExecutionEvent = { ...init, id, previousEventId: id - 1, timestamp: this.clock.now() };
    execution.events.push(event);
    for (const listener of this.listeners) {
      try {
        listener({ ...event, executionArn: execution.arn });
      } catch {
        // A listener's failure must not break the execution it observes.
      }
    }
  }

  private machineRecord(arn: string): MachineRecord {
    const machine = this.machines.get(arn);
    if (machine === undefined) {
      throw new StatesApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }

  private executionRecord(arn: string): ExecutionRecord {
    const execution = this.executionsByArn.get(arn);
    if (execution === undefined) {
      throw new StatesApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return execution;
  }
}

interface Outcome {
  readonly status: Exclude<ExecutionStatus, 'RUNNING'>;
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
}

function outcomeOf(error: unknown): Outcome {
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution exceeded its TimeoutSeconds',
    };
  }
  if (error instanceof ExecutionAbortedError) {
    return { status: 'ABORTED' };
  }
  if (error instanceof ExecutionError && error.cause instanceof Error) {
    return { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
  }
  return {
    status: 'FAILED',
    error: 'States.Runtime',
    cause: error instanceof Error ? error.message : String(error),
  };
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

function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : JSON.stringify(cause);
}

function waitingTask(invocation: TaskInvocation): WaitingTask {
  const { delivered } = invocation;
  return {
    token: invocation.token as string,
    executionArn: invocation.execution.arn,
    stateName: invocation.spec.stateName,
    input:
      invocation.spec.kind === 'lambda-invoke' && isObject(delivered)
        ? (delivered.Payload ?? null)
        : delivered,
    submitted: invocation.submitted,
  };
}

function publicMachine(record: MachineRecord): RegisteredStateMachine {
  const { arn, name, accountId, region, roleArn, type, creationDate, definition, tasks } = record;
  return { arn, name, accountId, region, roleArn, type, creationDate, definition, tasks };
}

function view(execution: ExecutionRecord): ExecutionView {
  return {
    arn: execution.arn,
    name: execution.name,
    stateMachineArn: execution.machine.arn,
    status: execution.status,
    input: execution.input,
    ...(execution.output === undefined ? {} : { output: execution.output }),
    ...(execution.error === undefined ? {} : { error: execution.error }),
    ...(execution.cause === undefined ? {} : { cause: execution.cause }),
    startDate: execution.startDate,
    ...(execution.stopDate === undefined ? {} : { stopDate: execution.stopDate }),
    history: [...execution.events],
  };
}
