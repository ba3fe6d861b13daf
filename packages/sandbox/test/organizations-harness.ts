/** A sandbox with only AWS Organizations, and real OrganizationsClients signed as any account of it. */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  type OrganizationsEmulator,
  type OrganizationsEmulatorOptions,
  organizations,
} from '../src/organizations/emulator.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';

export interface OrganizationsHarness {
  readonly sandbox: SandboxHandle;
  readonly emulator: OrganizationsEmulator;
  /** A client whose calls come from `accountId` (so the emulator can tell management from member). */
  as(accountId: string): OrganizationsClient;
  stop(): Promise<void>;
}

export async function startOrganizationsSandbox(
  options: OrganizationsEmulatorOptions,
): Promise<OrganizationsHarness> {
  const sandbox = await startSandboxServer({ clock: { speed: 0 }, services: [organizations(options)] });
  const emulator = sandbox.router.service('organizations') as OrganizationsEmulator;
  const clients: OrganizationsClient[] = [];
  return {
    sandbox,
    emulator,
    as(accountId) {
      sandbox.registerCredentials(`AKIDORG${accountId}`, accountId);
      const client = new OrganizationsClient(sandbox.clientConfig({ accessKeyId: `AKIDORG${accountId}` }));
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await sandbox.stop();
    },
  };
}
