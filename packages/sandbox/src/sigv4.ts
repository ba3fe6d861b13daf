/**
 * Reading the SigV4 credential scope of a request.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ec2/aws4_request, SignedHeaders=…,
 * Signature=…`, or the same scope in the `X-Amz-Credential` query parameter of a presigned URL.
 *
 * The sandbox does NOT verify signatures: it runs on loopback for tests and demos, the secret keys it hands
 * out are not secrets, and recomputing every signature would cost CPU the throughput benchmark needs. It
 * only reads who claims to be calling (access key → account) and which service and Region are addressed.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

const AUTH_SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

export function parseCredentialScope(
  authorization: string | undefined,
  path: string | undefined,
): CredentialScope | undefined {
  if (authorization?.startsWith('AWS4-HMAC-SHA256')) {
    return fromMatch(AUTH_SCOPE.exec(authorization));
  }
  const queryStart = path?.indexOf('?') ?? -1;
  if (path !== undefined && queryStart >= 0) {
    const credential = new URLSearchParams(path.slice(queryStart + 1)).get('X-Amz-Credential');
    if (credential) {
      return fromMatch(AUTH_SCOPE.exec(`Credential=${credential}`));
    }
  }
  return undefined;
}

function fromMatch(match: RegExpExecArray | null): CredentialScope | undefined {
  if (!match) {
    return undefined;
  }
  const [, accessKeyId, date, region, service] = match;
  if (!accessKeyId || !date || !region || !service) {
    return undefined;
  }
  return { accessKeyId, date, region, service };
}

/**
 * Verifying a SigV4 `Authorization` header, for the services where who signed is the point (Lambda function
 * URLs with `AWS_IAM` auth): the canonical request, the string to sign and the signing key as the IAM User
 * Guide describes them (*Create a signed AWS API request*), recomputed with the secret the sandbox holds for
 * the key and compared in constant time. The request time is not checked against the clock: the sandbox's
 * clock may run faster than real time.
 */

const AUTH_HEADER =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

export interface SignedRequest {
  readonly method: string;
  /** Path and query string as received. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type SignatureCheck =
  | { readonly valid: true; readonly accessKeyId: string }
  | { readonly valid: false; readonly reason: string };

/** RFC 3986 encoding, as SigV4 wants it (`encodeURIComponent` leaves `!'()*`). */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalUri(path: string): string {
  // Non-S3 services encode each segment once more (the SDK's `uriEscapePath`).
  return path
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const key = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
      const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, '%20'));
      return [rfc3986(key), rfc3986(value)] as const;
    })
    .filter(([key]) => key !== 'X-Amz-Signature')
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/** Does `request` carry a valid SigV4 signature by `secretFor(accessKeyId)` for `service`? */
export function verifySignature(
  request: SignedRequest,
  service: string,
  secretFor: (accessKeyId: string) => string | undefined,
): SignatureCheck {
  const match = AUTH_HEADER.exec(request.headers.authorization ?? '');
  if (!match) return { valid: false, reason: 'no SigV4 Authorization header' };
  const [, accessKeyId = '', date = '', region = '', scopeService = '', signedHeaders = '', signature = ''] =
    match;
  if (scopeService !== service) return { valid: false, reason: `signed for ${scopeService}, not ${service}` };
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return { valid: false, reason: `unknown access key ${accessKeyId}` };
  const amzDate = request.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date))
    return { valid: false, reason: 'X-Amz-Date does not match the credential scope' };
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { valid: false, reason: 'the host header is not signed' };
  const headerLines = names.map(
    (name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`,
  );
  // The body is what was signed: a claimed payload hash must be the body's (no UNSIGNED-PAYLOAD here).
  const payloadHash = sha256(request.body);
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash) {
    return { valid: false, reason: 'the body does not match x-amz-content-sha256' };
  }
  const queryAt = request.path.indexOf('?');
  const path = queryAt < 0 ? request.path : request.path.slice(0, queryAt);
  const query = queryAt < 0 ? '' : request.path.slice(queryAt + 1);
  const canonical = [
    request.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    headerLines.join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { valid: false, reason: 'the signature does not match' };
  }
  return { valid: true, accessKeyId };
}
