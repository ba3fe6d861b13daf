/**
 * Which account an access key belongs to.
 *
 * The sandbox identifies the calling account the way AWS does: by the access key in the SigV4 scope. One
 * default key exists for the default account; STS (AssumeRole) registers the temporary keys it issues so
 * that a handler assuming a member-account role lands in that account's state.
 */

export const DEFAULT_ACCOUNT_ID = '111111111111';
export const DEFAULT_ACCESS_KEY_ID = 'AKIDSANDBOX0000000001';
export const DEFAULT_SECRET_ACCESS_KEY = 'sandbox-secret-not-a-secret';

export interface SandboxCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly accountId: string;
  /** The principal the key stands for, e.g. an assumed-role ARN; informational. */
  readonly principalArn?: string;
}

export class CredentialRegistry {
  private readonly byAccessKey = new Map<string, SandboxCredentials>();

  constructor(defaults: readonly SandboxCredentials[] = [DEFAULT_CREDENTIALS]) {
    for (const credentials of defaults) {
      this.byAccessKey.set(credentials.accessKeyId, credentials);
    }
  }

  /** Registers (or replaces) a key; returns the stored credentials. */
  register(
    accessKeyId: string,
    accountId: string,
    extra: Partial<Omit<SandboxCredentials, 'accessKeyId' | 'accountId'>> = {},
  ): SandboxCredentials {
    if (!/^\d{12}$/.test(accountId)) {
      throw new Error(`accountId must be 12 digits, got "${accountId}"`);
    }
    const credentials: SandboxCredentials = {
      accessKeyId,
      accountId,
      secretAccessKey: extra.secretAccessKey ?? DEFAULT_SECRET_ACCESS_KEY,
      ...(extra.sessionToken === undefined ? {} : { sessionToken: extra.sessionToken }),
      ...(extra.principalArn === undefined ? {} : { principalArn: extra.principalArn }),
    };
    this.byAccessKey.set(accessKeyId, credentials);
    return credentials;
  }

  lookup(accessKeyId: string): SandboxCredentials | undefined {
    return this.byAccessKey.get(accessKeyId);
  }

  revoke(accessKeyId: string): boolean {
    return this.byAccessKey.delete(accessKeyId);
  }
}

export const DEFAULT_CREDENTIALS: SandboxCredentials = {
  accessKeyId: DEFAULT_ACCESS_KEY_ID,
  secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
  accountId: DEFAULT_ACCOUNT_ID,
};
