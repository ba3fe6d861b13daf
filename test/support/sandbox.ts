/** Sandboxes for the product's adapter tests, through the sandbox's public entry, with real SDK clients. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  type OrganizationsEmulator,
  type Sandbox,
  type SandboxOptions,
  type ScenarioOrganizationInput,
  startSandbox,
} from '@vecguard/sandbox';

export interface Ec2Harness {
  readonly sandbox: Sandbox;
  readonly ec2: EC2Client;
  /** A client signing with another access key (another account, or an unknown key). */
  client(accessKeyId: string, region?: string): EC2Client;
}

/** A sandbox on a manual clock, with a real EC2Client signing as its default account. */
export async function startEc2Harness(options: SandboxOptions = {}): Promise<Ec2Harness> {
  const sandbox = await startSandbox({
    clock: { speed: 0, startAt: Date.parse('2026-11-24T00:00:00Z') },
    ...options,
  });
  const client = (accessKeyId: string, region?: string) =>
    new EC2Client(sandbox.clientConfig({ accessKeyId, ...(region ? { region } : {}) }));
  return { sandbox, ec2: new EC2Client(sandbox.clientConfig()), client };
}

export interface OrganizationsHarness {
  readonly sandbox: Sandbox;
  readonly emulator: OrganizationsEmulator;
  /** A client whose calls come from `accountId` (so the emulator can tell management from member). */
  as(accountId: string): OrganizationsClient;
  stop(): Promise<void>;
}

/** A sandbox holding `organization`, and real OrganizationsClients signed as any of its accounts. */
export async function startOrganizationsSandbox(options: {
  organization?: ScenarioOrganizationInput;
  pageSize?: number;
}): Promise<OrganizationsHarness> {
  const sandbox = await startSandbox({ clock: { speed: 0 }, organizations: options });
  const clients: OrganizationsClient[] = [];
  const as = (accountId: string) => {
    sandbox.registerCredentials(`AKIDORG${accountId}`, accountId);
    const client = new OrganizationsClient(sandbox.clientConfig({ accessKeyId: `AKIDORG${accountId}` }));
    clients.push(client);
    return client;
  };
  const stop = async () => {
    for (const c of clients) c.destroy();
    await sandbox.stop();
  };
  return { sandbox, emulator: sandbox.organizations, as, stop };
}
