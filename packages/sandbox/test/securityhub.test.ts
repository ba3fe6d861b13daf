import {
  AccessDeniedException,
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  CreateActionTargetCommand,
  DescribeActionTargetsCommand,
  GetFindingsCommand,
  InvalidAccessException,
  InvalidInputException,
  paginateGetFindings,
  ResourceConflictException,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_ID } from '../src/credentials.ts';
import { defaultProductArn, type SecurityHubEmulator, securityHub } from '../src/securityhub/emulator.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';

const REGION = 'us-east-1';
const PRODUCT_ARN = defaultProductArn(DEFAULT_ACCOUNT_ID, REGION);

function finding(
  id: string,
  updatedAt: string,
  overrides: Partial<AwsSecurityFinding> = {},
): AwsSecurityFinding {
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: PRODUCT_ARN,
    GeneratorId: 'vecguard/vpc-encryption',
    AwsAccountId: DEFAULT_ACCOUNT_ID,
    Types: ['Software and Configuration Checks/AWS Security Best Practices/Encryption in transit'],
    CreatedAt: '2026-11-01T00:00:00Z',
    UpdatedAt: updatedAt,
    Severity: { Label: 'HIGH' },
    Title: `VPC ${id} does not enforce encryption in transit`,
    Description: 'VPC Encryption Controls are not in enforce mode.',
    Resources: [
      { Type: 'AwsEc2Vpc', Id: `arn:aws:ec2:${REGION}:${DEFAULT_ACCOUNT_ID}:vpc/${id}`, Region: REGION },
    ],
    Compliance: { Status: 'FAILED' },
    RecordState: 'ACTIVE',
    ...overrides,
  };
}

describe('sandbox Security Hub', () => {
  let sandbox: SandboxHandle;
  let hub: SecurityHubEmulator;
  let client: SecurityHubClient;
  const stored = (id: string) => hub.finding(DEFAULT_ACCOUNT_ID, REGION, id);

  beforeAll(async () => {
    sandbox = await startSandboxServer({
      clock: { speed: 0, startAt: Date.parse('2026-11-24T00:00:00Z') },
      services: [securityHub()],
    });
    sandbox.credentials.register('AKIDMEMBER', '222222222222', {
      principalArn: 'arn:aws:sts::222222222222:assumed-role/r/s',
    });
    hub = sandbox.router.service('securityhub') as SecurityHubEmulator;
    client = new SecurityHubClient({
      endpoint: sandbox.url,
      region: REGION,
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => hub.setEnabled(DEFAULT_ACCOUNT_ID, REGION, true));

  it('creates a finding, then updates it only with a newer UpdatedAt', async () => {
    const created = await client.send(
      new BatchImportFindingsCommand({ Findings: [finding('vpc-a', '2026-11-02T00:00:00Z')] }),
    );
    expect(created).toMatchObject({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    expect(stored('vpc-a')).toMatchObject({
      Region: REGION,
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
      Severity: { Label: 'HIGH', Normalized: 70 },
      ProductFields: { 'aws/securityhub/FindingId': `${PRODUCT_ARN}/vpc-a` },
    });

    await client.send(
      new BatchImportFindingsCommand({
        Findings: [
          finding('vpc-a', '2026-11-03T00:00:00Z', {
            Compliance: { Status: 'PASSED' },
            RecordState: 'ARCHIVED',
          }),
        ],
      }),
    );
    expect(stored('vpc-a')).toMatchObject({
      UpdatedAt: '2026-11-03T00:00:00Z',
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
    });

    // Same and older UpdatedAt: accepted by the API, ignored by the store.
    for (const updatedAt of ['2026-11-03T00:00:00Z', '2026-11-02T12:00:00.000+01:00']) {
      const result = await client.send(
        new BatchImportFindingsCommand({ Findings: [finding('vpc-a', updatedAt, { Title: 'stale' })] }),
      );
      expect(result).toMatchObject({ SuccessCount: 1, FailedCount: 0 });
    }
    expect(stored('vpc-a')).toMatchObject({ UpdatedAt: '2026-11-03T00:00:00Z', RecordState: 'ARCHIVED' });
    expect(stored('vpc-a')?.Title).not.toBe('stale');
    expect(hub.imports.filter((r) => r.id === 'vpc-a').map((r) => r.outcome)).toEqual([
      'created',
      'updated',
      'ignored',
      'ignored',
    ]);
  });

  it('reports a bad finding in FailedFindings with HTTP 200 and imports the good ones', async () => {
    const { Description: _omit, ...noDescription } = finding('vpc-bad-1', '2026-11-02T00:00:00Z');
    const badType = finding('vpc-bad-2', '2026-11-02T00:00:00Z', { Types: ['a/b/c/d'] });
    const tooBig = finding('vpc-bad-3', '2026-11-02T00:00:00Z', { ProductFields: { big: 'x'.repeat(2048) } });
    tooBig.UserDefinedFields = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`k${i}`, 'y'.repeat(1024)]),
    );
    tooBig.Resources = Array.from({ length: 32 }, (_, i) => ({
      Type: 'AwsEc2Vpc',
      Id: `r${i}`,
      Details: { Other: { note: 'z'.repeat(8000) } },
    }));
    const result = await client.send(
      new BatchImportFindingsCommand({
        Findings: [
          finding('vpc-good-1', '2026-11-02T00:00:00Z'),
          noDescription as AwsSecurityFinding,
          badType,
          tooBig,
          finding('vpc-good-2', '2026-11-02T00:00:00Z'),
        ],
      }),
    );
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.SuccessCount).toBe(2);
    expect(result.FailedCount).toBe(3);
    expect(result.FailedFindings).toEqual([
      {
        Id: 'vpc-bad-1',
        ErrorCode: 'InvalidInput',
        ErrorMessage:
          "Finding does not adhere to Amazon Finding Format. data should have required property 'Description'.",
      },
      {
        Id: 'vpc-bad-2',
        ErrorCode: 'InvalidInput',
        ErrorMessage:
          'Finding does not adhere to Amazon Finding Format. data.Types[0] should match pattern "^([^/]+)(\\/[^/]+){0,2}$".',
      },
      {
        Id: 'vpc-bad-3',
        ErrorCode: 'InvalidInput',
        ErrorMessage: 'Finding size exceeds the maximum allowed size of 240 KB.',
      },
    ]);
    expect(stored('vpc-good-1')).toBeDefined();
    expect(stored('vpc-good-2')).toBeDefined();
    expect(stored('vpc-bad-1')).toBeUndefined();
  });

  it('takes Severity and Types from FindingProviderFields when only those are sent', async () => {
    const { Severity: _s, Types: _t, ...base } = finding('vpc-fpf', '2026-11-02T00:00:00Z');
    const result = await client.send(
      new BatchImportFindingsCommand({
        Findings: [
          {
            ...base,
            FindingProviderFields: {
              Severity: { Label: 'MEDIUM', Original: 'monitor' },
              Types: ['Software and Configuration Checks/Encryption'],
            },
          },
        ],
      }),
    );
    expect(result.FailedCount).toBe(0);
    expect(stored('vpc-fpf')).toMatchObject({
      Severity: { Label: 'MEDIUM', Normalized: 40, Original: 'monitor' },
      Types: ['Software and Configuration Checks/Encryption'],
    });
  });

  it('refuses 0 or more than 100 findings in one call with InvalidInputException', async () => {
    const many = Array.from({ length: 101 }, (_, i) => finding(`vpc-many-${i}`, '2026-11-02T00:00:00Z'));
    const error = await client
      .send(new BatchImportFindingsCommand({ Findings: many }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputException);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new BatchImportFindingsCommand({ Findings: [] }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
    expect(stored('vpc-many-0')).toBeUndefined();
    // 100 findings of ~72 KB each: every finding is within 240 KB, the call is over 6 MB.
    const heavy = many.slice(0, 100).map((f) => ({
      ...f,
      ProductFields: Object.fromEntries(Array.from({ length: 35 }, (_, i) => [`k${i}`, 'v'.repeat(2048)])),
    }));
    await expect(client.send(new BatchImportFindingsCommand({ Findings: heavy }))).rejects.toThrow(
      'The request is larger than the maximum of 6291456 bytes (6 MB)',
    );
    expect(stored('vpc-many-0')).toBeUndefined();
    const hundred = await client.send(new BatchImportFindingsCommand({ Findings: many.slice(0, 100) }));
    expect(hundred.SuccessCount).toBe(100);
  });

  it('refuses a foreign ProductArn or AwsAccountId with AccessDeniedException', async () => {
    for (const overrides of [
      { ProductArn: 'arn:aws:securityhub:us-east-1::product/prowler/prowler' },
      { AwsAccountId: '222222222222' },
      { ProductArn: defaultProductArn(DEFAULT_ACCOUNT_ID, 'eu-west-1') },
    ]) {
      const error = await client
        .send(
          new BatchImportFindingsCommand({
            Findings: [finding('vpc-denied', '2026-11-02T00:00:00Z', overrides)],
          }),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessDeniedException);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 403 } });
    }
    expect(stored('vpc-denied')).toBeUndefined();
  });

  it('keeps the customer workflow and note on provider updates; reopens a resolved finding that fails again', async () => {
    await client.send(
      new BatchImportFindingsCommand({ Findings: [finding('vpc-wf', '2026-11-02T00:00:00Z')] }),
    );
    const update = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [
          { Id: 'vpc-wf', ProductArn: PRODUCT_ARN },
          { Id: 'vpc-missing', ProductArn: PRODUCT_ARN },
        ],
        Workflow: { Status: 'NOTIFIED' },
        Note: { Text: 'ticket SEC-42', UpdatedBy: 'alice' },
        Severity: { Label: 'LOW' },
      }),
    );
    expect(update.ProcessedFindings).toEqual([{ Id: 'vpc-wf', ProductArn: PRODUCT_ARN }]);
    expect(update.UnprocessedFindings).toEqual([
      {
        FindingIdentifier: { Id: 'vpc-missing', ProductArn: PRODUCT_ARN },
        ErrorCode: 'FindingNotFound',
        ErrorMessage: 'Finding Not Found',
      },
    ]);
    expect(stored('vpc-wf')).toMatchObject({
      UpdatedAt: '2026-11-02T00:00:00Z',
      Workflow: { Status: 'NOTIFIED' },
    });

    await client.send(
      new BatchImportFindingsCommand({
        Findings: [
          finding('vpc-wf', '2026-11-03T00:00:00Z', {
            Workflow: { Status: 'SUPPRESSED' },
            Note: { Text: 'provider', UpdatedBy: 'p', UpdatedAt: '2026-11-03T00:00:00Z' },
            Severity: { Label: 'CRITICAL' },
            Compliance: { Status: 'PASSED' },
          }),
        ],
      }),
    );
    expect(stored('vpc-wf')).toMatchObject({
      Workflow: { Status: 'NOTIFIED' },
      Note: { Text: 'ticket SEC-42', UpdatedBy: 'alice' },
      Severity: { Label: 'LOW' },
      Compliance: { Status: 'PASSED' },
    });
    await client.send(
      new BatchImportFindingsCommand({ Findings: [finding('vpc-wf', '2026-11-04T00:00:00Z')] }),
    );
    expect(stored('vpc-wf')?.Workflow?.Status).toBe('NEW');

    await expect(
      client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: 'vpc-wf', ProductArn: PRODUCT_ARN }],
          Workflow: { Status: 'DONE' as never },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidInputException);
  });

  it('GetFindings filters on the fields vecguard uses and pages with NextToken', async () => {
    const generator = 'vecguard/filter-test';
    await client.send(
      new BatchImportFindingsCommand({
        Findings: Array.from({ length: 7 }, (_, i) =>
          finding(`flt-${i}`, '2026-11-02T00:00:00Z', {
            GeneratorId: generator,
            Compliance: { Status: i % 2 === 0 ? 'FAILED' : 'PASSED' },
            RecordState: i === 6 ? 'ARCHIVED' : 'ACTIVE',
          }),
        ),
      }),
    );
    const failedActive = await client.send(
      new GetFindingsCommand({
        Filters: {
          GeneratorId: [{ Value: generator, Comparison: 'EQUALS' }],
          ComplianceStatus: [{ Value: 'FAILED', Comparison: 'EQUALS' }],
          RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
          AwsAccountId: [{ Value: DEFAULT_ACCOUNT_ID, Comparison: 'EQUALS' }],
          ProductArn: [{ Value: PRODUCT_ARN, Comparison: 'EQUALS' }],
          Region: [{ Value: REGION, Comparison: 'EQUALS' }],
        },
      }),
    );
    expect(failedActive.Findings?.map((f) => f.Id)).toEqual(['flt-0', 'flt-2', 'flt-4']);

    const byResource = await client.send(
      new GetFindingsCommand({
        Filters: {
          ResourceId: [
            { Value: `arn:aws:ec2:${REGION}:${DEFAULT_ACCOUNT_ID}:vpc/flt-3`, Comparison: 'EQUALS' },
          ],
        },
      }),
    );
    expect(byResource.Findings?.map((f) => f.Id)).toEqual(['flt-3']);

    const prefixed = await client.send(
      new GetFindingsCommand({
        Filters: {
          Id: [{ Value: 'flt-', Comparison: 'PREFIX' }],
          ComplianceStatus: [{ Value: 'PASSED', Comparison: 'NOT_EQUALS' }],
        },
      }),
    );
    expect(prefixed.Findings?.map((f) => f.Id)).toEqual(['flt-0', 'flt-2', 'flt-4', 'flt-6']);

    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateGetFindings(
      { client, pageSize: 3 },
      { Filters: { GeneratorId: [{ Value: generator, Comparison: 'EQUALS' }] } },
    )) {
      pages++;
      ids.push(...(page.Findings ?? []).map((f) => f.Id ?? ''));
    }
    expect(pages).toBe(3);
    expect(ids).toEqual(['flt-0', 'flt-1', 'flt-2', 'flt-3', 'flt-4', 'flt-5', 'flt-6']);

    await expect(
      client.send(
        new GetFindingsCommand({
          Filters: {
            Id: [
              { Value: 'a', Comparison: 'EQUALS' },
              { Value: 'b', Comparison: 'NOT_EQUALS' },
            ],
          },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidInputException);
    await expect(client.send(new GetFindingsCommand({ MaxResults: 101 }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
  });

  it('keeps accounts apart: a member account sees only its own findings', async () => {
    const member = new SecurityHubClient({
      endpoint: sandbox.url,
      region: REGION,
      credentials: { accessKeyId: 'AKIDMEMBER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    expect((await member.send(new GetFindingsCommand({}))).Findings).toEqual([]);
    const denied = await member
      .send(new BatchImportFindingsCommand({ Findings: [finding('x', '2026-11-02T00:00:00Z')] }))
      .catch((e: unknown) => e);
    expect((denied as Error).message).toBe(
      `User: arn:aws:sts::222222222222:assumed-role/r/s is not authorized to perform: securityhub:BatchImportFindings on resource: ${PRODUCT_ARN}`,
    );
  });

  it('CreateActionTarget returns the custom action ARN and refuses a duplicate Id', async () => {
    const created = await client.send(
      new CreateActionTargetCommand({
        Name: 'Approve enforce',
        Description: 'vecguard approval',
        Id: 'VecguardApprove',
      }),
    );
    expect(created.ActionTargetArn).toBe(
      `arn:aws:securityhub:${REGION}:${DEFAULT_ACCOUNT_ID}:action/custom/VecguardApprove`,
    );
    const described = await client.send(new DescribeActionTargetsCommand({}));
    expect(described.ActionTargets).toEqual([
      { ActionTargetArn: created.ActionTargetArn, Name: 'Approve enforce', Description: 'vecguard approval' },
    ]);
    await expect(
      client.send(new CreateActionTargetCommand({ Name: 'again', Description: 'd', Id: 'VecguardApprove' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    await expect(
      client.send(new CreateActionTargetCommand({ Name: 'x'.repeat(21), Description: 'd', Id: 'Other' })),
    ).rejects.toBeInstanceOf(InvalidInputException);
  });

  it('a disabled hub fails each imported finding with InvalidAccess and refuses reads', async () => {
    hub.setEnabled(DEFAULT_ACCOUNT_ID, REGION, false);
    const result = await client.send(
      new BatchImportFindingsCommand({ Findings: [finding('vpc-off', '2026-11-02T00:00:00Z')] }),
    );
    expect(result.FailedFindings?.[0]).toMatchObject({ Id: 'vpc-off', ErrorCode: 'InvalidAccess' });
    await expect(client.send(new GetFindingsCommand({}))).rejects.toBeInstanceOf(InvalidAccessException);
  });
});
