import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers.ts';

const NODE = process.execPath;
const BIN = 'cli/bin/vecguard.ts';

/** Start `vecguard sandbox` as a real process and wait for the environment it prints. */
function startCli(...args: string[]): Promise<{ child: ChildProcess; env: Record<string, string> }> {
  const child = spawn(NODE, [BIN, 'sandbox', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no environment printed: ${out}`)), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('# Try:')) {
        clearTimeout(timer);
        const env = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
        resolve({ child, env: env as Record<string, string> });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
}

describe('vecguard sandbox', () => {
  let child: ChildProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ child, env } = await startCli('--port', '0', '--scenario', 'default'));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('prints the environment a shell needs', () => {
    expect(env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
    });
  });

  it('serves the scenario to the real SDK client', async () => {
    const ec2 = new EC2Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
      },
    });
    const { Vpcs } = await ec2.send(new DescribeVpcsCommand({}));
    expect(Vpcs?.map((v) => v.Tags?.find((t) => t.Key === 'Name')?.Value).sort()).toEqual([
      'analytics',
      'edge',
      'inspection',
      'legacy',
      'payments',
      'shared',
    ]);
    ec2.destroy();
  });

  const hasAwsCli = spawnSync('aws', ['--version']).status === 0;
  it.skipIf(!hasAwsCli)('serves the AWS CLI: aws --endpoint-url … ec2 describe-vpcs', async () => {
    const { stdout } = await promisify(execFile)(
      'aws',
      ['--endpoint-url', env.AWS_ENDPOINT_URL ?? '', 'ec2', 'describe-vpcs', '--output', 'json'],
      { env: { ...process.env, ...env, AWS_PAGER: '' } },
    );
    const vpcs = (JSON.parse(stdout) as { Vpcs: { EncryptionControl?: { Mode: string } }[] }).Vpcs;
    expect(vpcs).toHaveLength(6);
  });

  it('stops cleanly on SIGINT', async () => {
    const { child: other } = await startCli('--port', '0', '--scenario', 'drift');
    const code = await new Promise<number | null>((resolve) => {
      other.on('exit', resolve);
      other.kill('SIGINT');
    });
    expect(code).toBe(0);
  });

  it('an unknown scenario is one line and exit 2', async () => {
    const r = await run('sandbox', '--port', '0', '--scenario', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'vecguard: scenario "nope" not found: use one of default, large, drift, declarative-policy or a path to a scenario file\n',
    );
  });

  it('a port in use is one line and exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const r = await run('sandbox', '--port', String(port));
    blocker.close();
    expect(r).toMatchObject({
      code: 2,
      stderr: `vecguard: port ${port} is in use; pick another with --port (0 picks a free one)\n`,
    });
  });

  it('a bad --port or --speed is a usage error', async () => {
    expect((await run('sandbox', '--port', 'abc')).code).toBe(2);
    expect((await run('sandbox', '--speed=-1')).stderr).toContain('--speed takes a number ≥ 0');
  });
});
