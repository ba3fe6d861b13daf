import { CreateTagsCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SandboxClock } from '../src/clock.ts';
import { isReadAction, Throttle } from '../src/throttle.ts';
import { type Ec2Harness, startEc2Harness } from './ec2-harness.ts';

const key = (action: string, accountId = '111111111111') => ({
  service: 'ec2',
  accountId,
  region: 'us-east-1',
  action,
});

describe('Throttle (token buckets per account, Region and action)', () => {
  test('reads burst 100 then refuse until 20 per second refill', () => {
    const clock = new SandboxClock({ speed: 0 });
    const throttle = new Throttle(clock, { enabled: true });
    const granted = Array.from({ length: 101 }, () => throttle.tryAcquire(key('DescribeVpcs')));
    expect(granted.filter(Boolean)).toHaveLength(100);
    expect(granted[100]).toBe(false);
    clock.advance(100); // 0.1 s → 2 tokens
    expect(throttle.tryAcquire(key('DescribeVpcs'))).toBe(true);
    expect(throttle.tryAcquire(key('DescribeVpcs'))).toBe(true);
    expect(throttle.tryAcquire(key('DescribeVpcs'))).toBe(false);
  });

  test('writes burst 50 and refill 5 per second', () => {
    const clock = new SandboxClock({ speed: 0 });
    const throttle = new Throttle(clock, { enabled: true });
    for (let i = 0; i < 50; i++) {
      expect(throttle.tryAcquire(key('ModifyVpcEncryptionControl'))).toBe(true);
    }
    expect(throttle.tryAcquire(key('ModifyVpcEncryptionControl'))).toBe(false);
    clock.advance(1000);
    expect(throttle.tokens(key('ModifyVpcEncryptionControl'))).toBeCloseTo(5);
  });

  test('each action and each account has its own bucket', () => {
    const throttle = new Throttle(new SandboxClock({ speed: 0 }), {
      enabled: true,
      read: { burst: 1, perSecond: 1 },
    });
    expect(throttle.tryAcquire(key('DescribeVpcs'))).toBe(true);
    expect(throttle.tryAcquire(key('DescribeVpcs'))).toBe(false);
    expect(throttle.tryAcquire(key('DescribeSubnets'))).toBe(true);
    expect(throttle.tryAcquire(key('DescribeVpcs', '222222222222'))).toBe(true);
  });

  test('the speed factor multiplies the refill rate', () => {
    const clock = new SandboxClock({ speed: 0 });
    const throttle = new Throttle(clock, { enabled: true, speed: 10, write: { burst: 1, perSecond: 1 } });
    throttle.tryAcquire(key('CreateTags'));
    clock.advance(100);
    expect(throttle.tryAcquire(key('CreateTags'))).toBe(true);
  });

  test('off by default', () => {
    const throttle = new Throttle(new SandboxClock({ speed: 0 }));
    expect(Array.from({ length: 500 }, () => throttle.tryAcquire(key('DescribeVpcs'))).every(Boolean)).toBe(
      true,
    );
  });

  test('classifies Describe*/Get* as reads and the rest as writes', () => {
    expect(isReadAction('GetVpcResourcesBlockingEncryptionEnforcement')).toBe(true);
    expect(isReadAction('DescribeInstances')).toBe(true);
    expect(isReadAction('ModifyVpcEncryptionControl')).toBe(false);
  });
});

describe('throttling through the real EC2 client', () => {
  let h: Ec2Harness;
  beforeAll(async () => {
    h = await startEc2Harness({
      throttle: { enabled: true, read: { burst: 5, perSecond: 1 }, write: { burst: 2, perSecond: 1 } },
    });
  });
  afterAll(async () => {
    await h.sandbox.stop();
  });

  test('a burst beyond the bucket gets RequestLimitExceeded (503), other actions still pass, time refills', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, () => h.ec2.send(new DescribeVpcsCommand({}))),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(2);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      name: 'RequestLimitExceeded',
      $metadata: { httpStatusCode: 503 },
    });
    await expect(h.ec2.send(new DescribeSubnetsCommand({}))).resolves.toBeDefined();
    h.sandbox.clock.advance(2000);
    await expect(h.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    expect(h.sandbox.calls.query({ errorCode: 'RequestLimitExceeded' })).toHaveLength(2);
  });

  test('write buckets are smaller', async () => {
    const send = () =>
      h.ec2.send(
        new CreateTagsCommand({ Resources: ['vpc-00000000000000000'], Tags: [{ Key: 'a', Value: 'b' }] }),
      );
    const results = await Promise.allSettled([send(), send(), send()]);
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { name: string }).name : 'ok'));
    // The first two reach EC2 (and fail: the VPC does not exist); the third is throttled.
    expect(codes).toEqual(['InvalidVpcID.NotFound', 'InvalidVpcID.NotFound', 'RequestLimitExceeded']);
  });

  test('can be switched off at run time', async () => {
    h.sandbox.throttle.configure({ enabled: false });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => h.ec2.send(new DescribeVpcsCommand({}))),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  });
});
