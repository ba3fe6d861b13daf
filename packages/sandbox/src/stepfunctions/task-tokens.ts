/**
 * Task tokens of `.waitForTaskToken` tasks: minting them, finding the task a `SendTask*` call names, and
 * handing waiting tokens to whoever plays the approver (a test, the demo).
 *
 * A token is 48 random bytes, base64url: unique per task attempt and unguessable. It stays known after its
 * task settles (answered, timed out, or its execution ended), so a late answer gets `TaskTimedOut`, as AWS
 * answers, rather than `TaskDoesNotExist`.
 */
import { randomBytes } from 'node:crypto';
import { isObject, type Json } from './definition.ts';
import { StatesApiError } from './errors.ts';
import type { HistoryRecorder } from './recorder.ts';
import type { TaskInvocation } from './tasks.ts';

const TASK_TOKEN = /^[A-Za-z0-9_-]{64}$/;
const TERMINAL_EVENTS = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'ExecutionAborted',
]);

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

export function newTaskToken(): string {
  return randomBytes(48).toString('base64url');
}

export class TaskTokens {
  private readonly byToken = new Map<string, TaskInvocation>();
  /** Tokens `next` has handed out. */
  private readonly handedOut = new Set<string>();
  private readonly history: Pick<HistoryRecorder, 'onEvent'>;

  constructor(history: Pick<HistoryRecorder, 'onEvent'>) {
    this.history = history;
  }

  /** Makes the token answerable: `SendTask*` with it reaches this invocation. */
  add(token: string, invocation: TaskInvocation): void {
    this.byToken.set(token, invocation);
  }

  /** The live task a `SendTask*` call names, or the error AWS answers. */
  claim(token: string): TaskInvocation {
    if (!TASK_TOKEN.test(token)) {
      throw new StatesApiError('InvalidToken', "Invalid Token: 'Invalid token'");
    }
    const invocation = this.byToken.get(token);
    if (invocation === undefined) {
      throw new StatesApiError('TaskDoesNotExist', "Task Does Not Exist: 'Provided task does not exist'");
    }
    if (invocation.settled) {
      // What AWS answers for a token already answered, timed out, or whose execution has ended.
      throw new StatesApiError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return invocation;
  }

  /** Tasks whose token is still live, in the order they started. */
  waiting(executionArn?: string): WaitingTask[] {
    const waiting: WaitingTask[] = [];
    for (const invocation of this.byToken.values()) {
      if (!invocation.settled && (executionArn === undefined || invocation.execution.arn === executionArn)) {
        waiting.push(waitingTask(invocation));
      }
    }
    return waiting;
  }

  /**
   * The next token a handler has been invoked with and returned from (`TaskSubmitted`), matching the
   * filter and not handed out by an earlier call; rejects when the filtered execution ends first.
   */
  next(filter: { executionArn?: string; stateName?: string } = {}): Promise<WaitingTask> {
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
    const ready = [...this.byToken.values()].find(matches);
    if (ready !== undefined) {
      return Promise.resolve(take(ready));
    }
    return new Promise((resolve, reject) => {
      const off = this.history.onEvent((event) => {
        const invocation = event.taskToken === undefined ? undefined : this.byToken.get(event.taskToken);
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
