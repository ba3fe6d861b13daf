/**
 * The contract every emulated AWS service plugs into.
 *
 * The sandbox serves all services on one loopback endpoint. The router authenticates the caller (SigV4
 * credential scope → account), applies throttling and injected faults, records the call, and hands the
 * request to the `ServiceEmulator` registered under the credential scope's service name (`ec2`, `sts`,
 * `securityhub`, `sns`, `dynamodb`, `states`, `config`). A new service is one object implementing
 * `ServiceEmulator`; the router never changes.
 */

/** One authenticated request, as a service emulator sees it. */
export interface SandboxRequest {
  /** SigV4 signing name from the credential scope, e.g. `ec2`. */
  readonly service: string;
  readonly region: string;
  /** Account the access key belongs to (see `CredentialRegistry`). */
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly method: string;
  /** Path including the query string, as received. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /**
   * What the call was, for the call log. Optional: the router infers the action from the request
   * (`Action=` form field or `X-Amz-Target`) and the error code from the response when a service does
   * not say.
   */
  call?: CallFacts;
}

/**
 * Is `action` a read? The sandbox's one answer, for the call log and the throttle: AWS's naming, `Describe*`,
 * `Get*` and `List*` (EC2's non-mutating bucket is exactly these), plus the reads a service names otherwise
 * (DynamoDB's `Query`, `Scan`, `BatchGetItem`).
 */
export function isReadAction(action: string, otherReads: readonly string[] = []): boolean {
  return /^(Describe|Get|List)/.test(action) || otherReads.includes(action);
}

/** Facts a service reports about one call, so the call log does not have to guess. */
export interface CallFacts {
  readonly action?: string;
  readonly mutating?: boolean;
  readonly dryRun?: boolean;
  readonly errorCode?: string;
}

/** The wire protocol a service speaks; it decides how the router renders errors it raises itself. */
export type SandboxProtocol = 'ec2' | 'query' | 'json' | 'rest-json' | 'rest-xml';

/** An error the router raises before the service sees the request (auth, throttling, injected fault). */
export interface SandboxError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * An error a service emulator answers a caller with: the API's error code, its message and the HTTP status.
 * Each service subclasses it (`Ec2Error`, `StatesApiError`, …) so that it catches only its own; the service
 * renders it in its protocol's format.
 */
export class ServiceError extends Error implements SandboxError {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export interface ServiceEmulator {
  /** SigV4 signing name this emulator answers for (`ec2`, `sts`, `states`, …). */
  readonly signingName: string;
  handle(req: SandboxRequest): Promise<SandboxResponse>;
  /** Used to render router-raised errors; `json` when absent. */
  readonly protocol?: SandboxProtocol;
  /** The code for an unknown access key; protocol default when absent (EC2 `AuthFailure`). */
  readonly authFailureCode?: string;
  /** The whole answer to an unknown access key, when the service's differs from its protocol's default. */
  readonly authFailure?: SandboxError;
  /** The code throttling answers with; `RequestLimitExceeded` for EC2, `ThrottlingException` otherwise. */
  readonly throttlingCode?: string;
  /** Name of the action a request asks for; the router's generic guess when absent. */
  actionOf?(req: SandboxRequest): string;
  /** Service-specific part of the control API, under `/_sandbox/<signingName>/`. */
  control?(req: ControlRequest): Promise<ControlResult>;
  /** Releases what the service holds (embedded databases, timers); called once when the sandbox stops. */
  close?(): Promise<void>;
}

/** A JSON control-API call (no SigV4), already split from its `/_sandbox/<service>` prefix. */
export interface ControlRequest {
  readonly method: string;
  /** Path below the service prefix, e.g. `/drift`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Parsed JSON body (`undefined` when empty). */
  readonly body: unknown;
}

export interface ControlResult {
  readonly status: number;
  readonly body: unknown;
}

const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => XML_ESCAPES[c] ?? c);
}
const XML_ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Renders an error the way the given protocol's SDK parser expects it. */
export function renderError(
  protocol: SandboxProtocol,
  error: SandboxError,
  requestId: string,
): SandboxResponse {
  const baseHeaders = { 'x-amzn-requestid': requestId };
  switch (protocol) {
    case 'ec2':
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
      return {
        status: error.status,
        headers: { ...baseHeaders, 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error></Errors>` +
          `<RequestID>${requestId}</RequestID></Response>`,
        call: { errorCode: error.code },
      };
    case 'query':
    case 'rest-xml':
      return {
        status: error.status,
        headers: { ...baseHeaders, 'content-type': 'text/xml' },
        body:
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
          `<Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        call: { errorCode: error.code },
      };
    case 'json':
    case 'rest-json':
      return jsonErrorResponse(
        error,
        requestId,
        protocol === 'json' ? 'application/x-amz-json-1.0' : 'application/json',
        { __type: error.code, message: error.message },
      );
  }
}

/**
 * An awsJson or restJson error: the code in `x-amzn-errortype`, which the SDK reads before the body, and in
 * the document, whose field names differ by service (`__type`/`message`, Organizations' `Message`, Security
 * Hub's `Code`/`Message`).
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
 */
export function jsonErrorResponse(
  error: SandboxError,
  requestId: string,
  contentType: string,
  document: object,
): SandboxResponse {
  return {
    status: error.status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.code },
    body: JSON.stringify(document),
    call: { errorCode: error.code },
  };
}

/** Default codes per protocol for an access key the sandbox does not know. */
export function defaultAuthFailure(protocol: SandboxProtocol): SandboxError {
  switch (protocol) {
    case 'ec2':
      return {
        status: 401,
        code: 'AuthFailure',
        message: 'AWS was not able to validate the provided access credentials',
      };
    case 'query':
    case 'rest-xml':
      return {
        status: 403,
        code: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
      };
    default:
      return {
        status: 400,
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
  }
}

export { EC2_XMLNS };
