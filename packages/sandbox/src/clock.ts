/**
 * The sandbox's notion of time.
 *
 * Everything that takes time in AWS (a control going monitor → enforce, an exclusion enabling, an
 * instance stopping, token buckets refilling) is measured on this clock, never on `Date.now()`, so that
 * tests move time by hand (`speed: 0` plus `advance(ms)`) and demos compress minutes into seconds
 * (`speed: 60`). State is settled lazily on the next request, so no timers run.
 */

export interface ClockOptions {
  /** Epoch milliseconds the clock starts at. Default: the real time at creation. */
  readonly startAt?: number;
  /** Sandbox milliseconds per real millisecond; 0 = time only moves with `advance`. Default 1. */
  readonly speed?: number;
}

export class SandboxClock {
  private base: number;
  private anchor: number;
  private rate: number;

  constructor(options: ClockOptions = {}) {
    this.base = options.startAt ?? Date.now();
    this.anchor = performance.now();
    this.rate = checkSpeed(options.speed ?? 1);
  }

  /** Current sandbox time in epoch milliseconds. */
  now(): number {
    return this.rate === 0 ? this.base : this.base + (performance.now() - this.anchor) * this.rate;
  }

  get speed(): number {
    return this.rate;
  }

  set speed(speed: number) {
    this.base = this.now();
    this.anchor = performance.now();
    this.rate = checkSpeed(speed);
  }

  /** Moves sandbox time forward (never backward). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    }
    this.base += ms;
    return this.now();
  }
}

function checkSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < 0) {
    throw new RangeError(`clock speed must be a finite number >= 0, got ${speed}`);
  }
  return speed;
}
