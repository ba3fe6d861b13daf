/** Shared set-up for the EC2 sandbox tests: a sandbox on a manual clock and a real EC2Client. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '#sandbox/server.ts';

export interface Ec2Harness {
  readonly sandbox: SandboxHandle;
  readonly ec2: EC2Client;
  /** A client signing with another access key (another account, or an unknown key). */
  client(accessKeyId: string, region?: string): EC2Client;
}

export async function startEc2Harness(options: SandboxOptions = {}): Promise<Ec2Harness> {
  const sandbox = await startSandbox({
    clock: { speed: 0, startAt: Date.parse('2026-11-24T00:00:00Z') },
    ...options,
  });
  const client = (accessKeyId: string, region = 'us-east-1'): EC2Client =>
    new EC2Client({
      endpoint: sandbox.url,
      region,
      credentials: { accessKeyId, secretAccessKey: 'sandbox' },
      maxAttempts: 1,
    });
  return { sandbox, ec2: client(sandbox.clientCredentials.accessKeyId), client };
}

export const MINUTE = 60_000;
