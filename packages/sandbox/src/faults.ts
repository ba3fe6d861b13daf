/**
 * Injected faults: errors and latency per service/action, so retries, back-off and partial failure are
 * exercised against the real SDK clients. Rules are matched in the order they were added; the first rule
 * whose scope matches decides. Randomness is seeded so a failing test replays identically.
 *
 * State-level faults (a VPC's next transition fails, drift behind the product's back) live with the EC2
 * store (`Ec2Emulator.failNextTransition`, `Ec2Emulator.drift`), because they change resources.
 */
import { z } from 'zod';
import type { SandboxError } from './service.ts';

export const FaultRuleInputSchema = z
  .object({
    /** Signing name (`ec2`); every service when absent. */
    service: z.string().min(1).optional(),
    /** Action name (`ModifyVpcEncryptionControl`); every action when absent. */
    action: z.string().min(1).optional(),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
    /** Error code to answer with, e.g. `RequestLimitExceeded`, `InternalError`, `Unavailable`. */
    errorCode: z.string().min(1).optional(),
    errorMessage: z.string().optional(),
    /** HTTP status; derived from the code when absent (503 throttling/unavailable, 500 internal, else 400). */
    status: z.number().int().min(400).max(599).optional(),
    /** Probability that a matching call fails, 0..1. Default 1 when `errorCode` is set. */
    errorRate: z.number().min(0).max(1).optional(),
    /** Real milliseconds to wait before answering (applies to every matching call). */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    /** The rule expires after matching this many calls. */
    times: z.number().int().positive().optional(),
    /**
     * Arm the rule only after the first successful call matching this (a dry run does not count): "DynamoDB
     * fails from the first real change on" without knowing when that change comes. Unarmed, it matches nothing.
     */
    after: z
      .object({
        service: z.string().min(1),
        action: z.string().min(1).optional(),
        /** Only a call that changes something (`true`) or only a read (`false`); either when absent. */
        mutating: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .refine((rule) => rule.errorCode !== undefined || rule.latencyMs !== undefined, {
    message: 'a fault needs errorCode and/or latencyMs',
  });
export type FaultRuleInput = z.infer<typeof FaultRuleInputSchema>;

export interface FaultRule extends FaultRuleInput {
  readonly id: string;
  /** Calls this rule has matched so far. */
  matched: number;
  /** False until a call matching `after` succeeded; true from the start for a rule without `after`. */
  armed: boolean;
}

/** A call the sandbox answered, as `after` sees it. */
export interface ObservedCall {
  readonly service: string;
  readonly action: string;
  readonly mutating: boolean;
  readonly dryRun: boolean;
  readonly status: number;
}

export interface FaultScope {
  readonly service: string;
  readonly action: string;
  readonly accountId: string;
  readonly region: string;
}

export interface FaultDecision {
  readonly latencyMs: number;
  readonly error?: SandboxError;
}

export function statusForCode(code: string): number {
  if (/^(RequestLimitExceeded|Throttling|ThrottlingException|Unavailable|ServiceUnavailable)/.test(code)) {
    return 503;
  }
  if (/^(InternalError|InternalFailure|InternalServerError|ServerInternal)/.test(code)) {
    return 500;
  }
  return 400;
}

export class FaultInjector {
  private readonly rules: FaultRule[] = [];
  private nextId = 1;
  private random: () => number;

  constructor(seed = 42) {
    this.random = mulberry32(seed);
  }

  add(input: FaultRuleInput): FaultRule {
    const parsed = FaultRuleInputSchema.parse(input);
    const rule: FaultRule = {
      ...parsed,
      id: `fault-${this.nextId++}`,
      matched: 0,
      armed: parsed.after === undefined,
    };
    this.rules.push(rule);
    return rule;
  }

  remove(id: string): boolean {
    const index = this.rules.findIndex((rule) => rule.id === id);
    if (index < 0) {
      return false;
    }
    this.rules.splice(index, 1);
    return true;
  }

  clear(): void {
    this.rules.length = 0;
  }

  reseed(seed: number): void {
    this.random = mulberry32(seed);
  }

  list(): readonly FaultRule[] {
    return this.rules;
  }

  /** Arms the rules waiting for a successful call like this one (see `after`). */
  observe(call: ObservedCall): void {
    if (call.status >= 300 || call.dryRun) return;
    for (const rule of this.rules) {
      const after = rule.after;
      if (rule.armed || after === undefined) continue;
      rule.armed =
        after.service === call.service &&
        (after.action === undefined || after.action === call.action) &&
        (after.mutating === undefined || after.mutating === call.mutating);
    }
  }

  /** What to do with one call; `undefined` when no rule matches (the common, fast path). */
  decide(scope: FaultScope): FaultDecision | undefined {
    if (this.rules.length === 0) {
      return undefined;
    }
    const index = this.rules.findIndex((rule) => matches(rule, scope));
    const rule = this.rules[index];
    if (rule === undefined) {
      return undefined;
    }
    rule.matched += 1;
    if (rule.times !== undefined && rule.matched >= rule.times) {
      this.rules.splice(index, 1);
    }
    const latencyMs = rule.latencyMs ?? 0;
    if (rule.errorCode === undefined || this.random() >= (rule.errorRate ?? 1)) {
      return { latencyMs };
    }
    return {
      latencyMs,
      error: {
        status: rule.status ?? statusForCode(rule.errorCode),
        code: rule.errorCode,
        message: rule.errorMessage ?? `Injected fault (${rule.id}) for ${scope.service}:${scope.action}.`,
      },
    };
  }
}

function matches(rule: FaultRule, scope: FaultScope): boolean {
  return (
    rule.armed &&
    (rule.service === undefined || rule.service === scope.service) &&
    (rule.action === undefined || rule.action === scope.action) &&
    (rule.accountId === undefined || rule.accountId === scope.accountId) &&
    (rule.region === undefined || rule.region === scope.region)
  );
}

/** Small seeded PRNG (public-domain mulberry32); quality is ample for fault rates. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
