/**
 * Lambda function URLs with AWS_IAM auth: a request signed with SigV4 (the SDK's own signer) reaches the
 * in-process handler with the caller named in `requestContext.authorizer.iam`, as the principals declared
 * for the sandbox; unsigned, unknown-key and wrongly signed requests are refused with 403 before the handler.
 */
import { createHash, createHmac } from 'node:crypto';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type Sandbox,
  startSandbox,
} from '../src/index.ts';

class Sha256 implements Checksum {
  #h;
  constructor(secret?: SourceData) {
    this.#h =
      secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as string));
  }
  update(data: Uint8Array) {
    this.#h.update(data);
  }
  async digest() {
    return new Uint8Array(this.#h.digest());
  }
  reset() {}
}

const ALICE = {
  accessKeyId: 'AKIDALICE0000000001',
  secretAccessKey: 'alice-secret',
  arn: 'arn:aws:sts::111111111111:assumed-role/Approver/alice',
};
const MALLORY = { accessKeyId: 'AKIDMALLORY00000001', arn: 'arn:aws:iam::999999999999:user/mallory' };

let sandbox: Sandbox;
let seen: unknown[] = [];
let url: string;

beforeAll(async () => {
  sandbox = await startSandbox({ clock: { speed: 0 }, principals: [ALICE, MALLORY] });
  url = sandbox.functionUrls.register({
    functionName: 'echo',
    handler: (async (event: unknown) => {
      seen.push(event);
      const e = event as { rawPath: string; body?: string };
      if (e.rawPath === '/boom') throw new Error('boom');
      if (e.rawPath === '/plain') return { hello: 'world' };
      return {
        statusCode: 201,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: e.rawPath, body: e.body ?? null }),
      };
    }) as never,
  }).url;
});
afterAll(async () => {
  await sandbox?.stop();
});

async function call(
  path: string,
  options: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    body?: string;
    sign?: boolean;
    tamper?: boolean;
  } = {},
) {
  const target = new URL(path, url);
  const headers: Record<string, string> = { host: target.host, 'content-type': 'application/json' };
  let sent = headers;
  if (options.sign !== false) {
    const signer = new SignatureV4({
      service: 'lambda',
      region: 'us-east-1',
      credentials: options.credentials ?? {
        accessKeyId: DEFAULT_ACCESS_KEY_ID,
        secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
      },
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: {},
      headers,
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    sent = signed.headers;
  }
  const body = options.tamper ? `${options.body ?? ''}x` : options.body;
  const { host: _host, ...fetchHeaders } = sent;
  const response = await fetch(target, {
    method: 'POST',
    headers: fetchHeaders,
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('sandbox Lambda function URLs (AWS_IAM)', () => {
  it('hands a signed request to the handler as a payload 2.0 event naming the declared principal', async () => {
    seen = [];
    const r = await call('approvals/apr-1', { credentials: ALICE, body: '{"decision":"approve"}' });
    expect(r).toEqual({ status: 201, json: { path: '/approvals/apr-1', body: '{"decision":"approve"}' } });
    expect(seen[0]).toMatchObject({
      version: '2.0',
      rawPath: '/approvals/apr-1',
      requestContext: {
        accountId: '111111111111',
        http: { method: 'POST', path: '/approvals/apr-1' },
        authorizer: { iam: { accessKey: ALICE.accessKeyId, accountId: '111111111111', userArn: ALICE.arn } },
      },
    });
    // The call is in the call log as Lambda's InvokeFunctionUrl, by the caller's key.
    expect(sandbox.calls.query().at(-1)).toMatchObject({
      service: 'lambda',
      action: 'InvokeFunctionUrl',
      status: 201,
      accessKeyId: ALICE.accessKeyId,
    });
  });

  it('names another account for a principal of that account, and the root user for a key with no principal', async () => {
    seen = [];
    await call('plain', {
      credentials: { accessKeyId: MALLORY.accessKeyId, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
    });
    const r = await call('plain');
    expect(r).toEqual({ status: 200, json: { hello: 'world' } });
    const arns = seen.map(
      (e) =>
        (e as { requestContext: { authorizer: { iam: { userArn: string; accountId: string } } } })
          .requestContext.authorizer.iam,
    );
    expect(arns).toEqual([
      expect.objectContaining({ userArn: MALLORY.arn, accountId: '999999999999' }),
      expect.objectContaining({ userArn: 'arn:aws:iam::111111111111:root', accountId: '111111111111' }),
    ]);
  });

  it('STS GetCallerIdentity reports the same declared principal', async () => {
    const sts = new STSClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: ALICE,
      maxAttempts: 1,
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(ALICE.arn);
    sts.destroy();
  });

  it('refuses with 403 before the handler: unsigned, an unknown key, a wrong secret, a tampered body', async () => {
    seen = [];
    const cases = [
      await call('x', { sign: false }),
      await call('x', { credentials: { accessKeyId: 'AKIDNOBODY000000001', secretAccessKey: 'x' } }),
      await call('x', { credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alices' } }),
      await call('x', { credentials: ALICE, body: '{"decision":"reject"}', tamper: true }),
    ];
    expect(cases.map((c) => c.status)).toEqual([403, 403, 403, 403]);
    expect(seen).toEqual([]);
  });

  it('answers 502 when the handler throws', async () => {
    expect((await call('boom')).status).toBe(502);
  });
});
