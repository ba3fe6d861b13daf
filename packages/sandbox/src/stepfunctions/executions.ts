/**
 * Executions: starting one (name and input rules, StartExecution's idempotency), following the library's run
 * of it to its end, stopping it, and the views the API and tests read.
 *
 * The end of an execution is recorded once, whoever gets there first: the library's result (after its last
 * events have drained, at most `DRAIN_MS` later), StopExecution, or `dispose`. Ending cancels the tasks still
 * in flight, so no token or timer outlives its execution.
 */
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type StateMachine,
} from 'aws-local-stepfunctions';
import type { Json } from './definition.ts';
import { StatesApiError } from './errors.ts';
import type { ExecutionEvent } from './history.ts';
import type { HistoryRecorder, LibraryEvent } from './recorder.ts';
import { type MachineRecord, NAME } from './state-machines.ts';
import type { TaskInvocation } from './tasks.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Step Functions' limit on state input/output and execution input: 256 KiB. */
export const MAX_PAYLOAD_BYTES = 262_144;
/** How long the end of an execution waits for the library's last events before recording the end. */
const DRAIN_MS = 250;

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

export interface ExecutionRecord {
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
  /** Tasks in flight: cancelled when the execution ends. */
  readonly invocations: Set<TaskInvocation>;
  abort: () => void;
  readonly settled: Promise<void>;
  readonly markSettled: () => void;
}

/** What aws-local-stepfunctions' `StateMachine.run` hands back. */
export type LibraryRun = ReturnType<StateMachine['run']>;

export interface ExecutionsParts {
  readonly clock: { now(): number };
  readonly history: HistoryRecorder;
  /** Rejects the tasks still in flight with `States.Cancelled` and this message. */
  readonly cancelTasks: (execution: ExecutionRecord, message: string) => void;
}

interface Outcome {
  readonly status: Exclude<ExecutionStatus, 'RUNNING'>;
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
}

export class Executions {
  private readonly byArn = new Map<string, ExecutionRecord>();
  private readonly parts: ExecutionsParts;

  constructor(parts: ExecutionsParts) {
    this.parts = parts;
  }

  /**
   * A new RUNNING execution, its `ExecutionStarted` recorded (`started: true`), or the running one with the
   * same name and input, which StartExecution answers again (`started: false`).
   */
  open(
    machine: MachineRecord,
    request: { name?: string; input?: Json },
  ): { execution: ExecutionRecord; started: boolean } {
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
    const existing = this.byArn.get(arn);
    if (existing !== undefined) {
      // StartExecution is idempotent for a running execution with the same name and input.
      if (existing.status === 'RUNNING' && existing.inputText === inputText) {
        return { execution: existing, started: false };
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
      startDate: this.parts.clock.now(),
      status: 'RUNNING',
      events: [],
      invocations: new Set(),
      abort: () => {},
      settled,
      markSettled,
    };
    this.byArn.set(arn, execution);
    this.parts.history.record(execution, { type: 'ExecutionStarted', input, roleArn: machine.roleArn });
    return { execution, started: true };
  }

  /** Follows the library's run of an execution: its events into the history, its result to the end. */
  follow(execution: ExecutionRecord, run: LibraryRun): void {
    execution.abort = run.abort;
    const drained = this.consume(execution, run.eventLogs);
    void this.finish(execution, run.result as Promise<Json>, drained);
  }

  get(arn: string): ExecutionRecord | undefined {
    return this.byArn.get(arn);
  }

  /** The execution; `ExecutionDoesNotExist` for an ARN it does not hold. */
  require(arn: string): ExecutionRecord {
    const execution = this.byArn.get(arn);
    if (execution === undefined) {
      throw new StatesApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    }
    return execution;
  }

  /** Executions of a state machine, newest first (the order ListExecutions uses). */
  of(stateMachineArn: string): ExecutionView[] {
    return [...this.byArn.values()]
      .filter((e) => e.machine.arn === stateMachineArn)
      .reverse()
      .map(view);
  }

  /** Resolves when the execution has ended (any status but RUNNING), history complete. */
  async wait(arn: string, options: { timeoutMs?: number } = {}): Promise<ExecutionView> {
    const execution = this.require(arn);
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

  stop(arn: string, reason: { error?: string; cause?: string } = {}): ExecutionView {
    const execution = this.require(arn);
    if (execution.status === 'RUNNING') {
      this.end(execution, { status: 'ABORTED', ...reason });
      execution.abort();
    }
    return view(execution);
  }

  /** Stops every running execution (test teardown): no timer of the runner stays armed. */
  dispose(): void {
    for (const execution of this.byArn.values()) {
      if (execution.status === 'RUNNING') {
        this.stop(execution.arn, { error: 'Sandbox.Disposed', cause: 'the runner was disposed' });
      }
    }
  }

  private async consume(execution: ExecutionRecord, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const event of events) {
      if (execution.status === 'RUNNING') {
        this.parts.history.recordLibraryEvent(execution, event);
      }
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
    const { history } = this.parts;
    execution.status = outcome.status;
    execution.stopDate = this.parts.clock.now();
    this.parts.cancelTasks(execution, `${execution.arn} is ${outcome.status}`);
    const details = {
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    };
    Object.assign(execution, details);
    switch (outcome.status) {
      case 'SUCCEEDED':
        execution.output = outcome.output ?? null;
        history.recordEnd(execution, { type: 'ExecutionSucceeded', output: execution.output });
        break;
      case 'FAILED':
        history.recordEnd(execution, { type: 'ExecutionFailed', ...details });
        break;
      case 'TIMED_OUT':
        history.recordEnd(execution, { type: 'ExecutionTimedOut', ...details });
        break;
      case 'ABORTED':
        history.recordEnd(execution, { type: 'ExecutionAborted', ...details });
        break;
      default:
        break;
    }
    execution.markSettled();
  }
}

export function view(execution: ExecutionRecord): ExecutionView {
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
