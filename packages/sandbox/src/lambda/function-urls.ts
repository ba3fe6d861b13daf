/**
 * Lambda function URLs with `AuthType: AWS_IAM`, for in-process handlers. A caller signs an HTTP request
 * with SigV4 for service `lambda` (as for a real URL, `https://<url-id>.lambda-url.<region>.on.aws/…`);
 * the sandbox serves each URL under `<sandbox url>/lambda-url/<url-id>/`, checks the signature against the
 * secret it holds for the access key, and hands the handler a payload format 2.0 event whose
 * `requestContext.authorizer.iam` names the caller as Lambda does (`accessKey`, `accountId`, `callerId`,
 * `userArn`, `userId`). A missing, unknown or wrong signature is refused with 403 `{"Message":"Forbidden"}`
 * before the handler runs, as AWS refuses it; a handler that throws answers 502.
 *
 * Who a key stands for comes from the sandbox's credentials: `principals` declared in the sandbox options or
 * the scenario (access key → principal ARN), the temporary keys STS issued (their assumed-role ARN), or, for
 * a key with no named principal, the account's root user.
 *
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (request and response payloads)
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock.ts';
import { type CredentialRegistry, DEFAULT_ACCOUNT_ID } from '../credentials.ts';
import type { SandboxContext } from '../server.ts';
import type { SandboxError, SandboxRequest, SandboxResponse, ServiceEmulator } from '../service.ts';
import { verifySignature } from '../sigv4.ts';
import { type LambdaContext, lambdaContext } from '../stepfunctions/lambda.ts';

/** The path prefix function URLs are served under. */
export const FUNCTION_URL_PREFIX = '/lambda-url/';

/** A handler as Lambda calls it for a function URL: the 2.0 event, a context; the result is the response. */
export type FunctionUrlHandler = (event: never, context: LambdaContext) => unknown;

export interface FunctionUrlDefinition {
  /** The function's name (its ARN is `arn:aws:lambda:<region>:<account>:function:<name>`). */
  readonly functionName: string;
  readonly handler: FunctionUrlHandler;
  /** The account that owns the function. Default: the sandbox's default account. */
  readonly accountId?: string;
  /** Default: the sandbox's Region. */
  readonly region?: string;
  /** Seconds before the invocation's context says time is up. Default 30. */
  readonly timeoutSeconds?: number;
}

export interface RegisteredFunctionUrl {
  /** `http://127.0.0.1:<port>/lambda-url/<url-id>/` */
  readonly url: string;
  readonly urlId: string;
  readonly functionArn: string;
}

interface Registered extends RegisteredFunctionUrl {
  readonly definition: FunctionUrlDefinition;
  readonly accountId: string;
  readonly region: string;
}

const FORBIDDEN: SandboxError = { status: 403, code: 'Forbidden', message: 'Forbidden' };

function forbidden(reason: string): SandboxResponse {
  return {
    status: 403,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
    body: JSON.stringify({ Message: 'Forbidden' }),
    call: { action: 'InvokeFunctionUrl', mutating: true, errorCode: `Forbidden (${reason})` },
  };
}

export class FunctionUrlEmulator implements ServiceEmulator {
  readonly signingName = 'lambda';
  readonly protocol = 'rest-json' as const;
  /** What the router answers for an access key it does not know: what a function URL answers. */
  readonly authFailure = FORBIDDEN;

  private readonly credentials: CredentialRegistry;
  private readonly clock: Pick<SandboxClock, 'now'>;
  private readonly defaultRegion: string;
  private readonly urls = new Map<string, Registered>();
  private baseUrl = 'http://127.0.0.1';

  constructor(context: Pick<SandboxContext, 'credentials' | 'clock' | 'defaultRegion'>) {
    this.credentials = context.credentials;
    this.clock = context.clock;
    this.defaultRegion = context.defaultRegion;
  }

  /** Set by the sandbox once it listens, so that registered URLs are complete. */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  /** Gives `handler` a function URL with `AWS_IAM` auth. */
  register(definition: FunctionUrlDefinition): RegisteredFunctionUrl {
    const accountId = definition.accountId ?? DEFAULT_ACCOUNT_ID;
    const region = definition.region ?? this.defaultRegion;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(definition.functionName)) {
      throw new Error(`functionName must be 1–64 of A–Z a–z 0–9 _ -, got "${definition.functionName}"`);
    }
    // Real URL ids are 32 lower-case alphanumerics.
    const urlId = randomBytes(16).toString('hex');
    const base = () => this.baseUrl;
    const registered: Registered = {
      definition,
      accountId,
      region,
      urlId,
      functionArn: `arn:aws:lambda:${region}:${accountId}:function:${definition.functionName}`,
      get url() {
        return `${base()}${FUNCTION_URL_PREFIX}${urlId}/`;
      },
    };
    this.urls.set(urlId, registered);
    return registered;
  }

  actionOf(): string {
    return 'InvokeFunctionUrl';
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const [pathOnly = '', query = ''] = req.path.split('?', 2) as [string, string?];
    if (!pathOnly.startsWith(FUNCTION_URL_PREFIX)) {
      return forbidden('not a function URL path');
    }
    const rest = pathOnly.slice(FUNCTION_URL_PREFIX.length);
    const slash = rest.indexOf('/');
    const urlId = slash < 0 ? rest : rest.slice(0, slash);
    const target = this.urls.get(urlId);
    if (target === undefined) return forbidden(`no function URL ${urlId}`);
    const check = verifySignature(req, 'lambda', (key) => this.credentials.lookup(key)?.secretAccessKey);
    if (!check.valid) return forbidden(check.reason);
    const identity = this.credentials.lookup(check.accessKeyId);
    if (identity === undefined) return forbidden('unknown access key');
    if (
      identity.sessionToken !== undefined &&
      req.headers['x-amz-security-token'] !== identity.sessionToken
    ) {
      return forbidden('the session token does not match');
    }
    const userArn = identity.principalArn ?? `arn:aws:iam::${identity.accountId}:root`;
    const userId = identity.principalArn
      ? `AIDA${createHash('sha256').update(userArn).digest('hex').slice(0, 17).toUpperCase()}`
      : identity.accountId;
    const rawPath = slash < 0 ? '/' : rest.slice(slash);
    const now = this.clock.now();
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString: query,
      headers: { ...req.headers },
      ...(query === ''
        ? {}
        : { queryStringParameters: Object.fromEntries(new URLSearchParams(query).entries()) }),
      requestContext: {
        accountId: target.accountId,
        apiId: urlId,
        authorizer: {
          iam: {
            accessKey: identity.accessKeyId,
            accountId: identity.accountId,
            callerId: userId,
            cognitoIdentity: null,
            principalOrgId: null,
            userArn,
            userId,
          },
        },
        domainName: `${urlId}.lambda-url.${target.region}.on.aws`,
        domainPrefix: urlId,
        http: {
          method: req.method.toUpperCase(),
          path: rawPath,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date(now).toISOString(),
        timeEpoch: now,
      },
      ...(req.body === '' ? {} : { body: req.body }),
      isBase64Encoded: false,
    };
    const context = lambdaContext({
      invoked: target.functionArn,
      timeoutSeconds: target.definition.timeoutSeconds ?? 30,
      now: () => this.clock.now(),
    });
    let result: unknown;
    try {
      result = await target.definition.handler(event as never, context);
    } catch (error) {
      return {
        status: 502,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Message: 'Internal Server Error' }),
        call: {
          action: 'InvokeFunctionUrl',
          mutating: true,
          errorCode: `FunctionError: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
        },
      };
    }
    return { ...toResponse(result), call: { action: 'InvokeFunctionUrl', mutating: true } };
  }
}

/**
 * The function's result as the HTTP response, as Lambda reads it: an object with `statusCode` is the
 * response; anything else is a 200 JSON body.
 */
function toResponse(result: unknown): Omit<SandboxResponse, 'call'> {
  if (
    typeof result === 'object' &&
    result !== null &&
    typeof (result as { statusCode?: unknown }).statusCode === 'number'
  ) {
    const r = result as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
    };
    const body = r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
    return { status: r.statusCode, headers: { ...(r.headers ?? {}) }, body };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : JSON.stringify(result ?? null),
  };
}

/** The factory `startSandbox` plugs in. */
export function functionUrls(): (context: SandboxContext) => FunctionUrlEmulator {
  return (context) => new FunctionUrlEmulator(context);
}
