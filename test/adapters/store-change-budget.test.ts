import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyBudget, type BudgetOwner, ChangeBudgetStore } from '#adapters/store/change-budget.ts';
import { type StoreHarness, startStoreSandbox } from './store-harness.ts';

const ACCOUNT = '111111111111';
let unique = 0;
/** A run of its own per case: the counters of one case never see another's. */
const owner = (sweepId: string | null, region = 'us-east-1'): BudgetOwner => ({
  run: { runId: `run-${++unique}`, accountId: ACCOUNT, region },
  sweepId,
});

describe('ChangeBudgetStore against the sandbox DynamoDB', () => {
  let h: StoreHarness;
  let budget: ChangeBudgetStore;

  beforeAll(async () => {
    h = await startStoreSandbox();
    budget = new ChangeBudgetStore(h.table);
  });
  afterAll(() => h.stop());

  it('lets a run make at most its cap of changes, however many reservations race for them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 25 }), async (cap, n) => {
        const run = owner(null);
        const answers = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            budget.reserve(run, `action-${i}`, { perRun: cap, perSweep: 0 }),
          ),
        );
        const reserved = answers.filter((a) => a.reserved).length;
        expect(reserved).toBe(Math.min(cap, n));
        expect(answers.filter((a) => !a.reserved).every((a) => !a.reserved && a.cap === 'run')).toBe(true);
        expect((await budget.used(run)).run).toBe(Math.min(cap, n));
      }),
      { numRuns: 15 },
    );
  });

  it('holds a sweep to its cap across the parallel runs of its scopes, and gives the runs back what it refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        async (sweepCap, scopes, perScope) => {
          const sweepId = `sweep-${++unique}`;
          const runs = Array.from({ length: scopes }, (_, i) => owner(sweepId, `eu-west-${i + 1}`));
          const caps = { perRun: 4, perSweep: sweepCap };
          const answers = await Promise.all(
            runs.flatMap((run) =>
              Array.from({ length: perScope }, (_, i) => budget.reserve(run, `action-${i}`, caps)),
            ),
          );
          const reserved = answers.filter((a) => a.reserved).length;
          expect(reserved).toBe(Math.min(sweepCap, scopes * Math.min(4, perScope)));
          const used = await Promise.all(runs.map((r) => budget.used(r)));
          expect(used[0]?.sweep).toBe(reserved);
          // A run holds exactly the changes it may make: a refusal by the sweep left nothing behind.
          expect(used.reduce((sum, u) => sum + u.run, 0)).toBe(reserved);
          expect(used.every((u) => u.run <= caps.perRun)).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('counts a change once however often it is reserved (a retried Apply), and refuses everything under a cap of 0', async () => {
    const run = owner(null);
    const caps = { perRun: 1, perSweep: 0 };
    expect(await budget.reserve(run, 'a', caps)).toEqual({
      reserved: true,
      fresh: { run: true, sweep: false },
    });
    expect(await budget.reserve(run, 'a', caps)).toEqual({
      reserved: true,
      fresh: { run: false, sweep: false },
    });
    expect(await budget.reserve(run, 'b', caps)).toEqual({ reserved: false, cap: 'run' });
    expect((await budget.used(run)).run).toBe(1);
    expect(await budget.reserve(owner(null), 'a', { perRun: 0, perSweep: 0 })).toEqual({
      reserved: false,
      cap: 'run',
    });
  });

  it('gives back a reservation whose action made no mutating call, keeps one that did, and notes what it held back', async () => {
    const run = owner('sweep-apply');
    let calls = 0;
    const apply = new ApplyBudget(
      budget,
      run,
      { perRun: 2, perSweep: 10 },
      { dryRun: false, mutatingCalls: () => calls },
    );
    expect(await apply.admit({ id: 'already-so', mutating: true })).toBe(true);
    // no call: the action found its change already made
    expect(await apply.admit({ id: 'made', mutating: true })).toBe(true);
    calls += 1;
    expect(await apply.admit({ id: 'guidance', mutating: false })).toBe(true);
    expect(await apply.admit({ id: 'second', mutating: true })).toBe(true);
    calls += 1;
    expect(await apply.admit({ id: 'third', mutating: true })).toBe(false);
    await apply.settle();
    expect(await budget.used(run)).toEqual({ run: 2, sweep: 2 });
    expect(await budget.ofRun(run)).toEqual({ changes: ['made', 'second'], heldBack: ['third'] });
    expect(apply.heldBack).toEqual([{ actionId: 'third', cap: 'run' }]);
  });

  it('never takes back a change an earlier try made, when a retry finds it already so', async () => {
    const run = owner(null);
    await budget.reserve(run, 'made-before', { perRun: 3, perSweep: 0 });
    const retry = new ApplyBudget(
      budget,
      run,
      { perRun: 3, perSweep: 0 },
      { dryRun: false, mutatingCalls: () => 0 },
    );
    expect(await retry.admit({ id: 'made-before', mutating: true })).toBe(true);
    await retry.settle();
    expect(await budget.ofRun(run)).toEqual({ changes: ['made-before'], heldBack: [] });
  });

  it('reserves nothing in a dry run', async () => {
    const run = owner(null);
    const dry = new ApplyBudget(
      budget,
      run,
      { perRun: 0, perSweep: 0 },
      { dryRun: true, mutatingCalls: () => 1 },
    );
    expect(await dry.admit({ id: 'a', mutating: true })).toBe(true);
    await dry.settle();
    expect(await budget.used(run)).toEqual({ run: 0, sweep: null });
  });
});
