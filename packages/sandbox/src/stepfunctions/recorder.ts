/**
 * Writing an execution's history: numbering and timestamping each event, telling the listeners, and mapping
 * aws-local-stepfunctions' own events (state entered/exited, Map iterations) to AWS history events. The
 * execution-level and task events are the runner's; which events exist and their wire form are history.ts.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { ExecutionEvent, ExecutionEventInit } from './history.ts';

export type RunnerEvent = ExecutionEvent & { readonly executionArn: string };

export type LibraryEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** What the recorder needs of an execution: whether it still runs, and where its events go. */
export interface RecordedExecution {
  readonly arn: string;
  readonly status: string;
  readonly events: ExecutionEvent[];
}

export class HistoryRecorder {
  private readonly listeners = new Set<(event: RunnerEvent) => void>();
  private readonly clock: { now(): number };

  constructor(clock: { now(): number }) {
    this.clock = clock;
  }

  /** Every history event as it is recorded; returns a function that removes the listener. */
  onEvent(listener: (event: RunnerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Records an event of a running execution; once it has ended, late events are dropped. */
  record(execution: RecordedExecution, init: ExecutionEventInit): void {
    if (execution.status !== 'RUNNING') {
      return;
    }
    this.recordEnd(execution, init);
  }

  /** Records whatever the status: the execution's own terminal event comes after its status has changed. */
  recordEnd(execution: RecordedExecution, init: ExecutionEventInit): void {
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

  /** Maps aws-local-stepfunctions' events to AWS history events (execution-level ones are the runner's). */
  recordLibraryEvent(execution: RecordedExecution, event: LibraryEvent): void {
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
}

function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : JSON.stringify(cause);
}
