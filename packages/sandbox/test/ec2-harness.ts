/** Shared set-up for the EC2 sandbox tests: a sandbox on a manual clock and a real EC2Client. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { type SandboxHandle, type SandboxServerOptions, startSandboxServer } from '../src/server.ts';

export interface Ec2Harness {
  readonly sandbox: SandboxHandle;
  readonly ec2: EC2Client;
  /** A client signing with another access key (another account, or an unknown key). */
  client(accessKeyId: string, region?: string): EC2Client;
}

export async function startEc2Harness(options: SandboxServerOptions = {}): Promise<Ec2Harness> {
  const sandbox = await startSandboxServer({
    clock: { speed: 0, startAt: Date.parse('2026-11-24T00:00:00Z') },
    ...options,
  });
  const client = (accessKeyId: string, region = 'us-east-1') =>
    new EC2Client(sandbox.clientConfig({ accessKeyId, region }));
  return { sandbox, ec2: client(sandbox.clientCredentials.accessKeyId), client };
}

export const MINUTE = 60_000;
