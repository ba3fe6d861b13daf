/**
 * Client-side token buckets, one per EC2 action, sized from EC2's documented request-rate buckets so that a
 * sweep stays under the limit instead of retrying into it.
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
 *
 * EC2 keeps a bucket per account, Region and action; a limiter here serves one account + Region. When
 * several workers share an account + Region, give each a `share` of the bucket.
 *
 * A token must be spent when the request leaves, not long before: a call that took a token and then waited
 * for a socket (or for a busy event loop) reaches EC2 later, bunched with the ones after it, and can find
 * EC2's bucket empty although this one was not. `run` therefore caps the calls of one action in flight
 * (`maxInFlight`): a call takes a slot, then its token, then goes out at once; and the client bucket holds
 * that many tokens fewer than EC2's, so that tokens in this bucket plus calls on their way never exceed
 * what EC2's bucket holds: with equal refill rates, EC2 never answers RequestLimitExceeded.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface BucketSize {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** EC2's documented buckets (docs/design.md §2): non-mutating and mutating actions. */
export const EC2_BUCKETS: Readonly<Record<'read' | 'write', BucketSize>> = {
  read: { capacity: 100, refillPerSecond: 20 },
  write: { capacity: 50, refillPerSecond: 5 },
};

/** EC2 counts Describe*, Get*, List* and Search* as non-mutating. */
export function isReadAction(action: string): boolean {
  return /^(Describe|Get|List|Search)/.test(action);
}

export class TokenBucket {
  readonly #size: BucketSize;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  /** Serialises waiters so that tokens go out in arrival order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(size: BucketSize, clock: Clock = systemClock) {
    if (!(size.capacity >= 1) || !(size.refillPerSecond > 0)) {
      throw new RangeError(
        `a token bucket needs capacity ≥ 1 and a positive refill, got ${JSON.stringify(size)}`,
      );
    }
    this.#size = size;
    this.#clock = clock;
    this.#tokens = size.capacity;
    this.#updatedAt = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.#size.capacity, this.#tokens + elapsed * this.#size.refillPerSecond);
    this.#updatedAt = now;
  }

  /** Tokens available now (fractional while refilling). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Resolves when a token has been taken; waits for the refill when the bucket is empty. */
  take(): Promise<void> {
    const turn = this.#queue.then(async () => {
      for (;;) {
        this.#refill();
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          return;
        }
        const waitMs = ((1 - this.#tokens) / this.#size.refillPerSecond) * 1000;
        await this.#clock.sleep(Math.ceil(waitMs));
      }
    });
    this.#queue = turn.catch(() => undefined);
    return turn;
  }
}

/** Calls of one action in flight at once, by default; well above refill × latency, so it never slows a sweep. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

/** A counting semaphore; waiters are served in arrival order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

export interface RateLimiterOptions {
  readonly clock?: Clock;
  /** Calls of one action in flight at once (`run`); default DEFAULT_MAX_IN_FLIGHT. */
  readonly maxInFlight?: number;
  /** Fraction of each EC2 bucket this limiter may use (0 < share ≤ 1); for workers sharing an account. */
  readonly share?: number;
  /** Override bucket sizes (tests, or an account with raised limits). */
  readonly buckets?: Partial<Record<'read' | 'write', BucketSize>>;
}

/** One bucket per action, created on first use. */
export class ActionRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #slots = new Map<string, Slots>();
  readonly #clock: Clock;
  readonly #sizes: Record<'read' | 'write', BucketSize>;
  readonly #maxInFlight: number;

  constructor(options: RateLimiterOptions = {}) {
    const share = options.share ?? 1;
    if (!(share > 0 && share <= 1)) throw new RangeError(`share must be in (0, 1], got ${share}`);
    this.#clock = options.clock ?? systemClock;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!(Number.isInteger(this.#maxInFlight) && this.#maxInFlight >= 1)) {
      throw new RangeError(`maxInFlight must be a whole number ≥ 1, got ${this.#maxInFlight}`);
    }
    const scale = (b: BucketSize): BucketSize => ({
      capacity: Math.max(1, Math.floor(b.capacity * share)),
      refillPerSecond: b.refillPerSecond * share,
    });
    this.#sizes = {
      read: scale(options.buckets?.read ?? EC2_BUCKETS.read),
      write: scale(options.buckets?.write ?? EC2_BUCKETS.write),
    };
  }

  /** The share of EC2's bucket this limiter stays within. */
  sizeOf(action: string): BucketSize {
    return this.#sizes[isReadAction(action) ? 'read' : 'write'];
  }

  /** Calls of the action in flight at once: `maxInFlight`, at most half of the bucket. */
  inFlightOf(action: string): number {
    return Math.min(this.#maxInFlight, Math.max(1, Math.floor(this.sizeOf(action).capacity / 2)));
  }

  /** Tokens a full client bucket hands out at once: EC2's burst less the calls that may be on their way. */
  burstOf(action: string): number {
    return Math.max(1, this.sizeOf(action).capacity - this.inFlightOf(action));
  }

  acquire(action: string): Promise<void> {
    let bucket = this.#buckets.get(action);
    if (!bucket) {
      bucket = new TokenBucket(
        { capacity: this.burstOf(action), refillPerSecond: this.sizeOf(action).refillPerSecond },
        this.#clock,
      );
      this.#buckets.set(action, bucket);
    }
    return bucket.take();
  }

  /**
   * Sends one call of `action`: waits for one of the action's in-flight slots, then for a token, then sends
   * at once; the slot is freed when the call ends (whatever its outcome).
   */
  async run<T>(action: string, send: () => Promise<T>): Promise<T> {
    let slots = this.#slots.get(action);
    if (!slots) {
      slots = new Slots(this.inFlightOf(action));
      this.#slots.set(action, slots);
    }
    await slots.take();
    try {
      await this.acquire(action);
      return await send();
    } finally {
      slots.release();
    }
  }
}
