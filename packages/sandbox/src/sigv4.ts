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
