import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SandboxRequest, ServiceEmulator } from '../src/service.ts';
import { type Ec2Harness, startEc2Harness } from './ec2-harness.ts';

/** A stand-in JSON service: echoes who the router says is calling. */
function echoService(signingName: string): ServiceEmulator {
  return {
    signingName,
    protocol: 'json',
    async handle(req: SandboxRequest) {
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ service: req.service, accountId: req.accountId, region: req.region }),
      };
    },
  };
}

function signedHeaders(service: string, accessKeyId: string, region = 'eu-west-1'): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261124/${region}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
    'x-amz-target': 'Echo_20261124.Whoami',
    'content-type': 'application/x-amz-json-1.0',
  };
}

describe('sandbox server', () => {
  let h: Ec2Harness;
  beforeAll(async () => {
    h = await startEc2Harness({ services: [echoService('echo')] });
  });
  afterAll(async () => {
    await h.sandbox.stop();
  });

  test('routes by the credential scope and resolves the account from the access key', async () => {
    h.sandbox.registerCredentials('AKIDMEMBER0000000022', '222222222222');
    const response = await fetch(h.sandbox.url, {
      method: 'POST',
      headers: signedHeaders('echo', 'AKIDMEMBER0000000022'),
      body: '{}',
    });
    expect(await response.json()).toEqual({
      service: 'echo',
      accountId: '222222222222',
      region: 'eu-west-1',
    });
  });

  test('a service registered after start is reachable without touching the router', async () => {
    h.sandbox.register(() => echoService('late'));
    const response = await fetch(h.sandbox.url, {
      method: 'POST',
      headers: signedHeaders('late', h.sandbox.clientCredentials.accessKeyId),
      body: '{}',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { service: string }).service).toBe('late');
  });

  test('an unknown access key gets AuthFailure from the real EC2 client', async () => {
    await expect(h.client('AKIDUNKNOWN000000000').send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: 'AuthFailure',
      $metadata: { httpStatusCode: 401 },
    });
  });

  test('an unknown access key gets a JSON-protocol auth error from a JSON service', async () => {
    const response = await fetch(h.sandbox.url, {
      method: 'POST',
      headers: signedHeaders('echo', 'AKIDUNKNOWN000000000'),
      body: '{}',
    });
    expect(response.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');
  });

  test('a service nobody registered is refused and logged', async () => {
    const before = h.sandbox.calls.lastSeq;
    const response = await fetch(h.sandbox.url, {
      method: 'POST',
      headers: signedHeaders('kinesis', h.sandbox.clientCredentials.accessKeyId),
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(h.sandbox.calls.query({ sinceSeq: before })).toMatchObject([
      { service: 'kinesis', errorCode: 'UnknownService' },
    ]);
  });

  test('an unsigned request is refused', async () => {
    const response = await fetch(h.sandbox.url, { method: 'POST', body: 'Action=DescribeVpcs' });
    expect(response.status).toBe(403);
  });

  test('env points an SDK client built only from the environment at the sandbox', async () => {
    const env = h.sandbox.env;
    expect(env.AWS_ENDPOINT_URL).toBe(h.sandbox.url);
    const client = new EC2Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
      },
    });
    await expect(client.send(new DescribeVpcsCommand({}))).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200 },
    });
  });

  test('the call log records action, account, region, mutation and dry-run', async () => {
    const before = h.sandbox.calls.lastSeq;
    await h.ec2.send(new DescribeVpcsCommand({}));
    await expect(h.ec2.send(new DescribeVpcsCommand({ DryRun: true }))).rejects.toMatchObject({
      name: 'DryRunOperation',
    });
    expect(h.sandbox.calls.query({ sinceSeq: before })).toMatchObject([
      {
        service: 'ec2',
        action: 'DescribeVpcs',
        accountId: '111111111111',
        region: 'us-east-1',
        mutating: false,
        dryRun: false,
      },
      { action: 'DescribeVpcs', dryRun: true, errorCode: 'DryRunOperation' },
    ]);
  });

  describe('control API', () => {
    const control = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${h.sandbox.url}/_sandbox/${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    test('health lists the registered services', async () => {
      const { body } = await control('GET', 'health');
      expect(body.services).toEqual(expect.arrayContaining(['ec2', 'echo']));
    });

    test('moves the clock', async () => {
      const before = h.sandbox.clock.now();
      const { body } = await control('POST', 'clock', { advanceMs: 90_000 });
      expect(body.now).toBe(before + 90_000);
    });

    test('reads the call log filtered by action', async () => {
      await h.ec2.send(new DescribeVpcsCommand({}));
      const { body } = await control('GET', 'calls?action=DescribeVpcs&service=ec2');
      const calls = body.calls as { action: string }[];
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.action === 'DescribeVpcs')).toBe(true);
    });

    test('injects a fault that the real client sees, then removes it', async () => {
      const { status, body } = await control('POST', 'faults', {
        service: 'ec2',
        action: 'DescribeVpcs',
        errorCode: 'Unavailable',
      });
      expect(status).toBe(201);
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
        name: 'Unavailable',
        $metadata: { httpStatusCode: 503 },
      });
      await control('DELETE', `faults/${body.id as string}`);
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    });

    test('rejects an invalid fault with the path of the problem', async () => {
      const { status, body } = await control('POST', 'faults', { errorRate: 2 });
      expect(status).toBe(400);
      expect(JSON.stringify(body.issues)).toContain('errorRate');
    });

    test('registers credentials for a new account', async () => {
      await control('POST', 'credentials', {
        accessKeyId: 'AKIDCONTROL000000033',
        accountId: '333333333333',
      });
      expect(h.sandbox.credentials.lookup('AKIDCONTROL000000033')?.accountId).toBe('333333333333');
    });

    test('an unknown route is a 404', async () => {
      expect((await control('GET', 'nothing-here')).status).toBe(404);
    });
  });
});

describe('sandbox lifecycle', () => {
  test('stop() closes every service that holds resources, even when one of them fails to close', async () => {
    const { startSandboxServer } = await import('../src/server.ts');
    const closed: string[] = [];
    const service = (signingName: string, fail = false): ServiceEmulator => ({
      signingName,
      handle: async () => ({ status: 200, headers: {}, body: '' }),
      close: async () => {
        closed.push(signingName);
        if (fail) throw new Error(`${signingName} could not close`);
      },
    });
    const sandbox = await startSandboxServer({ services: [service('one', true), service('two')] });
    await expect(sandbox.stop()).rejects.toThrow('one could not close');
    expect(closed.sort()).toEqual(['one', 'two']);
  });
});
