/**
 * The handlers' dependencies reaching into a member account, against the sandbox's STS with the real
 * STSClient: the member role requires an external id (the member stack's `externalId`), and the hub sends
 * the one its configuration names (`VECGUARD_MEMBER_EXTERNAL_ID`), or is refused with an error that says so.
 */

import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDeps, resetDeps } from '../../functions/adapters/deps.ts';
import type { Scope } from '../../functions/handlers/inputs.ts';
import { AccessError } from '../../functions/shared/errors.ts';

const MEMBER = '222222222222';
const ROLE = `arn:aws:iam::${MEMBER}:role/vecguard-member`;
const EXTERNAL_ID = 'vecguard-7f3a';

const scope: Scope = {
  runId: 'run-ext-1',
  accountId: MEMBER,
  region: 'us-east-1',
  roleArn: ROLE,
  vpcIds: null,
  organizationalUnitIds: [],
};

describe('deps in a member account whose role requires an external id', () => {
  let sandbox: Sandbox;
  const saved = { ...process.env };

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock: { speed: 0 },
      sts: { roles: [{ arn: ROLE, externalId: EXTERNAL_ID }] },
    });
  });
  afterAll(() => sandbox.stop());
  afterEach(() => {
    process.env = { ...saved };
    resetDeps();
  });

  /** The environment CDK gives a loop function, pointed at the sandbox. */
  function configure(externalId: string | undefined): void {
    Object.assign(process.env, sandbox.env, {
      VECGUARD_TABLE_NAME: 'vecguard-state',
      VECGUARD_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vecguard',
      VECGUARD_POLICY_FILE: 'examples/vecguard.policy.yaml',
    });
    if (externalId === undefined) delete process.env.VECGUARD_MEMBER_EXTERNAL_ID;
    else process.env.VECGUARD_MEMBER_EXTERNAL_ID = externalId;
    resetDeps();
  }

  const sessions = () => sandbox.sts.sessions;

  it('assumes the member role with the configured external id', async () => {
    configure(EXTERNAL_ID);
    const before = sessions().length;
    await buildDeps().ec2For(scope);
    const issued = sessions().slice(before);
    expect(issued.map((s) => [s.roleArn, s.externalId, s.accountId])).toEqual([[ROLE, EXTERNAL_ID, MEMBER]]);
  });

  it('a different external id is an AccessError naming the role and saying the external id was refused', async () => {
    configure('vecguard-0000');
    const error = await buildDeps()
      .ec2For(scope)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect(error).toMatchObject({
      service: 'sts',
      action: 'AssumeRole',
      code: 'AccessDenied',
      retryable: false,
    });
    expect((error as Error).message).toContain(
      `${ROLE} refused the external id vecguard sent (VECGUARD_MEMBER_EXTERNAL_ID)`,
    );
    expect((error as Error).message).not.toContain('vecguard-0000');
  });

  it('without one, the refusal says none was sent and which setting gives it', async () => {
    configure(undefined);
    const error = await buildDeps()
      .securityHubFor(scope)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect((error as Error).message).toContain(
      `${ROLE} refused vecguard, which sent no external id (VECGUARD_MEMBER_EXTERNAL_ID is unset)`,
    );
  });
});
