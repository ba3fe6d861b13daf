/**
 * The two kinds of error the Step Functions sandbox raises: API errors answered to SDK callers (awsJson
 * `__type`), and runtime errors thrown into a running execution through a Task's local handler.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import { ServiceError } from '../service.ts';

/** An API error: `code` is the awsJson `__type` (`ExecutionDoesNotExist`, `TaskTimedOut`, …). */
export class StatesApiError extends ServiceError {
  override readonly name = 'StatesApiError';
}

/**
 * An error for the state machine to handle. aws-local-stepfunctions reads `isRetryable`/`isCatchable`
 * (`?? true`) before matching `Retry`/`Catch`: `States.Runtime` and a stopped execution's cancelled tasks
 * must be neither retried nor caught, as in AWS.
 */
export class StatesRuntimeError extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;

  constructor(name: string, message: string, handling: { retryable: boolean; catchable: boolean }) {
    super(message);
    this.name = name;
    this.isRetryable = handling.retryable;
    this.isCatchable = handling.catchable;
  }
}

/** `States.Runtime`: the execution fails; `States.ALL` does not catch it. */
export function statesRuntime(message: string): StatesRuntimeError {
  return new StatesRuntimeError('States.Runtime', message, { retryable: false, catchable: false });
}

/** Rejects the task promises of an execution that was stopped or has ended. */
export function taskCancelled(message: string): StatesRuntimeError {
  return new StatesRuntimeError('States.Cancelled', message, { retryable: false, catchable: false });
}
