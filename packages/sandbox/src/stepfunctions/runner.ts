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
import { DEFAULT_ACCOUNT_ID } from '../credentials.ts';
import type { Json, TaskSpec } from './definition.ts';
import { Executions, type ExecutionView, type LibraryRun, view } from './executions.ts';
import type { CallerIdentity } from './history.ts';
import { functionNameOf, type LocalHandler } from './lambda.ts';
import { HistoryRecorder, type RunnerEvent } from './recorder.ts';
import {
  type RegisteredStateMachine,
  type StateMachineRegistration,
  StateMachines,
} from './state-machines.ts';
import { TaskTokens, type WaitingTask } from './task-tokens.ts';
import { TASK_TOKEN_PLACEHOLDER, Tasks } from './tasks.ts';

export type { ExecutionStatus, ExecutionView } from './executions.ts';
export type { RunnerEvent } from './recorder.ts';
export type { RegisteredStateMachine, StateMachineRegistration } from './state-machines.ts';
export type { WaitingTask } from './task-tokens.ts';
export { TASK_TOKEN_PLACEHOLDER } from './tasks.ts';

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

/**
 * The runner: state machines, executions, tasks and their tokens, and the history they write, composed.
 * Each part is its own module; this class binds handlers, wires one execution's library run to its tasks,
 * and is the API the emulator and tests call.
 */
export class LocalRunner {
  readonly speed: number;
  private readonly handlers = new Map<string, LocalHandler>();
  private readonly handlersByName = new Map<string, LocalHandler>();
  private readonly waitTimeOverrides: Record<string, number>;
  private readonly history: HistoryRecorder;
  private readonly machines: StateMachines;
  private readonly tokens: TaskTokens;
  private readonly tasks: Tasks;
  private readonly executions: Executions;

  constructor(options: RunnerOptions = {}) {
    const speed = options.speed ?? 1;
    if (!Number.isFinite(speed) || speed <= 0) {
      throw new RangeError(`speed must be a finite number > 0, got ${speed}`);
    }
    this.speed = speed;
    const clock = options.clock ?? { now: () => Date.now() };
    this.waitTimeOverrides = { ...options.waitTimeOverrides };
    this.history = new HistoryRecorder(clock);
    this.machines = new StateMachines({
      clock,
      speed,
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    });
    this.tokens = new TaskTokens(this.history);
    this.tasks = new Tasks({
      speed,
      lambdaTimeoutSeconds: options.lambdaTimeoutSeconds ?? 900,
      history: this.history,
      tokens: this.tokens,
      handlerFor: (key) => this.handlerFor(key),
    });
    this.executions = new Executions({
      clock,
      history: this.history,
      cancelTasks: (execution, message) => this.tasks.cancel(execution, message),
    });
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
    return this.machines.register(registration);
  }

  stateMachine(arn: string): RegisteredStateMachine | undefined {
    return this.machines.get(arn);
  }

  stateMachines(): RegisteredStateMachine[] {
    return this.machines.list();
  }

  /** Task resources of a state machine that no bound handler answers (dynamic `FunctionName.$` aside). */
  unboundTasks(stateMachineArn: string): TaskSpec[] {
    return this.machines
      .record(stateMachineArn)
      .tasks.filter(
        (task) => task.handlerKey !== undefined && this.handlerFor(task.handlerKey) === undefined,
      );
  }

  // ---- executions ----

  startExecution(stateMachineArn: string, request: { name?: string; input?: Json } = {}): ExecutionView {
    const machine = this.machines.record(stateMachineArn);
    const { execution, started } = this.executions.open(machine, request);
    if (!started) {
      return view(execution);
    }
    const run: LibraryRun = machine.machine.run(execution.input as never, {
      overrides: {
        taskResourceLocalHandlers: this.tasks.localHandlers(execution) as never,
        waitTimeOverrides: this.waitTimeOverrides,
      },
      context: {
        Execution: { Id: execution.arn, Name: execution.name, RoleArn: machine.roleArn },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    this.executions.follow(execution, run);
    return view(execution);
  }

  execution(arn: string): ExecutionView | undefined {
    const record = this.executions.get(arn);
    return record === undefined ? undefined : view(record);
  }

  /** Executions of a state machine, newest first (the order ListExecutions uses). */
  executionsOf(stateMachineArn: string): ExecutionView[] {
    return this.executions.of(stateMachineArn);
  }

  /** Resolves when the execution has ended (any status but RUNNING), history complete. */
  waitForExecution(arn: string, options: { timeoutMs?: number } = {}): Promise<ExecutionView> {
    return this.executions.wait(arn, options);
  }

  stopExecution(arn: string, reason: { error?: string; cause?: string } = {}): ExecutionView {
    return this.executions.stop(arn, reason);
  }

  /** Stops every running execution (test teardown): no timer of the runner stays armed. */
  dispose(): void {
    this.executions.dispose();
  }

  // ---- observing ----

  /** Every history event as it is recorded; returns a function that removes the listener. */
  onEvent(listener: (event: RunnerEvent) => void): () => void {
    return this.history.onEvent(listener);
  }

  /** `.waitForTaskToken` tasks whose token is still live, in the order they started. */
  waitingTasks(executionArn?: string): WaitingTask[] {
    return this.tokens.waiting(executionArn);
  }

  /**
   * The next token a handler has been invoked with and returned from (`TaskSubmitted`), matching the
   * filter and not handed out by an earlier call: a test or the demo plays the approver with it.
   */
  nextTaskToken(filter: { executionArn?: string; stateName?: string } = {}): Promise<WaitingTask> {
    return this.tokens.next(filter);
  }

  // ---- task tokens (the API side) ----

  sendTaskSuccess(token: string, output: Json, caller?: CallerIdentity): void {
    this.tasks.succeed(this.tokens.claim(token), output, caller);
  }

  sendTaskFailure(
    token: string,
    failure: { error?: string; cause?: string } = {},
    caller?: CallerIdentity,
  ): void {
    const invocation = this.tokens.claim(token);
    // AWS leaves `error` empty when the caller gives none; `States.TaskFailed` keeps Catch matching sane.
    const error = new Error(failure.cause ?? '');
    error.name = failure.error ?? 'States.TaskFailed';
    this.tasks.fail(invocation, error, caller);
  }

  sendTaskHeartbeat(token: string): void {
    this.tasks.heartbeat(this.tokens.claim(token));
  }

  private handlerFor(key: string): LocalHandler | undefined {
    return this.handlers.get(key) ?? this.handlersByName.get(functionNameOf(key));
  }
}
