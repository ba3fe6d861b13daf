import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_SECRET_ACCESS_KEY } from '../src/credentials.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';
import { type StsEmulator, sts } from '../src/sts/emulator.ts';

const MEMBER_ACCOUNT = '222222222222';

describe('sandbox STS', () => {
  let sandbox: SandboxHandle;
  let stsEmulator: StsEmulator;
  const client = (
    creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
      accessKeyId: DEFAULT_ACCESS_KEY_ID,
      secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
    },
  ) => new STSClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

  beforeAll(async () => {
    sandbox = await startSandboxServer({
      clock: { speed: 0 },
      services: [
        sts({
          roles: [
            {
              arn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/locked`,
              trustedAccountIds: ['999999999999'],
            },
            {
              arn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/long`,
              maxSessionDurationSeconds: 43200,
              externalId: 'ext-1234',
            },
          ],
        }),
      ],
    });
    stsEmulator = sandbox.router.service('sts') as StsEmulator;
  });
  afterAll(() => sandbox.stop());

  it('GetCallerIdentity names the account of the default key as its root user', async () => {
    const identity = await client().send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: DEFAULT_ACCOUNT_ID,
      Arn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root`,
      UserId: DEFAULT_ACCOUNT_ID,
    });
  });

  it('AssumeRole into a second account issues keys whose calls land in that account', async () => {
    const assumed = await client().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/ops/vecguard-member`,
        RoleSessionName: 'vecguard-audit',
      }),
    );
    const creds = assumed.Credentials;
    expect(creds?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds?.Expiration?.getTime()).toBe(Math.floor(sandbox.clock.now() / 1000) * 1000 + 3_600_000);
    const arn = `arn:aws:sts::${MEMBER_ACCOUNT}:assumed-role/vecguard-member/vecguard-audit`;
    expect(assumed.AssumedRoleUser?.Arn).toBe(arn);
    expect(sandbox.credentials.lookup(creds?.AccessKeyId ?? '')?.accountId).toBe(MEMBER_ACCOUNT);

    const member = client({
      accessKeyId: creds?.AccessKeyId ?? '',
      secretAccessKey: creds?.SecretAccessKey ?? '',
      sessionToken: creds?.SessionToken ?? '',
    });
    const identity = await member.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(MEMBER_ACCOUNT);
    expect(identity.Arn).toBe(arn);
    expect(identity.UserId).toBe(assumed.AssumedRoleUser?.AssumedRoleId);
    expect(identity.UserId).toMatch(/^AROA[A-Z2-7]{17}:vecguard-audit$/);
    expect(stsEmulator.sessions.at(-1)).toMatchObject({
      accountId: MEMBER_ACCOUNT,
      callerAccountId: DEFAULT_ACCOUNT_ID,
    });

    // Role chaining is capped at one hour.
    const chained = member.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/other`,
        RoleSessionName: 'chained',
        DurationSeconds: 7200,
      }),
    );
    await expect(chained).rejects.toMatchObject({
      name: 'ValidationError',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('expired session keys get ExpiredTokenException', async () => {
    const assumed = await client().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/short`,
        RoleSessionName: 'short',
        DurationSeconds: 900,
      }),
    );
    const member = client({
      accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
      sessionToken: assumed.Credentials?.SessionToken ?? '',
    });
    await expect(member.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    sandbox.clock.advance(901_000);
    const error = await member.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(STSServiceException);
    // What AWS answers for expired session keys: the auth layer's `ExpiredToken` (403), not the modelled
    // `ExpiredTokenException` of the web-identity APIs.
    expect(error).toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 403 } });
  });

  it('validates AssumeRole parameters the way STS does', async () => {
    const error = await client()
      .send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123', RoleSessionName: 'a b' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(STSServiceException);
    expect(error).toMatchObject({ name: 'ValidationError', $fault: 'client' });
    expect((error as Error).message).toBe(
      "2 validation errors detected: Value 'arn:aws:iam::123' at 'roleArn' failed to satisfy constraint: " +
        'Member must have length greater than or equal to 20; ' +
        "Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression " +
        'pattern: [\\w+=,.@-]*',
    );
    const missing = await client()
      .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/x` } as never))
      .catch((e: unknown) => e);
    expect((missing as Error).message).toBe(
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
  });

  it('refuses a session longer than the role allows, and honours a longer MaxSessionDuration', async () => {
    await expect(
      client().send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/default-max`,
          RoleSessionName: 'too-long',
          DurationSeconds: 7200,
        }),
      ),
    ).rejects.toThrow('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const long = await client().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/long`,
        RoleSessionName: 'long',
        DurationSeconds: 43200,
        ExternalId: 'ext-1234',
      }),
    );
    expect(long.Credentials?.Expiration?.getTime()).toBe(
      Math.floor(sandbox.clock.now() / 1000) * 1000 + 43_200_000,
    );
  });

  it('denies roles whose trust policy does not admit the caller, or a wrong ExternalId', async () => {
    for (const input of [
      { RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/locked`, RoleSessionName: 'nope' },
      {
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/long`,
        RoleSessionName: 'nope',
        ExternalId: 'wrong-id',
      },
    ]) {
      const error = await client()
        .send(new AssumeRoleCommand(input))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect((error as Error).message).toBe(
        `User: arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
      );
    }
  });

  it('answers an unknown key with InvalidClientTokenId (router) in STS format', async () => {
    const error = await client({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
  });
});
