import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerdictHistoryStore } from '#adapters/store/verdict-history.ts';
import { type StoreHarness, startStoreSandbox } from './store-harness.ts';

describe('VerdictHistoryStore against the sandbox DynamoDB', () => {
  let h: StoreHarness;
  let history: VerdictHistoryStore;

  beforeAll(async () => {
    h = await startStoreSandbox();
    history = new VerdictHistoryStore(h.table);
  });
  afterAll(() => h.stop());

  it('is empty for a scope never audited, and returns what the last audit stored', async () => {
    expect(await history.getVerdictHistory('111111111111', 'us-east-1')).toEqual({});
    await history.putVerdictHistory(
      '111111111111',
      'us-east-1',
      { 'vpc-1': 'ENFORCED', 'vpc-2': 'BLOCKED' },
      {
        updatedAt: '2026-11-24T01:00:00Z',
        runId: 'run-1',
      },
    );
    await history.putVerdictHistory(
      '111111111111',
      'us-east-1',
      { 'vpc-1': 'DRIFTED' },
      { updatedAt: new Date() },
    );
    expect(await history.getVerdictHistory('111111111111', 'us-east-1')).toEqual({ 'vpc-1': 'DRIFTED' });
    expect(await history.getVerdictHistory('111111111111', 'eu-west-1')).toEqual({});
  });
});
