import {
  CreateVpcCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcEncryptionControlsCommand,
  DescribeVpcsCommand,
  paginateDescribeVpcs,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ec2Operation, parseForm, readQueryInput, toQueryTree } from '../src/query-protocol.ts';
import { type Ec2Harness, startEc2Harness } from './ec2-harness.ts';

describe('query protocol parsing', () => {
  const read = (action: string, body: string) => {
    const op = ec2Operation(action);
    if (op === undefined) {
      throw new Error(action);
    }
    return readQueryInput(op.input, toQueryTree(parseForm(body)));
  };

  test('reads lists, nested structures and typed leaves the way the SDK writes them', () => {
    expect(
      read(
        'DescribeVpcEncryptionControls',
        'Action=DescribeVpcEncryptionControls&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=a&Filter.1.Value.2=b%20c&VpcId.2=vpc-2&VpcId.1=vpc-1&MaxResults=5&DryRun=false',
      ),
    ).toEqual({
      Filters: [{ Name: 'vpc-id', Values: ['a', 'b c'] }],
      VpcIds: ['vpc-1', 'vpc-2'],
      MaxResults: 5,
      DryRun: false,
    });
  });

  test('uses ec2QueryName keys (TagSpecification.N.Tag.M, VpcEncryptionControl.Mode)', () => {
    expect(
      read(
        'CreateVpc',
        'CidrBlock=10.0.0.0%2F16&VpcEncryptionControl.Mode=enforce&VpcEncryptionControl.LambdaExclusion=enable&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=x',
      ),
    ).toEqual({
      CidrBlock: '10.0.0.0/16',
      VpcEncryptionControl: { Mode: 'enforce', LambdaExclusion: 'enable' },
      TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'x' }] }],
    });
  });

  test('refuses a non-boolean where a boolean belongs', () => {
    expect(() => read('DescribeVpcs', 'DryRun=maybe')).toThrow(/DryRun must be true or false/);
  });
});

describe('EC2 protocol through the real client', () => {
  let h: Ec2Harness;
  beforeAll(async () => {
    h = await startEc2Harness();
    for (let i = 0; i < 12; i++) {
      await h.ec2.send(
        new CreateVpcCommand({
          CidrBlock: `10.${i}.0.0/16`,
          TagSpecifications: [
            { ResourceType: 'vpc', Tags: [{ Key: 'team', Value: i % 2 === 0 ? 'even' : 'odd' }] },
          ],
        }),
      );
    }
  });
  afterAll(async () => {
    await h.sandbox.stop();
  });

  test('an unknown action is InvalidAction (400)', async () => {
    const response = await fetch(h.sandbox.url, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${h.sandbox.clientCredentials.accessKeyId}/20261124/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'Action=LaunchRockets&Version=2016-11-15',
    });
    expect(response.status).toBe(400);
    const xml = await response.text();
    expect(xml).toContain('<Code>InvalidAction</Code>');
    expect(xml).toMatch(/<RequestID>[0-9a-f-]{36}<\/RequestID>/);
  });

  test('pages with MaxResults/NextToken until every VPC was seen once', async () => {
    const seen: string[] = [];
    for await (const page of paginateDescribeVpcs({ client: h.ec2, pageSize: 5 }, {})) {
      expect(page.Vpcs?.length).toBeLessThanOrEqual(5);
      seen.push(...(page.Vpcs ?? []).map((v) => v.VpcId as string));
    }
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  test('MaxResults outside EC2 bounds is InvalidParameterValue', async () => {
    await expect(
      h.ec2.send(new DescribeVpcEncryptionControlsCommand({ MaxResults: 4 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    await expect(
      h.ec2.send(new DescribeVpcEncryptionControlsCommand({ MaxResults: 1001 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    await expect(h.ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 101 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  test('a forged NextToken is refused', async () => {
    await expect(h.ec2.send(new DescribeVpcsCommand({ NextToken: 'not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidPaginationToken',
    });
  });

  test('tag filters: tag:Key, tag-key, wildcards', async () => {
    const byValue = await h.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:team', Values: ['odd'] }] }),
    );
    expect(byValue.Vpcs).toHaveLength(6);
    const byKey = await h.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: ['team'] }] }),
    );
    expect(byKey.Vpcs).toHaveLength(12);
    const wildcard = await h.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.1?.*'] }] }),
    );
    expect(wildcard.Vpcs?.map((v) => v.CidrBlock).sort()).toEqual(['10.10.0.0/16', '10.11.0.0/16']);
  });

  test('an unknown filter name is InvalidParameterValue', async () => {
    await expect(
      h.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  test('DryRun on a write answers DryRunOperation and changes nothing', async () => {
    const before = (await h.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.length;
    await expect(
      h.ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16', DryRun: true })),
    ).rejects.toMatchObject({
      name: 'DryRunOperation',
      $metadata: { httpStatusCode: 412 },
    });
    expect((await h.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.length).toBe(before);
  });

  test('DryRun still validates first: an invalid request is not "would have succeeded"', async () => {
    await expect(
      h.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/8', DryRun: true })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  test('a missing required parameter is MissingParameter', async () => {
    await expect(h.ec2.send(new CreateVpcCommand({}))).rejects.toMatchObject({ name: 'MissingParameter' });
  });

  test('an injected InternalError is a 500 the client surfaces', async () => {
    h.sandbox.faults.add({ service: 'ec2', action: 'DescribeVpcs', errorCode: 'InternalError', times: 1 });
    await expect(h.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: 'InternalError',
      $metadata: { httpStatusCode: 500 },
    });
    await expect(h.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
  });

  test('an error rate fails roughly that share of calls, reproducibly', async () => {
    h.sandbox.faults.reseed(7);
    const rule = h.sandbox.faults.add({
      service: 'ec2',
      action: 'DescribeVpcs',
      errorCode: 'Unavailable',
      errorRate: 0.5,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => h.ec2.send(new DescribeVpcsCommand({}))),
    );
    h.sandbox.faults.remove(rule.id);
    const failed = results.filter((r) => r.status === 'rejected').length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });

  test('a rule with `after` waits for the first successful matching call, then fails what it names', async () => {
    const rule = h.sandbox.faults.add({
      service: 'ec2',
      action: 'DescribeVpcs',
      errorCode: 'InternalError',
      after: { service: 'ec2', mutating: true },
    });
    try {
      // Reads and dry runs do not arm it: only a call that changed something does.
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
      await expect(
        h.ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16', DryRun: true })),
      ).rejects.toMatchObject({ name: 'DryRunOperation' });
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
      await h.ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: 'InternalError' });
      await expect(h.ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: 'InternalError' });
    } finally {
      h.sandbox.faults.remove(rule.id);
    }
  });

  test('injected latency delays the answer', async () => {
    const rule = h.sandbox.faults.add({ service: 'ec2', action: 'DescribeVpcs', latencyMs: 120 });
    const started = performance.now();
    await h.ec2.send(new DescribeVpcsCommand({}));
    h.sandbox.faults.remove(rule.id);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });
});
