/**
 * The awsJson 1.0 / 1.1 protocol (Step Functions, Config, Organizations), server side.
 *
 * Every request is a `POST /` naming its operation in `X-Amz-Target: <prefix><Operation>` with the input as a
 * JSON object; the answer is the output object with `Content-Type: application/x-amz-json-<version>`, or an
 * error whose code is in `x-amzn-errortype` and in the document the service writes (see `jsonErrorResponse`).
 * A service brings its facts and an operation table; `serveAwsJson` does the rest, so the services differ
 * only in what their operations do and how their error documents are worded.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 */
import { randomUUID } from 'node:crypto';
import {
  isReadAction,
  jsonErrorResponse,
  type SandboxRequest,
  type SandboxResponse,
  type ServiceError,
} from './service.ts';

export type JsonObject = Record<string, unknown>;

/** One operation: the parsed input object in, the output object out; a service error is thrown. */
export type AwsJsonOperation = (input: JsonObject, req: SandboxRequest) => object;

/** A service's awsJson facts. */
export interface AwsJsonService<E extends ServiceError> {
  /** `X-Amz-Target` up to the operation, e.g. `AWSStepFunctions.`. */
  readonly targetPrefix: string;
  readonly version: '1.0' | '1.1';
  /** How the service is named in "The sandbox does not implement <title> <Operation>". */
  readonly title: string;
  /**
   * The error class the service answers callers with; the protocol's own errors (unknown operation, a body
   * that is no JSON object) are made with it too. Anything else thrown is a sandbox bug (the router's 500).
   */
  readonly errors: new (
    code: string,
    message: string,
  ) => E;
  /** The error document; `{ __type, message }` unless the service words it otherwise. */
  errorDocument?(error: E): object;
}

/** The operation a request names, or the raw `X-Amz-Target` (for the call log) when it names another service. */
export function awsJsonActionOf(service: AwsJsonService<ServiceError>, req: SandboxRequest): string {
  return targetOperation(req, service.targetPrefix) ?? req.headers['x-amz-target'] ?? '';
}

/**
 * The operation a JSON-protocol request names (`X-Amz-Target: <prefix><Operation>`, e.g.
 * `AWSStepFunctions.StartExecution`); undefined when the header is missing or names another service.
 */
export function targetOperation(req: SandboxRequest, prefix: string): string | undefined {
  const target = req.headers['x-amz-target'];
  return target?.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}

/** The request loop: find the operation, parse its input, run it, render the output or the service's error. */
export async function serveAwsJson<E extends ServiceError>(
  service: AwsJsonService<E>,
  req: SandboxRequest,
  operations: Readonly<Record<string, AwsJsonOperation>>,
): Promise<SandboxResponse> {
  const requestId = randomUUID();
  const action = awsJsonActionOf(service, req);
  const mutating = !isReadAction(action);
  const contentType = `application/x-amz-json-${service.version}`;
  try {
    const named = targetOperation(req, service.targetPrefix);
    if (req.method !== 'POST' || named === undefined) {
      throw new service.errors('UnknownOperationException', 'Missing or unknown X-Amz-Target');
    }
    // `hasOwn`: an operation called `constructor` or `toString` is unknown, not Object.prototype's.
    const operation = Object.hasOwn(operations, named) ? operations[named] : undefined;
    if (operation === undefined) {
      throw new service.errors(
        'UnknownOperationException',
        `The sandbox does not implement ${service.title} ${named}`,
      );
    }
    const output = await operation(parseInput(service, req.body), req);
    return {
      status: 200,
      headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
      body: JSON.stringify(output),
      call: { action, mutating },
    };
  } catch (error) {
    if (!(error instanceof service.errors)) {
      throw error;
    }
    const document = service.errorDocument?.(error) ?? { __type: error.code, message: error.message };
    return {
      ...jsonErrorResponse(error, requestId, contentType, document),
      call: { action, mutating, errorCode: error.code },
    };
  }
}

function parseInput(service: AwsJsonService<ServiceError>, body: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body === '' ? '{}' : body);
  } catch {
    throw new service.errors('SerializationException', 'The request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new service.errors('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as JsonObject;
}
