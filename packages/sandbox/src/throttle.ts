/**
 * EC2-style API throttling: one token bucket per account, Region **and action**.
 *
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html — request rate limiting uses a
 * token bucket per action (and account, Region). Non-mutating actions (Describe*, Get*) get a larger
 * bucket than mutating ones. The defaults follow that page's figures for the two categories vecguard
 * touches: reads 100 burst / 20 per second, writes 50 burst / 5 per second. Off by default.
 */
import type { SandboxClock } from './clock.ts';
import { isReadAction } from './service.ts';

export interface BucketSize {
  /** Bucket capacity (maximum burst). */
  readonly burst: number;
  /** Tokens added per second of sandbox time. */
  readonly perSecond: number;
}

export interface ThrottleSettings {
  readonly enabled: boolean;
  /** Multiplies the refill rate (2 = buckets refill twice as fast). Default 1. */
  readonly speed: number;
  readonly read: BucketSize;
  readonly write: BucketSize;
  /** Services that are throttled; EC2 only by default (the service whose documented limits clients most often pace themselves to). */
  readonly services: readonly string[];
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  enabled: false,
  speed: 1,
  read: { burst: 100, perSecond: 20 },
  write: { burst: 50, perSecond: 5 },
  services: ['ec2'],
};

export { isReadAction };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface ThrottleKey {
  readonly service: string;
  readonly accountId: string;
  readonly region: string;
  readonly action: string;
}

export class Throttle {
  private readonly clock: SandboxClock;
  private current: ThrottleSettings;
  private readonly buckets = new Map<string, Bucket>();

  constructor(clock: SandboxClock, settings: Partial<ThrottleSettings> = {}) {
    this.clock = clock;
    this.current = { ...DEFAULT_THROTTLE, ...settings };
  }

  get settings(): ThrottleSettings {
    return this.current;
  }

  /** Changes settings; buckets restart full when sizes change. */
  configure(settings: Partial<ThrottleSettings>): ThrottleSettings {
    this.current = { ...this.current, ...settings };
    if (settings.read !== undefined || settings.write !== undefined) {
      this.buckets.clear();
    }
    return this.current;
  }

  reset(): void {
    this.buckets.clear();
  }

  /** Takes one token; `false` means the caller must answer RequestLimitExceeded. */
  tryAcquire(key: ThrottleKey): boolean {
    const settings = this.current;
    if (!settings.enabled || !settings.services.includes(key.service)) {
      return true;
    }
    const size = isReadAction(key.action) ? settings.read : settings.write;
    const id = `${key.service}|${key.accountId}|${key.region}|${key.action}`;
    const now = this.clock.now();
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      bucket = { tokens: size.burst, updatedAt: now };
      this.buckets.set(id, bucket);
    } else {
      const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
      bucket.tokens = Math.min(size.burst, bucket.tokens + elapsedSeconds * size.perSecond * settings.speed);
      bucket.updatedAt = now;
    }
    if (bucket.tokens < 1) {
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  /** Tokens left in one bucket (full when never used); for tests and the control API. */
  tokens(key: ThrottleKey): number {
    const size = isReadAction(key.action) ? this.current.read : this.current.write;
    const bucket = this.buckets.get(`${key.service}|${key.accountId}|${key.region}|${key.action}`);
    if (bucket === undefined) {
      return size.burst;
    }
    const elapsedSeconds = Math.max(0, this.clock.now() - bucket.updatedAt) / 1000;
    return Math.min(size.burst, bucket.tokens + elapsedSeconds * size.perSecond * this.current.speed);
  }
}
