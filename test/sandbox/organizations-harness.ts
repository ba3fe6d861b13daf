/** A sandbox with only AWS Organizations, and real OrganizationsClients signed as any account of it. */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  type OrganizationsEmulator,
  type OrganizationsEmulatorOptions,
  organizations,
} from '../../sandbox/organizations/emulator.ts';
import { type SandboxHandle, startSandbox } from '../../sandbox/server.ts';

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
  const sandbox = await startSandbox({ clock: { speed: 0 }, services: [organizations(options)] });
  const emulator = sandbox.router.service('organizations') as OrganizationsEmulator;
  const clients: OrganizationsClient[] = [];
  return {
    sandbox,
    emulator,
    as(accountId) {
      const key = `AKIDORG${accountId}`;
      sandbox.registerCredentials(key, accountId);
      const client = new OrganizationsClient({
        endpoint: sandbox.url,
        region: 'us-east-1',
        credentials: { accessKeyId: key, secretAccessKey: 'sandbox' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await sandbox.stop();
    },
  };
}
