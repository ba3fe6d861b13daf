import {
  ConfigServiceClient,
  ConfigServiceServiceException,
  InvalidParameterValueException,
  InvalidResultTokenException,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigEmulator, config } from '../src/config/emulator.ts';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_SECRET_ACCESS_KEY } from '../src/credentials.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';

const REGION = 'us-east-1';

describe('sandbox Config', () => {
  let sandbox: SandboxHandle;
  let lenient: ConfigEmulator;
  let client: ConfigServiceClient;

  beforeAll(async () => {
    sandbox = await startSandboxServer({ clock: { speed: 0 }, services: [config()] });
    lenient = sandbox.router.service('config') as ConfigEmulator;
    client = new ConfigServiceClient({
      endpoint: sandbox.url,
      region: REGION,
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
  });
  afterAll(() => sandbox.stop());

  it('stores evaluations under the rule of a minted token, keeping the latest by OrderingTimestamp', async () => {
    const token = lenient.issueResultToken('vecguard-vpc-encryption', DEFAULT_ACCOUNT_ID, REGION);
    const result = await client.send(
      new PutEvaluationsCommand({
        ResultToken: token,
        Evaluations: [
          {
            ComplianceResourceType: 'AWS::EC2::VPC',
            ComplianceResourceId: 'vpc-1',
            ComplianceType: 'NON_COMPLIANT',
            Annotation: 'monitor mode',
            OrderingTimestamp: new Date('2026-11-24T10:00:00Z'),
          },
          {
            ComplianceResourceType: 'AWS::EC2::VPC',
            ComplianceResourceId: 'vpc-1',
            ComplianceType: 'COMPLIANT',
            OrderingTimestamp: new Date('2026-11-24T09:00:00Z'),
          },
        ],
      }),
    );
    expect(result.FailedEvaluations).toEqual([]);
    expect(lenient.evaluations(DEFAULT_ACCOUNT_ID, REGION)).toHaveLength(2);
    expect(lenient.latestEvaluations(DEFAULT_ACCOUNT_ID, REGION)).toEqual([
      expect.objectContaining({
        configRuleName: 'vecguard-vpc-encryption',
        complianceResourceId: 'vpc-1',
        complianceType: 'NON_COMPLIANT',
        annotation: 'monitor mode',
        orderingTimestamp: Date.parse('2026-11-24T10:00:00Z'),
      }),
    ]);
  });

  it('TestMode validates without storing', async () => {
    const before = lenient.evaluations(DEFAULT_ACCOUNT_ID, REGION).length;
    await client.send(
      new PutEvaluationsCommand({
        ResultToken: 'any-token',
        TestMode: true,
        Evaluations: [
          {
            ComplianceResourceType: 'AWS::EC2::VPC',
            ComplianceResourceId: 'vpc-2',
            ComplianceType: 'COMPLIANT',
            OrderingTimestamp: new Date(),
          },
        ],
      }),
    );
    expect(lenient.evaluations(DEFAULT_ACCOUNT_ID, REGION)).toHaveLength(before);
  });

  it('answers bad input with the exceptions Config uses', async () => {
    const missing = await client
      .send(
        new PutEvaluationsCommand({
          ResultToken: 't',
          Evaluations: [{ ComplianceResourceType: 'AWS::EC2::VPC', ComplianceType: 'COMPLIANT' } as never],
        }),
      )
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigServiceServiceException);
    expect(missing).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect((missing as Error).message).toBe(
      "2 validation errors detected: Value null at 'evaluations.1.member.complianceResourceId' failed to satisfy " +
        "constraint: Member must not be null; Value null at 'evaluations.1.member.orderingTimestamp' failed to " +
        'satisfy constraint: Member must not be null',
    );

    const insufficient = client.send(
      new PutEvaluationsCommand({
        ResultToken: 't',
        Evaluations: [
          {
            ComplianceResourceType: 'AWS::EC2::VPC',
            ComplianceResourceId: 'vpc-1',
            ComplianceType: 'INSUFFICIENT_DATA',
            OrderingTimestamp: new Date(),
          },
        ],
      }),
    );
    await expect(insufficient).rejects.toBeInstanceOf(InvalidParameterValueException);

    const tooMany = Array.from({ length: 101 }, (_, i) => ({
      ComplianceResourceType: 'AWS::EC2::VPC',
      ComplianceResourceId: `vpc-${i}`,
      ComplianceType: 'COMPLIANT' as const,
      OrderingTimestamp: new Date(),
    }));
    await expect(
      client.send(new PutEvaluationsCommand({ ResultToken: 't', Evaluations: tooMany })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('with strict tokens refuses a token it did not mint, or one minted for another account', async () => {
    const strictSandbox = await startSandboxServer({ services: [config({ strictResultTokens: true })] });
    const strict = strictSandbox.router.service('config') as ConfigEmulator;
    try {
      const strictClient = new ConfigServiceClient({
        endpoint: strictSandbox.url,
        region: REGION,
        credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
        maxAttempts: 1,
      });
      for (const ResultToken of ['made-up', strict.issueResultToken('r', '222222222222', REGION)]) {
        const error = await strictClient
          .send(new PutEvaluationsCommand({ ResultToken, Evaluations: [] }))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidResultTokenException);
      }
      const good = strict.issueResultToken('r', DEFAULT_ACCOUNT_ID, REGION);
      await expect(
        strictClient.send(new PutEvaluationsCommand({ ResultToken: good, Evaluations: [] })),
      ).resolves.toBeDefined();
    } finally {
      await strictSandbox.stop();
    }
  });
});
