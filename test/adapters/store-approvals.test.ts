import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalInput, ApprovalStore, approvalIdFor } from '#adapters/store/approvals.ts';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExistsError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
} from '#adapters/store/errors.ts';
import { type StoreHarness, startStoreSandbox } from './store-harness.ts';

const REQUESTED = '2026-11-24T01:00:00.000Z';
const BEFORE_EXPIRY = '2026-11-24T12:00:00.000Z';
const EXPIRES = '2026-11-25T01:00:00.000Z';
const AFTER_EXPIRY = '2026-11-25T01:00:00.001Z';
const ALICE = 'arn:aws:sts::111111111111:assumed-role/SecurityAdmin/alice';
const BOB = 'arn:aws:sts::111111111111:assumed-role/SecurityAdmin/bob';

let counter = 0;
function request(over: Partial<ApprovalInput> = {}): ApprovalInput {
  counter += 1;
  const groupId = `vpc-${counter}`;
  return {
    approvalId: approvalIdFor({
      runId: 'run-1',
      accountId: '111111111111',
      region: 'us-east-1',
      iteration: 1,
      groupId,
    }),
    taskToken: `token-${counter}-secret`,
    runId: 'run-1',
    accountId: '111111111111',
    region: 'us-east-1',
    groupId,
    iteration: 1,
    target: { type: 'vpc', id: groupId, name: 'payments-prod' },
    actionIds: [`switch-to-enforce:${groupId}`],
    actions: [
      {
        actionId: `switch-to-enforce:${groupId}`,
        kind: 'switch-to-enforce',
        resourceId: groupId,
        summary: `Switch ${groupId} to enforce`,
        reason: 'No blocker remains.',
        risks: ['disruptive'],
        monthlyCostDeltaUsd: 0,
      },
    ],
    monthlyCostUsd: 0,
    requestedAt: REQUESTED,
    expiresAt: EXPIRES,
    ...over,
  };
}

describe('ApprovalStore against the sandbox DynamoDB', () => {
  let h: StoreHarness;
  let approvals: ApprovalStore;

  beforeAll(async () => {
    h = await startStoreSandbox();
    approvals = new ApprovalStore(h.table);
  });
  afterAll(() => h.stop());

  it('creates a pending approval once and reads it back', async () => {
    const input = request();
    const created = await approvals.createApproval(input);
    expect(created.status).toBe('pending');
    expect(await approvals.getApproval(input.approvalId)).toEqual(created);
    await expect(approvals.createApproval(input)).rejects.toBeInstanceOf(ApprovalExistsError);
    expect(await approvals.getApproval('apr-none')).toBeUndefined();
  });

  it('an approval is answered once: a second answer fails and the first one stands', async () => {
    const input = request();
    await approvals.createApproval(input);
    const approved = await approvals.decide(input.approvalId, {
      approved: true,
      approver: ALICE,
      reason: 'change window CHG-42',
      now: BEFORE_EXPIRY,
    });
    expect(approved).toMatchObject({
      status: 'approved',
      decidedBy: ALICE,
      decidedAt: BEFORE_EXPIRY,
      reason: 'change window CHG-42',
    });

    const second = await approvals
      .decide(input.approvalId, { approved: false, approver: BOB, reason: 'no', now: BEFORE_EXPIRY })
      .catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect((second as Error).message).toContain(`already answered: approved by ${ALICE}`);
    // Replaying the same approval is refused too.
    await expect(
      approvals.decide(input.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY }),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect(await approvals.getApproval(input.approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: ALICE,
    });
  });

  it('an expired approval cannot be approved, and can be marked expired once', async () => {
    const input = request();
    await approvals.createApproval(input);
    const late = await approvals
      .decide(input.approvalId, { approved: true, approver: ALICE, now: AFTER_EXPIRY })
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ApprovalExpiredError);
    expect((late as Error).message).toContain(`expired at ${EXPIRES}`);
    expect((await approvals.getApproval(input.approvalId))?.status).toBe('pending');

    await expect(approvals.markExpired(input.approvalId, BEFORE_EXPIRY)).rejects.toThrow(
      /does not expire until/,
    );
    expect(await approvals.markExpired(input.approvalId, AFTER_EXPIRY)).toMatchObject({ status: 'expired' });
    await expect(
      approvals.decide(input.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY }),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);
  });

  it('a task Step Functions timed out closes its approval even before the stored expiry, and only once', async () => {
    const input = request();
    await approvals.createApproval(input);
    expect(await approvals.closeTimedOut(input.approvalId, BEFORE_EXPIRY)).toMatchObject({
      status: 'expired',
    });
    await expect(approvals.closeTimedOut(input.approvalId, BEFORE_EXPIRY)).rejects.toBeInstanceOf(
      ApprovalAlreadyDecidedError,
    );
    await expect(
      approvals.decide(input.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY }),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);
  });

  it('closes an approval stored just after its task timed out: between the close and the re-read', async () => {
    const input = request();
    // RequestApproval stores the approval after RecordRejection's update found nothing, before its re-read.
    let raced = false;
    const racing = new ApprovalStore({
      ...h.table,
      client: {
        send: async (command: Parameters<typeof h.table.client.send>[0]) => {
          const sent = h.table.client.send(command);
          if (raced || !(command instanceof UpdateCommand)) return sent;
          raced = true;
          const failure = await sent.then(
            () => undefined,
            (e: unknown) => e,
          );
          await approvals.createApproval(input);
          throw failure;
        },
      } as typeof h.table.client,
    });
    expect(await racing.closeTimedOut(input.approvalId, BEFORE_EXPIRY)).toMatchObject({ status: 'expired' });
    expect(raced).toBe(true);
    expect((await approvals.getApproval(input.approvalId))?.status).toBe('expired');
  });

  it('lists every approval of a run, whatever its status, in that scope only', async () => {
    const first = request();
    await approvals.createApproval(first);
    await approvals.decide(first.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY });
    const all = await approvals.listForRun(first.runId, { accountId: first.accountId, region: first.region });
    expect(all.map((a) => [a.approvalId, a.status])).toContainEqual([first.approvalId, 'approved']);
    expect(
      await approvals.listForRun(first.runId, { accountId: first.accountId, region: 'eu-west-1' }),
    ).toEqual([]);
    expect(
      await approvals.listForRun('another-run', { accountId: first.accountId, region: first.region }),
    ).toEqual([]);
  });

  it('at the end of a run its unanswered approvals are closed as expired; answers and other runs stand', async () => {
    // An account of its own, so that what stays pending here is not listed by the other tests.
    const runId = 'run-ending';
    const scope = { accountId: '333333333333', region: 'us-east-1' };
    const answered = request({ runId, ...scope });
    const unanswered = request({ runId, ...scope });
    const elsewhere = request({ runId, ...scope, region: 'ap-south-1' });
    const otherRun = request({ ...scope, runId: 'run-still-going' });
    for (const r of [answered, unanswered, elsewhere, otherRun]) await approvals.createApproval(r);
    await approvals.decide(answered.approvalId, { approved: false, approver: BOB, now: BEFORE_EXPIRY });

    const { approvals: ofRun, closedIds } = await approvals.closeUnansweredOfRun(runId, scope, BEFORE_EXPIRY);

    expect(closedIds).toEqual([unanswered.approvalId]);
    expect(ofRun.map((a) => [a.approvalId, a.status]).sort()).toEqual(
      [
        [answered.approvalId, 'rejected'],
        [unanswered.approvalId, 'expired'],
      ].sort(),
    );
    expect(await approvals.getApproval(unanswered.approvalId)).toMatchObject({
      status: 'expired',
      decidedBy: 'vecguard',
      reason: 'the run ended without an answer',
    });
    // Nobody can answer it any more.
    await expect(
      approvals.decide(unanswered.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY }),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);
    expect((await approvals.getApproval(elsewhere.approvalId))?.status).toBe('pending');
    expect((await approvals.getApproval(otherRun.approvalId))?.status).toBe('pending');
    // A second call finds nothing left to close.
    expect((await approvals.closeUnansweredOfRun(runId, scope, BEFORE_EXPIRY)).closedIds).toEqual([]);
  });

  it('a rejection is recorded with who and why', async () => {
    const input = request();
    await approvals.createApproval(input);
    expect(
      await approvals.decide(input.approvalId, {
        approved: false,
        approver: BOB,
        reason: 'peak season',
        now: BEFORE_EXPIRY,
      }),
    ).toMatchObject({ status: 'rejected', decidedBy: BOB, reason: 'peak season' });
  });

  it('answering an approval that does not exist says so', async () => {
    await expect(
      approvals.decide('apr-0000000000000000', { approved: true, approver: ALICE, now: BEFORE_EXPIRY }),
    ).rejects.toBeInstanceOf(ApprovalNotFoundError);
  });

  it('lists pending approvals, flagging the expired ones, and filters by scope', async () => {
    const fresh = request({ expiresAt: '2026-11-30T00:00:00.000Z', region: 'eu-west-1' });
    const stale = request({ expiresAt: '2026-11-24T02:00:00.000Z', region: 'eu-west-1' });
    const answered = request({ region: 'eu-west-1' });
    for (const a of [fresh, stale, answered]) await approvals.createApproval(a);
    await approvals.decide(answered.approvalId, { approved: true, approver: ALICE, now: BEFORE_EXPIRY });

    const listed = await approvals.listPending(BEFORE_EXPIRY, { region: 'eu-west-1' });
    expect(listed.map((a) => [a.approvalId, a.expired])).toEqual(
      expect.arrayContaining([
        [fresh.approvalId, false],
        [stale.approvalId, true],
      ]),
    );
    expect(listed).toHaveLength(2);
  });

  it('the approval id is stable for a retried request and differs between groups', () => {
    const parts = {
      runId: 'r',
      accountId: '111111111111',
      region: 'us-east-1',
      iteration: 1,
      groupId: 'vpc-1',
    };
    expect(approvalIdFor(parts)).toBe(approvalIdFor({ ...parts }));
    expect(approvalIdFor(parts)).not.toBe(approvalIdFor({ ...parts, groupId: 'vpc-2' }));
    expect(approvalIdFor(parts)).toMatch(/^apr-[0-9a-f]{16}$/);
  });
});
