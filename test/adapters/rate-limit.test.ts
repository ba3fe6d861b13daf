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
    const burst = limiter.burstOf('ModifyVpcEncryptionControl');
    for (let i = 0; i < burst; i++) await limiter.acquire('ModifyVpcEncryptionControl');
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

  it('keeps room in the client bucket for the calls that may be on their way', () => {
    const limiter = new ActionRateLimiter({ maxInFlight: 8 });
    expect(limiter.inFlightOf('DescribeVpcs')).toBe(8);
    expect(limiter.burstOf('DescribeVpcs')).toBe(EC2_BUCKETS.read.capacity - 8);
    expect(limiter.burstOf('ModifyVpcEncryptionControl')).toBe(EC2_BUCKETS.write.capacity - 8);
    // A small share never gives more than half its bucket to calls in flight.
    const small = new ActionRateLimiter({ share: 0.05, maxInFlight: 8 });
    expect(small.sizeOf('ModifyVpcEncryptionControl').capacity).toBe(2);
    expect(small.inFlightOf('ModifyVpcEncryptionControl')).toBe(1);
    expect(small.burstOf('ModifyVpcEncryptionControl')).toBe(1);
    expect(() => new ActionRateLimiter({ maxInFlight: 0 })).toThrow(/maxInFlight/);
  });

  it('run caps the calls of one action in flight, not those of another', async () => {
    const clock = fakeClock();
    const limiter = new ActionRateLimiter({ clock, maxInFlight: 3 });
    let inFlight = 0;
    let most = 0;
    const answers: (() => void)[] = [];
    const call = () =>
      new Promise<void>((resolve) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        answers.push(() => {
          inFlight -= 1;
          resolve();
        });
      });
    const calls = Array.from({ length: 10 }, () => limiter.run('DescribeVpcs', call));
    await new Promise((r) => setTimeout(r, 0));
    expect(inFlight).toBe(3);
    // Another action is not held up by the busy one.
    await limiter.run('DescribeSubnets', async () => undefined);
    while (answers.length > 0) {
      answers.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(calls);
    expect(most).toBe(3);
  });

  it('run frees the slot when the call fails', async () => {
    const limiter = new ActionRateLimiter({ clock: fakeClock(), maxInFlight: 1 });
    await expect(
      limiter.run('DescribeVpcs', async () => {
        throw new Error('RequestLimitExceeded');
      }),
    ).rejects.toThrow('RequestLimitExceeded');
    await expect(limiter.run('DescribeVpcs', async () => 'next')).resolves.toBe('next');
  });

  it('EC2 never refuses a call, however late calls arrive', async () => {
    // A discrete-event simulation: EC2's bucket and the client's refill at the same rate on one clock; each
    // call reaches EC2 after its own delay and holds its slot until then. Time moves only from event to event.
    await fc.assert(
      fc.asyncProperty(
        // Mostly instant calls, some held up for up to 10 s (a busy event loop, a slow network).
        fc.array(
          fc.oneof(
            { weight: 19, arbitrary: fc.constant(0) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 10_000 }) },
          ),
          { minLength: 60, maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 12 }),
        async (delays, maxInFlight) => {
          const events: { at: number; seq: number; fire: () => void }[] = [];
          let seq = 0;
          const at = (ms: number, fire: () => void) => events.push({ at: clock.t + ms, seq: seq++, fire });
          const clock: Clock & { t: number } = {
            t: 0,
            now: () => clock.t,
            sleep: (ms) => new Promise<void>((resolve) => at(ms, resolve)),
          };
          const size = { capacity: 30, refillPerSecond: 10 };
          const limiter = new ActionRateLimiter({ clock, maxInFlight, buckets: { read: size } });
          let ec2Tokens = size.capacity;
          let ec2At = 0;
          let refused = 0;
          const arrive = () => {
            ec2Tokens = Math.min(
              size.capacity,
              ec2Tokens + ((clock.t - ec2At) / 1000) * size.refillPerSecond,
            );
            ec2At = clock.t;
            if (ec2Tokens >= 1 - 1e-9) ec2Tokens -= 1;
            else refused += 1;
          };
          let done = 0;
          for (const delay of delays) {
            void limiter
              .run('DescribeVpcs', () => new Promise<void>((resolve) => at(delay, resolve)).then(arrive))
              .then(() => {
                done += 1;
              });
          }
          const settle = () => new Promise((r) => setImmediate(r));
          while (done < delays.length) {
            await settle();
            events.sort((a, b) => a.at - b.at || a.seq - b.seq);
            const next = events.shift();
            if (!next) break;
            clock.t = next.at;
            next.fire();
          }
          return done === delays.length && refused === 0;
        },
      ),
      { numRuns: 100 },
    );
  });
});
