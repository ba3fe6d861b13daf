/**
 * SNS failing while an approval is requested (issue 9, problem 4), through the state machine's own Retry
 * of RequestApproval: each failed attempt ends the task with a TransientAwsError, Step Functions retries it
 * with a new token, and the handler stores that token and sends the request again. However many attempts
 * fail, the person is asked (a request is published once the latest token is stored), their answer reaches
 * the run and is applied, and nothing is applied that nobody was asked about.
 */
import { describe, expect, it } from 'vitest';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, REGION, startLoop, stopLoopsAfterEach } from './harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

/** The SNS client's own attempts per Publish (SDK standard retry mode): a failed task attempt needs all three. */
const SDK_ATTEMPTS = 3;

const approvalRequests = (l: LocalLoop) =>
  l.sandbox.sns.messagesFor(l.topicArn).filter((m) => m.message.startsWith('vecguard asks for approval'));

/**
 * A person who answers a request only once it reached them (the SNS message), as they would, and approves.
 * Returns what they answered, with the task token stored when they answered.
 */
function personReadingSns(l: LocalLoop) {
  const answered: { approvalId: string; tokenWhenAnswered: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      for (const a of await l.approvals.listPending(new Date())) {
        if (answered.some((x) => x.approvalId === a.approvalId)) continue;
        if (!approvalRequests(l).some((m) => m.message.includes(a.approvalId))) continue;
        answered.push({ approvalId: a.approvalId, tokenWhenAnswered: a.taskToken });
        await l.answer(a.approvalId, { approve: true, reason: 'e2e' });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    running = false;
    await done;
    return answered;
  };
}

describe('SNS Publish failing at an approval request, retried by the state machine', () => {
  for (const failedAttempts of [1, 2, 3]) {
    it(`${failedAttempts} failed RequestApproval attempt(s): the person is asked, the answer applied, nothing unasked`, async () => {
      loop = await startLoop({ scenario: 'test/fixtures/scenarios/one-approval.yaml' });
      const l = loop;
      l.sandbox.faults.add({
        service: 'sns',
        action: 'Publish',
        errorCode: 'InternalError',
        times: failedAttempts * SDK_ATTEMPTS,
      });
      const stop = personReadingSns(l);
      const [started] = await l.sweep({ accountId: ACCOUNT, region: REGION });
      if (!started) throw new Error('the sweep started no execution');
      const result = await l.wait(started.executionArn, 120_000);
      const answered = await stop();
      expect(result.status).toBe('SUCCEEDED');

      const publishes = l.sandbox.calls.query({ service: 'sns', action: 'Publish' });
      expect(publishes.filter((c) => c.errorCode === 'InternalError')).toHaveLength(
        failedAttempts * SDK_ATTEMPTS,
      );

      // One request, asked once it reached SNS; the token it was answered on is the one still stored (the
      // latest attempt's), and the answer reached the run.
      const approvals = await l.approvals.listForRun(started.runId, { accountId: ACCOUNT, region: REGION });
      expect(approvals).toHaveLength(1);
      const [approval] = approvals;
      expect(approval?.status).toBe('approved');
      expect(answered).toEqual([
        { approvalId: approval?.approvalId, tokenWhenAnswered: approval?.taskToken },
      ]);
      expect(approvalRequests(l).filter((m) => m.message.includes(approval?.approvalId ?? '?'))).toHaveLength(
        1,
      );

      // The answer applied; nothing applied that the person was not asked about.
      const entries = (await l.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
        (e) => e.runId === started.runId,
      );
      const applied = entries.filter((e) => e.outcome === 'applied');
      expect(applied.map((e) => e.kind)).toEqual(['switch-to-enforce']);
      for (const e of applied) {
        expect(e.approvalId).toBe(approval?.approvalId);
        expect(approval?.actionIds).toContain(e.actionId);
        expect(e.approvedBy).toBe(approval?.decidedBy);
      }
    });
  }
});
