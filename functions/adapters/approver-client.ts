/**
 * The approver endpoint's client: what `vecguard approve`, `vecguard reject`, `vecguard approvals` and the
 * local loop call. Each request is signed with SigV4 for service `lambda` with the caller's own credentials
 * (the SDK's default chain), which is what a function URL with `AWS_IAM` auth authenticates; the endpoint
 * takes the caller's identity from that signature and nothing else (functions/adapters/approver.ts).
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';
import { VecguardError } from '../shared/errors.ts';
import type { PublicApproval } from './approver.ts';

/** SHA-256 for the signer, from node:crypto (an HMAC when given a secret). */
class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = NodeSha256.#make(secret);
  }

  static #make(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = NodeSha256.#make(this.#secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The endpoint (or Lambda in front of it) refused the request; `status` and `code` say why. */
export class ApproverEndpointError extends VecguardError {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApproverEndpointError';
    this.status = status;
    this.code = code;
  }
}

export interface ApproverClientOptions {
  /** The function URL (`https://<id>.lambda-url.<region>.on.aws/`, or the sandbox's). */
  readonly url: string;
  /** The Region to sign for; default: the one in a real function URL's host name. */
  readonly region?: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** The Region of a real function URL: `<id>.lambda-url.<region>.on.aws`. */
export function regionOfFunctionUrl(url: string): string | undefined {
  return /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(new URL(url).hostname)?.[1];
}

export class ApproverClient {
  readonly url: URL;
  readonly #signer: SignatureV4;

  constructor(options: ApproverClientOptions) {
    this.url = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new RangeError(`the approver URL must be http(s), got ${options.url}`);
    }
    const region = options.region ?? regionOfFunctionUrl(this.url.href);
    if (region === undefined) {
      throw new RangeError(`cannot tell the Region of ${options.url}; pass it (--region)`);
    }
    this.#signer = new SignatureV4({
      service: 'lambda',
      region,
      credentials: options.credentials,
      sha256: NodeSha256,
    });
  }

  /** Pending approvals, without task tokens. */
  async list(): Promise<PublicApproval[]> {
    const { approvals } = (await this.call('GET', 'approvals')) as { approvals: PublicApproval[] };
    return approvals;
  }

  /** Answer one approval as the signing identity; returns it as recorded (decidedBy: your ARN). */
  async decide(approvalId: string, answer: { approve: boolean; reason?: string }): Promise<PublicApproval> {
    const body = JSON.stringify({
      decision: answer.approve ? 'approve' : 'reject',
      ...(answer.reason ? { reason: answer.reason } : {}),
    });
    const { approval } = (await this.call('POST', `approvals/${encodeURIComponent(approvalId)}`, body)) as {
      approval: PublicApproval;
    };
    return approval;
  }

  /** One signed request to a path under the URL; the parsed JSON answer, or an `ApproverEndpointError`. */
  async call(method: 'GET' | 'POST', relative: string, body?: string): Promise<unknown> {
    const target = new URL(relative, this.url);
    const signed = await this.#signer.sign({
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: {},
      headers: {
        host: target.host,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const { status, text } = await send(target, method, signed.headers, body);
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApproverEndpointError(
        status,
        'NotJson',
        `${target.href} answered ${status} with a body that is not JSON`,
      );
    }
    if (status >= 200 && status < 300) return parsed;
    const document = parsed as { error?: string; message?: string; Message?: string };
    if (document.error !== undefined) {
      throw new ApproverEndpointError(status, document.error, document.message ?? document.error);
    }
    // Lambda's own answer, before the function runs: IAM refused the caller or the signature.
    const message =
      status === 403
        ? `the approver URL refused the request (403 ${document.Message ?? 'Forbidden'}): your identity needs the vecguard-approver policy (lambda:InvokeFunctionUrl on the approver function), and valid credentials`
        : `the approver URL answered ${status}: ${document.Message ?? document.message ?? text.slice(0, 200)}`;
    throw new ApproverEndpointError(status, status === 403 ? 'Forbidden' : `Http${status}`, message);
  }
}

function send(
  target: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
