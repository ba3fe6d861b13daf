/**
 * Who answers an approval is what AWS authenticated (issue 9, problem 5): approvals are answered only
 * through the approver endpoint's function URL (AWS_IAM auth, SigV4 verified by the sandbox), which takes
 * the caller's ARN from the signature, checks it against the policy's `approval.approvers` (none: the hub
 * account's principals), records the decision once and answers Step Functions itself. On the starting
 * commit the approver wrote the approval item and called SendTaskSuccess with their own permissions, so a
 * forged `decidedBy`, a flipped rejection and another account's identity all reached the audit log; here
 * each attempt is refused and the audit log names the identity that signed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as yamlParse } from 'yaml';
import { ApproverClient, ApproverEndpointError } from '../../functions/adapters/approver-client.ts';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, EXAMPLE_POLICY, REGION, startLoop, stopLoopsAfterEach } from './harness.ts';

stopLoopsAfterEach();

const SECRET = 'approver-secret';
const ALICE = {
  accessKeyId: 'AKIDALICE0000000001',
  secretAccessKey: SECRET,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Approver/alice`,
};
const BOB = {
  accessKeyId: 'AKIDBOB000000000001',
  secretAccessKey: SECRET,
  arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
};
const MALLORY = {
  accessKeyId: 'AKIDMALLORY00000001',
  secretAccessKey: SECRET,
  arn: 'arn:aws:iam::999999999999:user/mallory',
};
const PRINCIPALS = [ALICE, BOB, MALLORY];
type Person = (typeof PRINCIPALS)[number];

const keys = (p: Person) => ({ accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey });
const client = (loop: LocalLoop, p: Person) =>
  new ApproverClient({ url: loop.approverUrl, region: loop.sandbox.region, credentials: keys(p) });

/** The endpoint's refusal of `attempt`, as `{ status, code, message }`. */
async function refusal(attempt: Promise<unknown>) {
  try {
    await attempt;
  } catch (e) {
    if (e instanceof ApproverEndpointError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error('the endpoint accepted what it should have refused');
}

/** A pending approval of the run for the VPC named `name`, once RequestApproval has stored it. */
async function pendingFor(loop: LocalLoop, runId: string, name: string): Promise<Approval> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await loop.approvals.listPending(new Date())).find(
      (a) => a.runId === runId && a.target.name === name,
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no pending approval for ${name}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the sweep to its end, `person` approving every other request through the URL as it comes. */
async function sweepWith(loop: LocalLoop, person: Person, during: (runId: string) => Promise<void>) {
  const [started] = await loop.sweep();
  if (!started) throw new Error('the sweep started no execution');
  let running = true;
  const answered = new Set<string>();
  const hold = new Set<string>();
  const answering = (async () => {
    while (running) {
      for (const a of await loop.approvals.listPending(new Date())) {
        if (answered.has(a.approvalId) || hold.has(a.target.name ?? '')) continue;
        answered.add(a.approvalId);
        try {
          await loop.answer(a.approvalId, { approve: true }, keys(person));
        } catch (e) {
          // Answered by the test in the meantime: that answer stands.
          if (!(e instanceof ApproverEndpointError && e.status === 409)) throw e;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  hold.add('payments');
  await during(started.runId);
  hold.delete('payments');
  const result = await loop.wait(started.executionArn, 120_000);
  running = false;
  await answering;
  const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
    (e) => e.runId === started.runId,
  );
  return { result, runId: started.runId, entries };
}

function policyWithApprovers(approvers: string[]): string {
  const policy = yamlParse(readFileSync(EXAMPLE_POLICY, 'utf8')) as { approval?: Record<string, unknown> };
  const file = join(mkdtempSync(join(tmpdir(), 'vecguard-approvers-')), 'policy.json');
  writeFileSync(file, JSON.stringify({ ...policy, approval: { ...policy.approval, approvers } }));
  return file;
}

describe('approvals answered through the IAM-authenticated endpoint', () => {
  it('the approved path works end to end, and the approver calls nothing but the function URL', async () => {
    const loop = await startLoop({ principals: PRINCIPALS });
    const { result, entries } = await sweepWith(loop, ALICE, async () => {});
    expect(result.status).toBe('SUCCEEDED');
    const applied = entries.filter((e) => e.outcome === 'applied');
    expect(applied.length).toBeGreaterThan(10);
    expect(new Set(applied.map((e) => e.approvedBy))).toEqual(new Set([ALICE.arn]));
    const aliceCalls = loop.sandbox.calls.query().filter((c) => c.accessKeyId === ALICE.accessKeyId);
    expect(aliceCalls.length).toBeGreaterThan(0);
    expect(new Set(aliceCalls.map((c) => `${c.service}:${c.action}:${c.status}`))).toEqual(
      new Set(['lambda:InvokeFunctionUrl:200']),
    );
  });

  it('a forged decidedBy is refused; the audit log names the identity that signed', async () => {
    const loop = await startLoop({ principals: PRINCIPALS });
    const forged = `arn:aws:iam::${ACCOUNT}:user/ceo`;
    let approvalId = '';
    const { result, entries } = await sweepWith(loop, ALICE, async (runId) => {
      approvalId = (await pendingFor(loop, runId, 'payments')).approvalId;
      const attempt = await refusal(
        client(loop, BOB).call(
          'POST',
          `approvals/${approvalId}`,
          JSON.stringify({ decision: 'approve', decidedBy: forged, approver: forged }),
        ),
      );
      expect(attempt).toMatchObject({ status: 400, code: 'BadRequest' });
      expect((await loop.approvals.getApproval(approvalId))?.status).toBe('pending');
      await loop.answer(approvalId, { approve: true, reason: 'CHG-7' }, keys(BOB));
    });
    expect(result.status).toBe('SUCCEEDED');
    const ofApproval = entries.filter((e) => e.approvalId === approvalId);
    expect(ofApproval.length).toBeGreaterThan(0);
    expect(new Set(ofApproval.map((e) => e.approvedBy))).toEqual(new Set([BOB.arn]));
    expect(JSON.stringify(entries)).not.toContain(forged);
    expect(await loop.approvals.getApproval(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: BOB.arn,
    });
  });

  it('a rejection cannot be flipped to approved: nothing of the group is applied', async () => {
    const loop = await startLoop({ principals: PRINCIPALS });
    let approvalId = '';
    const { result, entries } = await sweepWith(loop, ALICE, async (runId) => {
      approvalId = (await pendingFor(loop, runId, 'payments')).approvalId;
      await loop.answer(approvalId, { approve: false, reason: 'not now' }, keys(ALICE));
      for (const person of [BOB, ALICE]) {
        expect(await refusal(client(loop, person).decide(approvalId, { approve: true }))).toMatchObject({
          status: 409,
          code: 'ApprovalAlreadyDecided',
        });
      }
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(await loop.approvals.getApproval(approvalId)).toMatchObject({
      status: 'rejected',
      decidedBy: ALICE.arn,
    });
    expect(entries.filter((e) => e.approvalId === approvalId && e.outcome === 'applied')).toEqual([]);
    const payments = (
      await loop.approvals.listForRun(entries[0]?.runId ?? '', { accountId: ACCOUNT, region: REGION })
    ).filter((a) => a.target.name === 'payments');
    expect(payments.map((a) => a.status)).toEqual(['rejected']);
  });

  it("an identity of another account is refused, and the approval stays open for the hub's approvers", async () => {
    const loop = await startLoop({ principals: PRINCIPALS });
    let approvalId = '';
    const { result, entries } = await sweepWith(loop, ALICE, async (runId) => {
      approvalId = (await pendingFor(loop, runId, 'payments')).approvalId;
      const attempt = await refusal(client(loop, MALLORY).decide(approvalId, { approve: true }));
      expect(attempt).toMatchObject({ status: 403, code: 'NotAnApprover' });
      expect(attempt.message).toContain('account 999999999999');
      expect(await refusal(client(loop, MALLORY).list())).toMatchObject({ status: 403 });
      expect((await loop.approvals.getApproval(approvalId))?.status).toBe('pending');
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(await loop.approvals.getApproval(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: ALICE.arn,
    });
    expect(JSON.stringify(entries)).not.toContain('999999999999');
  });

  it("an identity of the hub account not in the policy's approvers is refused; a listed role's session is not", async () => {
    const loop = await startLoop({
      principals: PRINCIPALS,
      policyFile: policyWithApprovers([`arn:aws:iam::${ACCOUNT}:role/Approver`]),
    });
    let approvalId = '';
    const { result, entries } = await sweepWith(loop, ALICE, async (runId) => {
      approvalId = (await pendingFor(loop, runId, 'payments')).approvalId;
      for (const attempt of [
        client(loop, BOB).decide(approvalId, { approve: true }),
        // The sandbox's default key: the hub account's root user, not listed either.
        loop.answer(approvalId, { approve: true }),
      ]) {
        const refused = await refusal(attempt);
        expect(refused).toMatchObject({ status: 403, code: 'NotAnApprover' });
        expect(refused.message).toMatch(/is not one of the policy's approval\.approvers/);
      }
      expect((await loop.approvals.getApproval(approvalId))?.status).toBe('pending');
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(new Set(entries.filter((e) => e.outcome === 'applied').map((e) => e.approvedBy))).toEqual(
      new Set([ALICE.arn]),
    );
    expect(await loop.approvals.getApproval(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: ALICE.arn,
    });
  });
});
