/**
 * Execution history: what the runner records, and its `GetExecutionHistory` wire form.
 *
 * The runner records AWS's event types (`TaskStateEntered`, `TaskScheduled`, `TaskSubmitted`,
 * `TaskSucceeded`, `MapIterationStarted`, `ExecutionSucceeded`, …) with their details flattened, plus two
 * in-process fields that are not wire fields: `taskToken` (on the wire, AWS shows the token only where the
 * ASL put it, inside `TaskScheduled.parameters`) and `answeredBy`, the identity that called
 * `SendTaskSuccess`/`SendTaskFailure`.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 */

/** Who called an API, as the router authenticated it. */
export interface CallerIdentity {
  readonly accountId: string;
  readonly accessKeyId: string;
}

export interface ExecutionEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** An AWS `HistoryEventType`. */
  readonly type: string;
  /** Sandbox-clock epoch ms. */
  readonly timestamp: number;
  readonly stateName?: string;
  /** The Map iteration the event belongs to, when aws-local-stepfunctions says. */
  readonly mapIndex?: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly resourceType?: string;
  readonly resource?: string;
  readonly region?: string;
  readonly parameters?: unknown;
  readonly timeoutInSeconds?: number;
  readonly heartbeatInSeconds?: number;
  readonly roleArn?: string;
  /** The task token of a `.waitForTaskToken` task (TaskScheduled, TaskSubmitted). */
  readonly taskToken?: string;
  /** Who answered the token (TaskSucceeded/TaskFailed after SendTaskSuccess/SendTaskFailure). */
  readonly answeredBy?: CallerIdentity;
}

export type ExecutionEventInit = Omit<ExecutionEvent, 'id' | 'previousEventId' | 'timestamp'>;

type WireEvent = Record<string, unknown>;

/** One event as `GetExecutionHistory` returns it (timestamps in epoch seconds, data as JSON strings). */
export function toWireEvent(event: ExecutionEvent, includeData: boolean): WireEvent {
  const data = (value: unknown) => (includeData ? JSON.stringify(value ?? null) : undefined);
  const dataDetails = { truncated: false };
  const errorDetails = { error: event.error, cause: event.cause };
  const resource = { resourceType: event.resourceType, resource: event.resource };
  const wire: WireEvent = {
    timestamp: event.timestamp / 1000,
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
  };
  const type = event.type;
  if (type.endsWith('StateEntered')) {
    wire.stateEnteredEventDetails = {
      name: event.stateName,
      input: data(event.input),
      inputDetails: dataDetails,
    };
  } else if (type.endsWith('StateExited')) {
    wire.stateExitedEventDetails = {
      name: event.stateName,
      output: data(event.output),
      outputDetails: dataDetails,
    };
  } else if (type.startsWith('MapIteration')) {
    const key = `mapIteration${type.slice('MapIteration'.length)}EventDetails`;
    wire[key] = { name: event.stateName, index: event.mapIndex };
  } else {
    switch (type) {
      case 'ExecutionStarted':
        wire.executionStartedEventDetails = {
          input: data(event.input),
          inputDetails: dataDetails,
          roleArn: event.roleArn,
        };
        break;
      case 'ExecutionSucceeded':
        wire.executionSucceededEventDetails = { output: data(event.output), outputDetails: dataDetails };
        break;
      case 'ExecutionFailed':
        wire.executionFailedEventDetails = errorDetails;
        break;
      case 'ExecutionAborted':
        wire.executionAbortedEventDetails = errorDetails;
        break;
      case 'ExecutionTimedOut':
        wire.executionTimedOutEventDetails = errorDetails;
        break;
      case 'TaskScheduled':
        wire.taskScheduledEventDetails = {
          ...resource,
          region: event.region,
          parameters: JSON.stringify(event.parameters ?? null),
          timeoutInSeconds: event.timeoutInSeconds,
          heartbeatInSeconds: event.heartbeatInSeconds,
        };
        break;
      case 'TaskStarted':
        wire.taskStartedEventDetails = resource;
        break;
      case 'TaskSubmitted':
        wire.taskSubmittedEventDetails = {
          ...resource,
          output: data(event.output),
          outputDetails: dataDetails,
        };
        break;
      case 'TaskSucceeded':
        wire.taskSucceededEventDetails = {
          ...resource,
          output: data(event.output),
          outputDetails: dataDetails,
        };
        break;
      case 'TaskFailed':
        wire.taskFailedEventDetails = { ...resource, ...errorDetails };
        break;
      case 'TaskTimedOut':
        wire.taskTimedOutEventDetails = { ...resource, ...errorDetails };
        break;
      case 'LambdaFunctionScheduled':
        wire.lambdaFunctionScheduledEventDetails = {
          resource: event.resource,
          input: data(event.input),
          inputDetails: dataDetails,
          timeoutInSeconds: event.timeoutInSeconds,
        };
        break;
      case 'LambdaFunctionSucceeded':
        wire.lambdaFunctionSucceededEventDetails = { output: data(event.output), outputDetails: dataDetails };
        break;
      case 'LambdaFunctionFailed':
        wire.lambdaFunctionFailedEventDetails = errorDetails;
        break;
      case 'LambdaFunctionTimedOut':
        wire.lambdaFunctionTimedOutEventDetails = errorDetails;
        break;
      default:
        break;
    }
  }
  return wire;
}
