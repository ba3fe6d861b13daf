/**
 * The scope lease against the sandbox's DynamoDB: of two runs claiming a scope at once only one holds it;
 * work named while it runs is kept, handed to one follow-up, and never lost when a lease expires; a run that
 * lost its lease cannot release another's.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOfRun } from '../../functions/adapters/run-lease.ts';
import { type LeaseHolder, ScopeLeaseStore } from '../../functions/adapters/store/scope-leases.ts';
import { createTable } from '../../functions/adapters/store/table.ts';
import { NOTHING_PENDING } from '../../functions/domain/scope-lease.ts';
import { type StoreHarness, startStoreSandbox } from './store-harness.ts';

let h: StoreHarness;
let n = 0;

beforeAll(async () => {
  h = await startStoreSandbox();
});
afterAll(async () => {
  await h?.stop();
});

/** A fresh table per case: no scope held. */
async function leases(): Promise<ScopeLeaseStore> {
  n += 1;
  await createTable(h.dynamodb, `leases-${n}`);
  return new ScopeLeaseStore({ client: h.table.client, tableName: `leases-${n}` });
}

const SCOPE = { accountId: '111111111111', region: 'us-east-1' };
const NOW = new Date('2026-11-24T01:30:00Z');
const holder = (runId: string, expiresAt = '2026-11-30T00:00:00.000Z'): LeaseHolder => ({
  runId,
  executionName: `name-${runId}`,
  executionArn: `arn:aws:states:us-east-1:111111111111:execution:loop:name-${runId}`,
  input: JSON.stringify({ runId, vpcIds: null }),
  expiresAt,
});

describe('ScopeLeaseStore', () => {
  it('of many claims at once, exactly one takes the scope; the others see who holds it', async () => {
    const store = await leases();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.claim(SCOPE, holder(`run-${i}`), NOW)),
    );
    const won = results.filter((r) => r.claimed);
    expect(won).toHaveLength(1);
    const holderId = (await store.get(SCOPE))?.runId;
    for (const r of results) if (!r.claimed) expect(r.holder.runId).toBe(holderId);
  });

  it('keeps the VPCs named while a run holds the scope, from concurrent adds, as one set', async () => {
    const store = await leases();
    await store.claim(SCOPE, holder('run-a'), NOW);
    await Promise.all([
      store.addPending(SCOPE, { vpcIds: ['vpc-11111111'], wholeScope: false }, NOW),
      store.addPending(SCOPE, { vpcIds: ['vpc-22222222', 'vpc-11111111'], wholeScope: false }, NOW),
    ]);
    expect((await store.get(SCOPE))?.pending).toEqual({
      vpcIds: ['vpc-11111111', 'vpc-22222222'],
      wholeScope: false,
    });
  });

  it('an expired lease is taken by the next run, with what its dead run left pending', async () => {
    const store = await leases();
    await store.claim(
      SCOPE,
      holder('run-dead', '2026-11-24T01:00:00.000Z'),
      new Date('2026-11-24T00:00:00Z'),
    );
    await store.addPending(
      SCOPE,
      { vpcIds: ['vpc-33333333'], wholeScope: false },
      new Date('2026-11-24T00:10:00Z'),
    );
    // Past its expiry: nobody can add to it any more.
    expect(
      await store.addPending(SCOPE, { vpcIds: ['vpc-44444444'], wholeScope: false }, NOW),
    ).toBeUndefined();
    const taken = await store.claim(SCOPE, holder('run-new'), NOW);
    expect(taken).toEqual({ claimed: true, stale: { vpcIds: ['vpc-33333333'], wholeScope: false } });
    expect((await store.get(SCOPE))?.pending).toEqual(NOTHING_PENDING);
  });

  it('a run releases only its own lease, and not while work is pending', async () => {
    const store = await leases();
    await store.claim(SCOPE, holder('run-a'), NOW);
    expect(await store.release(SCOPE, 'run-other')).toMatchObject({ outcome: 'not-held' });
    await store.addPending(SCOPE, { vpcIds: [], wholeScope: true }, NOW);
    expect(await store.release(SCOPE, 'run-a')).toMatchObject({
      outcome: 'pending',
      lease: { runId: 'run-a', pending: { vpcIds: [], wholeScope: true } },
    });
    expect(await store.get(SCOPE)).toBeDefined();
  });
});

describe('endOfRun', () => {
  const started: string[] = [];
  const sfn = {
    async send(command: { input: { name?: string } }) {
      const name = command.input.name ?? '';
      if (started.includes(name))
        throw Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' });
      started.push(name);
      return { executionArn: `arn:aws:states:us-east-1:111111111111:execution:loop:${name}` };
    },
  } as unknown as SFNClient;
  const ending = { ...SCOPE, runId: 'run-a', roleArn: null, organizationalUnitIds: [] };
  const settings = { policy: { approval: { timeoutMinutes: 60 } } } as never;

  it('releases a scope with nothing pending', async () => {
    const store = await leases();
    await store.claim(SCOPE, holder('run-a'), NOW);
    const d = {
      leases: store,
      sfn,
      stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:loop',
      settings,
      now: () => NOW,
    };
    expect(await endOfRun(ending, d)).toEqual({ lease: 'released' });
    expect(await store.get(SCOPE)).toBeUndefined();
  });

  it('hands pending VPCs to exactly one follow-up run, which holds the scope; a retried Report starts no second', async () => {
    const store = await leases();
    await store.claim(SCOPE, holder('run-a'), NOW);
    await store.addPending(SCOPE, { vpcIds: ['vpc-55555555'], wholeScope: false }, NOW);
    const d = {
      leases: store,
      sfn,
      stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:loop',
      settings,
      now: () => NOW,
    };
    const before = started.length;
    const first = await endOfRun(ending, d);
    expect(first).toMatchObject({ lease: 'handed-over', followUp: { vpcIds: ['vpc-55555555'] } });
    const lease = await store.get(SCOPE);
    expect(lease).toMatchObject({ handedOverBy: 'run-a', pending: NOTHING_PENDING });
    if (first.lease !== 'handed-over') return;
    expect(lease?.runId).toBe(first.followUp.runId);
    // Report retried (its SNS failed after the hand-over): the same follow-up, not another.
    const again = await endOfRun(ending, d);
    expect(again).toMatchObject({ lease: 'handed-over', followUp: { runId: first.followUp.runId } });
    expect(started.length - before).toBe(1);
  });
});
