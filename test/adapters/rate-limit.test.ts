import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ActionRateLimiter,
  type Clock,
  EC2_BUCKETS,
  isReadAction,
  TokenBucket,
} from '../../functions/adapters/rate-limit.ts';

/** A clock whose sleeps advance time instantly: the test measures simulated seconds, not wall time. */
function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('client-side EC2 rate limiting', () => {
  it('classifies EC2 actions the way EC2 buckets them', () => {
    expect(isReadAction('DescribeVpcs')).toBe(true);
    expect(isReadAction('GetVpcResourcesBlockingEncryptionEnforcement')).toBe(true);
    expect(isReadAction('ModifyVpcEncryptionControl')).toBe(false);
    expect(isReadAction('CreateVpcEncryptionControl')).toBe(false);
  });

  it('lets a full bucket burst through, then paces at the refill rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 20 }, clock);
    for (let i = 0; i < 100; i++) await bucket.take();
    expect(clock.t).toBe(0);
    for (let i = 0; i < 20; i++) await bucket.take();
    // 20 more tokens at 20/s take one second of waiting (each wait rounds up to a whole ms).
    expect(clock.t).toBeGreaterThanOrEqual(1000);
    expect(clock.t).toBeLessThanOrEqual(1020);
  });

  it('never hands out more than capacity + refill × elapsed tokens, whatever the demand', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 400 }),
        async (capacity, refill, demand) => {
          const clock = fakeClock();
          const bucket = new TokenBucket({ capacity, refillPerSecond: refill }, clock);
          for (let i = 0; i < demand; i++) await bucket.take();
          const allowed = capacity + (refill * clock.t) / 1000;
          return demand <= allowed + 1e-9 && (demand <= capacity ? clock.t === 0 : true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps one bucket per action, so a busy action does not slow another', async () => {
    const clock = fakeClock();
    const limiter = new ActionRateLimiter({ clock });
    for (let i = 0; i < EC2_BUCKETS.write.capacity; i++) await limiter.acquire('ModifyVpcEncryptionControl');
    await limiter.acquire('CreateVpcEncryptionControl');
    await limiter.acquire('DescribeVpcs');
    expect(clock.t).toBe(0);
    await limiter.acquire('ModifyVpcEncryptionControl');
    expect(clock.t).toBe(200); // one write token at 5 per second
  });

  it('a share of the bucket scales burst and refill for workers that share an account', () => {
    const limiter = new ActionRateLimiter({ share: 0.25 });
    expect(limiter.sizeOf('DescribeVpcs')).toEqual({ capacity: 25, refillPerSecond: 5 });
    expect(limiter.sizeOf('ModifyVpcEncryptionControl')).toEqual({ capacity: 12, refillPerSecond: 1.25 });
    expect(() => new ActionRateLimiter({ share: 0 })).toThrow(/share must be in \(0, 1\]/);
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity ≥ 1/);
  });

  it('serves concurrent waiters in arrival order', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 }, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock.t).toBe(300);
  });
});
