/**
 * Properties of the run summary over wide audit logs: any number of actions, each tried any number of times
 * with any outcomes, the tries interleaved at random and read in any order. `failed` counts the actions whose
 * last attempt failed and `failedAttempts` every failed attempt; the summary does not depend on the order
 * the log was read in (the log's own order is time, then action id); every attempt shows once, under its VPC.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActionOutcome, ActionOutcomeSchema } from '../../functions/domain/action-kinds.ts';
import { audit } from '../../functions/domain/audit.ts';
import { plan } from '../../functions/domain/planner.ts';
import {
  type ActionAttempt,
  countActionOutcomes,
  type RunRecord,
  summariseRun,
} from '../../functions/domain/run-summary.ts';
import {
  ACCOUNT_ID,
  attempt,
  blocker,
  control,
  gateway,
  policy,
  REGION,
  RUN_ID,
  secondsAfter,
  snapshot,
  vpc,
} from './fixtures.ts';

const OUTCOMES = ActionOutcomeSchema.options;
const MAX_TRIES = 6;

interface AttemptLog {
  /** Each action's outcomes, in the order it was tried. */
  readonly sequences: ReadonlyMap<string, readonly ActionOutcome[]>;
  /** The same attempts as the log holds them (time order). */
  readonly attempts: readonly ActionAttempt[];
  /** The same attempts in the order a reader got them. */
  readonly read: readonly ActionAttempt[];
}

/**
 * Attempts at `actionIds`: each action its own sequence of outcomes, the sequences interleaved at random
 * (each keeps its order) with rising times. Two actions may end in the same second; one action never twice
 * in the same second (the log's key is time + action id). Then read back in a random order.
 */
function arbLog(actionIds: readonly string[]): fc.Arbitrary<AttemptLog> {
  const steps = actionIds.length * MAX_TRIES;
  return fc
    .record({
      sequences: fc.array(fc.array(fc.constantFrom(...OUTCOMES), { maxLength: MAX_TRIES }), {
        minLength: actionIds.length,
        maxLength: actionIds.length,
      }),
      picks: fc.array(fc.nat(), { minLength: steps, maxLength: steps }),
      nextSecond: fc.array(fc.boolean(), { minLength: steps, maxLength: steps }),
    })
    .map(({ sequences, picks, nextSecond }) => {
      const queues = actionIds.map((id, i) => ({ id, outcomes: [...(sequences[i] ?? [])] }));
      const attempts: ActionAttempt[] = [];
      let second = 0;
      let endedThisSecond = new Set<string>();
      for (let step = 0; ; step++) {
        const open = queues.filter((q) => q.outcomes.length > 0);
        const q = open[(picks[step] ?? 0) % Math.max(open.length, 1)];
        const outcome = q?.outcomes.shift();
        if (!q || !outcome) break;
        if (nextSecond[step] || endedThisSecond.has(q.id)) {
          second++;
          endedThisSecond = new Set();
        }
        endedThisSecond.add(q.id);
        attempts.push(attempt(q.id, outcome, secondsAfter(second)));
      }
      return { sequences: new Map(actionIds.map((id, i) => [id, sequences[i] ?? []])), attempts };
    })
    .chain((log) =>
      fc
        .shuffledSubarray([...log.attempts], {
          minLength: log.attempts.length,
          maxLength: log.attempts.length,
        })
        .map((read) => ({ ...log, read })),
    );
}

const arbActionIds = fc
  .uniqueArray(fc.integer({ min: 0, max: 999 }), { maxLength: 8 })
  .map((ns) => ns.map((n) => `move-instance:i-${n.toString(16).padStart(8, '0')}`));

describe('action counts', () => {
  it('failed is the number of actions whose last attempt failed; failedAttempts every failed attempt', () => {
    fc.assert(
      fc.property(arbActionIds.chain(arbLog), ({ sequences, read }) => {
        const counts = countActionOutcomes(read);
        const all = [...sequences.values()];
        const attemptsWith = (outcome: ActionOutcome) => all.flat().filter((o) => o === outcome).length;
        expect(counts.failed).toBe(all.filter((s) => s.at(-1) === 'failed').length);
        expect(counts.failedAttempts).toBe(attemptsWith('failed'));
        expect(counts.failed).toBeLessThanOrEqual(counts.failedAttempts);
        expect([counts.applied, counts.dryRun, counts.alreadySo, counts.refused]).toEqual([
          attemptsWith('applied'),
          attemptsWith('dry-run'),
          attemptsWith('already-so'),
          attemptsWith('refused'),
        ]);
      }),
    );
  });
});

// An estate with a plan for the actions to come from: vpc-a ready to enforce, vpc-b blocked (guidance),
// vpc-c without a control.
const POLICY = policy();
const START = snapshot({
  vpcs: [
    vpc('vpc-a', { control: control('monitor'), tags: { Name: 'payments' } }),
    vpc('vpc-b', { control: control('monitor'), blockers: [blocker('igw-1')] }),
    vpc('vpc-c'),
  ],
  gateways: [gateway('igw-1', 'vpc-b')],
});
const AUDIT = audit(START, POLICY);
const PLAN = plan(AUDIT, START, POLICY);
const PLANNED = PLAN.actions.filter((a) => a.kind !== 'manual-guidance').map((a) => a.id);
/** Actions on the estate's VPCs, planned and not (an action from an earlier run's plan), and elsewhere. */
const ON_VPCS = [...PLANNED, 'enable-exclusion:vpc-a', 'enable-exclusion:vpc-b'];
const ELSEWHERE = ['move-instance:i-0000gone'];

function record(attempts: readonly ActionAttempt[]): RunRecord {
  return {
    scope: { runId: RUN_ID, accountId: ACCOUNT_ID, region: REGION },
    dryRun: false,
    iterations: 1,
    finishedAt: secondsAfter(3600),
    audits: [AUDIT],
    final: { audit: AUDIT, snapshot: START, fresh: false },
    plans: [PLAN],
    attempts,
    approvals: [],
    findings: null,
  };
}

/** Some of the actions, tried as `arbLog` tries them, with another run's attempts (earlier) mixed in. */
function arbRunLog(pool: readonly string[]) {
  return fc.tuple(fc.subarray([...pool]), fc.subarray([...pool])).chain(([ours, theirs]) =>
    arbLog(ours).chain((log) => {
      const other = theirs.map((id, i) =>
        attempt(id, 'failed', secondsAfter(-100 - i), { runId: 'run-other' }),
      );
      const all = [...log.attempts, ...other];
      return fc
        .shuffledSubarray(all, { minLength: all.length, maxLength: all.length })
        .map((read) => ({ ...log, read }));
    }),
  );
}

describe('summariseRun', () => {
  it('gives the same summary whatever order the audit log was read in', () => {
    expect(PLANNED.length).toBeGreaterThan(1);
    fc.assert(
      fc.property(arbRunLog([...ON_VPCS, ...ELSEWHERE]), ({ attempts, read }) => {
        expect(summariseRun(record(read))).toEqual(summariseRun(record(attempts)));
      }),
    );
  });

  it('shows every attempt of the run once, under its VPC, and one reason per action whose last attempt failed', () => {
    fc.assert(
      fc.property(arbRunLog(ON_VPCS), ({ sequences, attempts, read }) => {
        const s = summariseRun(record(read));
        expect(s.vpcs.flatMap((v) => v.actions)).toHaveLength(attempts.length);
        const reasons = s.vpcs.flatMap((v) => v.remaining.filter((r) => r.startsWith('Could not ')));
        expect(reasons).toHaveLength(s.actions.failed);
        expect(s.actions.failed).toBe([...sequences.values()].filter((o) => o.at(-1) === 'failed').length);
        for (const v of s.vpcs) {
          const ownFailures = v.remaining.filter((r) => r.startsWith('Could not '));
          // What failed last comes before the audit's reasons.
          expect(v.remaining.slice(0, ownFailures.length)).toEqual(ownFailures);
        }
      }),
    );
  });
});
