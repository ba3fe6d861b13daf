import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEntryInput, AuditLog } from '#adapters/store/audit-log.ts';
import { AuditEntryExistsError } from '#adapters/store/errors.ts';
import { type StoreHarness, startStoreSandbox } from './store-harness.ts';

const ALICE = 'arn:aws:sts::111111111111:assumed-role/SecurityAdmin/alice';

function entry(at: string, actionId: string, over: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    at,
    accountId: '111111111111',
    region: 'us-east-1',
    actionId,
    runId: 'run-1',
    kind: 'switch-to-enforce',
    resourceId: 'vpc-1',
    params: { mode: 'enforce', exclusions: ['NatGateway'] },
    approvalId: 'apr-0123456789abcdef',
    approvedBy: ALICE,
    before: { mode: 'monitor' },
    after: { mode: 'enforce' },
    outcome: 'applied',
    ...over,
  };
}

describe('AuditLog against the sandbox DynamoDB', () => {
  let h: StoreHarness;
  let log: AuditLog;

  beforeAll(async () => {
    h = await startStoreSandbox();
    log = new AuditLog(h.table);
  });
  afterAll(() => h.stop());

  it('appends entries and lists them in time order with who approved and before/after', async () => {
    await log.appendAuditEntry(entry('2026-11-24T01:00:02.000Z', 'b'));
    await log.appendAuditEntry(
      entry('2026-11-24T01:00:01.000Z', 'a', { approvedBy: 'auto', approvalId: undefined }),
    );
    const listed = await log.listAuditEntries('111111111111', 'us-east-1');
    expect(listed.map((e) => [e.actionId, e.approvedBy])).toEqual([
      ['a', 'auto'],
      ['b', ALICE],
    ]);
    expect(listed[1]).toMatchObject({
      before: { mode: 'monitor' },
      after: { mode: 'enforce' },
      outcome: 'applied',
    });
    expect(
      await log.listAuditEntries('111111111111', 'us-east-1', { newestFirst: true, limit: 1 }),
    ).toMatchObject([{ actionId: 'b' }]);
    expect(
      await log.listAuditEntries('111111111111', 'us-east-1', { since: '2026-11-24T01:00:02.000Z' }),
    ).toHaveLength(1);
    expect(await log.listAuditEntries('111111111111', 'eu-west-1')).toEqual([]);
  });

  it('an entry cannot be overwritten: the log is append-only', async () => {
    const original = entry('2026-11-24T02:00:00.000Z', 'c');
    await log.appendAuditEntry(original);
    const rewrite = await log
      .appendAuditEntry({
        ...original,
        approvedBy: 'arn:aws:iam::111111111111:user/mallory',
        outcome: 'failed',
      })
      .catch((e: unknown) => e);
    expect(rewrite).toBeInstanceOf(AuditEntryExistsError);
    const [stored] = await log.listAuditEntries('111111111111', 'us-east-1', { since: original.at });
    expect(stored).toMatchObject({ actionId: 'c', approvedBy: ALICE, outcome: 'applied' });
  });
});
