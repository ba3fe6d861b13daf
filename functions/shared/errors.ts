/**
 * The error taxonomy for code that talks to AWS. Bad input and policy errors come from the domain (never
 * retried, dead-lettered with the reason); AWS call errors are retried with backoff when AWS says they may
 * succeed later, and reported with the service, the action and AWS's error code when they cannot.
 */
import { VecguardError } from '../domain/errors.ts';

export { InvalidInputError, PolicyError, VecguardError } from '../domain/errors.ts';

/** Codes AWS uses for "slow down": the state machine backs off on these (ThrottlingError). */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

/** Codes AWS uses for "slow down / try again"; the SDK retries these, and so may Step Functions. */
const RETRYABLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
]);

export class AwsCallError extends VecguardError {
  readonly service: string;
  readonly action: string;
  readonly code: string;
  readonly retryable: boolean;

  constructor(service: string, action: string, code: string, message: string, options?: ErrorOptions) {
    super(`${service} ${action} failed: ${code}: ${message}`, options);
    this.name = 'AwsCallError';
    this.service = service;
    this.action = action;
    this.code = code;
    this.retryable = RETRYABLE_CODES.has(code);
  }
}

/**
 * A change was made and its outcome could not be written to the audit log (its intent is there). Never
 * retried: nothing more is changed without a record, and the failure report names the change.
 */
export class UnrecordedChangeError extends VecguardError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecordedChangeError';
  }
}

/** Marks the sentence an `UnrecordedChangeError` names its change in, for whoever reads it back from the history. */
export const UNRECORDED_MARK = 'but its outcome could not be recorded in the audit log';

/** Access was refused or credentials are missing: retrying will not help, a person must fix IAM or the login. */
export class AccessError extends AwsCallError {
  constructor(service: string, action: string, code: string, message: string, options?: ErrorOptions) {
    super(service, action, code, message, options);
    this.name = 'AccessError';
  }
}

const ACCESS_CODES = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/** Wrap whatever an SDK call threw into the taxonomy, keeping it as `cause`. */
export function toAwsCallError(error: unknown, service: string, action: string): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const e = error as { name?: string; Code?: string; code?: string; message?: string } | undefined;
  const code = e?.Code ?? e?.name ?? e?.code ?? 'UnknownError';
  const message = e?.message ?? String(error);
  return ACCESS_CODES.has(code)
    ? new AccessError(service, action, code, message, { cause: error })
    : new AwsCallError(service, action, code, message, { cause: error });
}
