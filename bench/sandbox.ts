/**
 * bench:sandbox — how many EC2 calls per second the sandbox answers with throttling off.
 *
 * The sandbox runs in its own process; this process sends it the very bytes the real EC2 client produces
 * (captured once per operation, then replayed over keep-alive connections), so the figure measures the
 * sandbox rather than the client. For scale, the same load driven through the real SDK client is shown
 * beside it. Last line: `sandbox: N calls/s`.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import {
  DescribeVpcEncryptionControlsCommand,
  DescribeVpcsCommand,
  EC2Client,
  GetVpcResourcesBlockingEncryptionEnforcementCommand,
} from '@aws-sdk/client-ec2';
import type { HttpRequest } from '@smithy/types';
import { recordResult } from './results.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONCURRENCY = 16;
const credentials = { accessKeyId: 'AKIDSANDBOX200000000001', secretAccessKey: 'sandbox' };

const server = spawn(process.execPath, ['bench/sandbox-server.ts', 'large'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout }).once('line', resolve);
  server.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
});

const client = new EC2Client({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
const { Vpcs } = await client.send(new DescribeVpcsCommand({ MaxResults: 5 }));
const vpcId = Vpcs?.[0]?.VpcId as string;
// The reads a sweep makes most: one VPC's description, its control, its blockers.
const operations: ((c: EC2Client) => Promise<unknown>)[] = [
  (c) => c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
  (c) => c.send(new DescribeVpcEncryptionControlsCommand({ VpcIds: [vpcId] })),
  (c) => c.send(new GetVpcResourcesBlockingEncryptionEnforcementCommand({ VpcId: vpcId })),
];

/** Capture the signed HTTP request the SDK would send for a command. */
async function capture(
  operation: (typeof operations)[number],
): Promise<{ path: string; headers: Record<string, string>; body: string }> {
  let captured: HttpRequest | undefined;
  const recorder = new EC2Client({
    endpoint: url,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: HttpRequest) => {
        captured = req;
        throw new Error('captured');
      },
    },
  });
  await operation(recorder).catch(() => undefined);
  if (!captured) throw new Error('no request captured');
  return { path: captured.path, headers: captured.headers, body: String(captured.body) };
}
const requests = await Promise.all(operations.map(capture));

async function rawLoad(): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { hostname, port } = new URL(url);
  let done = 0;
  let failures = 0;
  const until = performance.now() + DURATION_MS;
  const worker = async (w: number) => {
    for (let i = w; performance.now() < until; i++) {
      const r = requests[i % requests.length] as (typeof requests)[number];
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          { agent, hostname, port, method: 'POST', path: r.path, headers: r.headers },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(r.body);
      });
      if (status === 200) done++;
      else failures++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  agent.destroy();
  if (failures > 0) throw new Error(`${failures} replayed calls failed`);
  return done / ((performance.now() - start) / 1000);
}

async function sdkLoad(): Promise<number> {
  let done = 0;
  const until = performance.now() + DURATION_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; performance.now() < until; i++) {
        await (operations[i % operations.length] as (typeof operations)[number])(client);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

await rawLoad(); // warm-up: JIT and connection pool
const raw = await rawLoad();
const sdk = await sdkLoad();
client.destroy();
server.stdin?.end();

const lines = [
  `scenario large (4,000 VPCs), ${CONCURRENCY} in flight, ${DURATION_MS / 1000}s per measurement, throttling off`,
  `replayed SDK requests (sandbox alone):  ${Math.round(raw)} calls/s`,
  `real EC2Client in the load process:     ${Math.round(sdk)} calls/s  (client/sandbox = ${(sdk / raw).toFixed(2)})`,
];
for (const line of lines) console.log(line);
await recordResult('bench:sandbox', [...lines, `sandbox: ${Math.round(raw)} calls/s`]);
console.log(`sandbox: ${Math.round(raw)} calls/s`);
