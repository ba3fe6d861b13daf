/**
 * Lambda, as far as a local handler can tell: the event is a JSON copy of the Task's effective input, the
 * context has the members the Node.js runtime provides, and a thrown error becomes the Step Functions error
 * named by its `name` (`errorType`), with the runtime's JSON error document as the cause — which is what an
 * ASL `Retry`/`Catch` on `ThrottlingError` matches in AWS.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import { randomUUID } from 'node:crypto';

/** The Node.js Lambda context object (the members `aws-lambda`'s `Context` type requires). */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  getRemainingTimeInMillis(): number;
  /** Deprecated callback-style completion; present because the `Context` type requires it. */
  done(error?: Error, result?: unknown): void;
  fail(error: Error | string): void;
  succeed(messageOrObject: unknown): void;
}

/**
 * A Lambda-like handler. The event parameter is typed `never` so that a handler with any event type
 * (`(event: InventoryInput, context: Context) => Promise<...>`, a middy chain) is assignable.
 */
export type LocalHandler = (event: never, context: LambdaContext) => unknown;

export interface LambdaIdentity {
  /** The ARN or name the Task invoked. */
  readonly invoked: string;
  readonly timeoutSeconds: number;
  /** Sandbox-clock epoch ms, for `getRemainingTimeInMillis`. */
  readonly now: () => number;
}

/** An error raised by a handler, carried into the state machine as AWS does. */
export class LambdaFunctionError extends Error {
  /** The error document Lambda returns: `{ errorType, errorMessage, trace }`. */
  readonly document: { errorType: string; errorMessage: string; trace: string[] };

  constructor(error: unknown) {
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error ? (error.stack ?? '').split('\n') : [];
    const document = { errorType, errorMessage, trace };
    // aws-local-stepfunctions puts `message` in the Catch output's `Cause`, as AWS puts the document there.
    super(JSON.stringify(document), { cause: error });
    this.name = errorType;
    this.document = document;
  }
}

/** `plan` for `arn:aws:lambda:r:a:function:plan[:alias]` and `plan[:alias]`; other ARNs unchanged. */
export function functionNameOf(invoked: string): string {
  if (invoked.startsWith('arn:')) {
    return /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)/.exec(invoked)?.[1] ?? invoked;
  }
  return invoked.split(':')[0] ?? invoked;
}

export function lambdaContext(identity: LambdaIdentity): LambdaContext {
  const functionName = functionNameOf(identity.invoked);
  const deadline = identity.now() + identity.timeoutSeconds * 1000;
  const requestId = randomUUID();
  const unsupported = () => {
    throw new Error('callback-style completion (done/fail/succeed) is not supported by the sandbox runner');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: identity.invoked,
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `sandbox/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - identity.now())),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Invokes a handler with a JSON copy of the event; resolves with a JSON copy of its result. */
export async function invokeHandler(
  handler: LocalHandler,
  event: unknown,
  context: LambdaContext,
): Promise<unknown> {
  let result: unknown;
  try {
    result = await handler(structuredClone(event) as never, context);
  } catch (error) {
    throw new LambdaFunctionError(error);
  }
  // Lambda serializes the result: `undefined` becomes null, class instances become plain JSON.
  return result === undefined ? null : JSON.parse(JSON.stringify(result));
}
