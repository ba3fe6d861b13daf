import { STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_ACCOUNT_ID, type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeScopeCredentials, roleSessionName, whoAmI } from '#adapters/identity.ts';
import { AccessError } from '#shared/errors.ts';

const MEMBER = '222222222222';
const ROLE = `arn:aws:iam::${MEMBER}:role/vecguard-member`;

describe('identity against the sandbox STS', () => {
  let sandbox: Sandbox;
  const client = (credentials = sandbox.clientCredentials) =>
    new STSClient({ endpoint: sandbox.url, region: 'us-east-1', credentials, maxAttempts: 1 });

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock: { speed: 0 },
      sts: {
        roles: [
          { arn: ROLE, externalId: 'vecguard-ext' },
          { arn: `arn:aws:iam::${MEMBER}:role/locked`, trustedAccountIds: ['999999999999'] },
        ],
      },
    });
    sandbox.credentials.register('AKIDALICE', DEFAULT_ACCOUNT_ID, {
      principalArn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/alice`,
    });
  });
  afterAll(() => sandbox.stop());

  it('whoAmI names the caller: account, ARN and user id', async () => {
    expect(await whoAmI(client())).toEqual({
      accountId: DEFAULT_ACCOUNT_ID,
      arn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root`,
      userId: DEFAULT_ACCOUNT_ID,
    });
    const alice = await whoAmI(
      client({ accessKeyId: 'AKIDALICE', secretAccessKey: sandbox.clientCredentials.secretAccessKey }),
    );
    expect(alice.arn).toBe(`arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/alice`);
  });

  it('assumed credentials act in the member account, under the session name', async () => {
    const credentials = await assumeScopeCredentials(client(), ROLE, 'vecguard run-1/us-east-1', {
      externalId: 'vecguard-ext',
    });
    expect(credentials.expiration).toBeInstanceOf(Date);
    const issued = sandbox.sts.sessions.at(-1);
    expect(issued).toMatchObject({ roleArn: ROLE, externalId: 'vecguard-ext' });
    const member = await whoAmI(client(credentials));
    expect(member).toMatchObject({
      accountId: MEMBER,
      arn: `arn:aws:sts::${MEMBER}:assumed-role/vecguard-member/vecguard-run-1-us-east-1`,
    });
  });

  it('a role that does not trust the caller is an AccessError', async () => {
    const error = await assumeScopeCredentials(
      client(),
      `arn:aws:iam::${MEMBER}:role/locked`,
      'vecguard',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect(error).toMatchObject({ service: 'sts', action: 'AssumeRole', code: 'AccessDenied' });
    await expect(assumeScopeCredentials(client(), ROLE, 'vecguard')).rejects.toBeInstanceOf(AccessError);
  });

  it('an external id the role refuses is an AccessError naming the role and saying so, not the id', async () => {
    const refused = async (options: { externalId?: string }) => {
      const error = await assumeScopeCredentials(client(), ROLE, 'vecguard', options).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AccessError);
      expect(error).toMatchObject({
        service: 'sts',
        action: 'AssumeRole',
        code: 'AccessDenied',
        retryable: false,
      });
      return (error as Error).message;
    };
    const wrong = await refused({ externalId: 'vecguard-other' });
    expect(wrong).toMatch(
      /^sts AssumeRole failed: AccessDenied: arn:aws:iam::222222222222:role\/vecguard-member refused the external id vecguard sent \(VECGUARD_MEMBER_EXTERNAL_ID\)/,
    );
    expect(wrong).toContain(
      `STS said: User: arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
    expect(wrong).not.toContain('vecguard-other');
    expect(await refused({})).toContain(`${ROLE} refused vecguard, which sent no external id`);
  });

  it('session names are made valid for STS', () => {
    expect(roleSessionName('vecguard run:1 / us-east-1')).toBe('vecguard-run-1---us-east-1');
    expect(roleSessionName('x')).toBe('vecguard-x');
    expect(roleSessionName('a'.repeat(80))).toHaveLength(64);
  });
});
