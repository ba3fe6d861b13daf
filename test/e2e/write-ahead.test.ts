/**
 * Nothing unrecorded: every change vecguard makes is in the audit log with its true outcome, whatever stops
 * the step that made it — a table that refuses every write from the first change on, a Lambda killed between
 * the change and its record, EC2 throttling that never ends — and the failure notice names those changes.
 * The real ASL and handlers on the sandbox; faults armed by the first real change (`after`), handlers killed
 * at named points (`dieAt`).
 */
import { describe, expect, it } from 'vitest';
import { STEP_MAX_MS } from '../../functions/adapters/run-changes.ts';
import type { AuditEntry } from '../../functions/adapters/store/audit-log.ts';
import { ScopeLeaseStore as LeaseStore } from '../../functions/adapters/store/scope-leases.ts';

/** The harness's speed: a step lives at most STEP_MAX_MS / SPEED real ms in the local runner. */
const SPEED = 600;

import type { LocalLoop } from '../../local/loop.ts';
import {
  ACCOUNT,
  mutatingEc2Calls,
  REGION,
  replayRecordedEvents,
  runToEnd,
  startLoop,
  stopLoopsAfterEach,
} from './harness.ts';

stopLoopsAfterEach();

/** The EC2 actions that make each kind's change (one call per action, except an instance move). */
const KINDS_OF_CALL: Record<string, readonly string[]> = {
  CreateVpcEncryptionControl: ['create-monitor-control'],
  ModifyVpcEncryptionControl: [
    'switch-to-enforce',
    'restore-enforce',
    'enable-exclusion',
    'disable-exclusion',
  ],
  ModifyTransitGateway: ['enable-tgw-encryption'],
  CreateFlowLogs: ['create-flow-log'],
};

/** An instance move is several calls (stop, retype, start): at least one recorded move for them. */
const MOVE_CALLS = ['StopInstances', 'ModifyInstanceAttribute', 'StartInstances'];

/** Entries that record a real change: applied, or failed after the call was made. */
function changesIn(entries: readonly AuditEntry[]): AuditEntry[] {
  return entries.filter((e) => e.outcome === 'applied' || (e.outcome === 'failed' && e.intentAt));
}

/**
 * Every successful mutating EC2 call is matched by an audit entry of a kind that makes it: per EC2 action,
 * at least as many recorded changes as successful calls.
 */
async function expectEveryCallRecorded(loop: LocalLoop, sinceSeq: number, options = { allowNone: false }) {
  // A group still in flight when the run failed (Step Functions does not stop a running Lambda) records its
  // own outcome a moment later: give it that moment.
  for (let i = 0; i < 100 && (await loop.auditLog.listOpenIntents(ACCOUNT, REGION)).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const calls = mutatingEc2Calls(loop).filter((c) => c.status < 300 && c.seq > sinceSeq);
  if (!options.allowNone) expect(calls.length).toBeGreaterThan(0);
  const changes = changesIn(await loop.auditLog.listAuditEntries(ACCOUNT, REGION));
  for (const [action, kinds] of Object.entries(KINDS_OF_CALL)) {
    const made = calls.filter((c) => c.action === action).length;
    const recorded = changes.filter((e) => kinds.includes(e.kind)).length;
    expect(recorded, `${action}: ${made} successful call(s)`).toBeGreaterThanOrEqual(made);
  }
  if (calls.some((c) => MOVE_CALLS.includes(c.action))) {
    expect(changes.filter((e) => e.kind === 'move-instance').length, 'instance moves').toBeGreaterThan(0);
  }
  for (const c of calls) expect([...Object.keys(KINDS_OF_CALL), ...MOVE_CALLS], c.action).toContain(c.action);
  // Nothing is left open: each intent has its outcome.
  expect(await loop.auditLog.listOpenIntents(ACCOUNT, REGION)).toEqual([]);
}

/**
 * The notice names every change made before FailureReport started: per EC2 action, at least as many notice
 * lines of the kinds that make it as successful calls came before. (A step still in flight when the run
 * failed may change something after that: the audit log has it, the notice cannot.)
 */
function expectNoticeNamesChangesBefore(
  loop: LocalLoop,
  notice: string,
  sinceSeq: number,
  executionArn: string,
) {
  const history = loop.sandbox.stepFunctions.runner.execution(executionArn)?.history ?? [];
  const reportStarted = history.find((e) => e.stateName === 'FailureReport')?.timestamp ?? 0;
  expect(reportStarted).toBeGreaterThan(0);
  const before = mutatingEc2Calls(loop).filter(
    (c) => c.status < 300 && c.seq > sinceSeq && c.at < reportStarted,
  );
  // A change still in flight when the notice was written is named as not known yet.
  const listed = notice.split('\n').filter((l) => /^ {2}- (applied|failed|NOT KNOWN)/.test(l));
  for (const [action, kinds] of Object.entries(KINDS_OF_CALL)) {
    const made = before.filter((c) => c.action === action).length;
    const named = listed.filter((l) => kinds.some((k) => l.includes(`: ${k} on `))).length;
    expect(named, `${action}: ${made} call(s) before FailureReport`).toBeGreaterThanOrEqual(made);
  }
}

function failureNotice(loop: LocalLoop) {
  const notices = loop.sandbox.sns
    .messagesFor(loop.topicArn)
    .filter((m) => m.subject?.startsWith('vecguard FAILED'));
  expect(notices).toHaveLength(1);
  return notices[0]?.message ?? '';
}

describe('write-ahead audit', () => {
  it('a Lambda killed between a change and its record: the change is read back, recorded, and named in the notice', async () => {
    const loop = await startLoop({ dieAt: [{ handler: 'Apply', point: 'after-change', times: 1 }] });
    await replayRecordedEvents(loop);
    const sinceSeq = loop.sandbox.calls.lastSeq;
    const { result, runId, executionArn } = await runToEnd(loop, () => true);

    expect(result.status).toBe('FAILED');
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);
    // The change the killed step made is read back as applied (a group still in flight may be read too).
    const readBack = entries.filter((e) => e.reconciled && e.outcome === 'applied');
    expect(readBack.length).toBeGreaterThanOrEqual(1);
    expect(readBack[0]).toMatchObject({ intentAt: expect.any(String) });
    expect(readBack[0]?.reconciled).toMatch(/FailureReport/);
    await expectEveryCallRecorded(loop, sinceSeq);

    const notice = failureNotice(loop);
    expect(notice).toContain('WHAT THIS RUN CHANGED');
    expectNoticeNamesChangesBefore(loop, notice, sinceSeq, executionArn);
    expect(notice).toContain(
      `applied (read back from the live state): ${readBack[0]?.kind} on ${readBack[0]?.resourceId}`,
    );
    expect(notice).not.toMatch(/are in the audit log/);
  });

  it('a Lambda killed after its intent, before its change: named as not known yet, then closed as not in effect, never "applied"', async () => {
    const loop = await startLoop({ dieAt: [{ handler: 'Apply', point: 'after-intent', times: 1 }] });
    await replayRecordedEvents(loop);
    const sinceSeq = loop.sandbox.calls.lastSeq;
    const first = await runToEnd(loop, () => true);

    expect(first.result.status).toBe('FAILED');
    // Moments after its intent, FailureReport cannot tell a dead step from one still calling: the notice
    // says the change is not known yet, and the intent stays open rather than being closed on a guess.
    const [died] = await loop.auditLog.listOpenIntents(ACCOUNT, REGION, { runId: first.runId });
    expect(died).toBeDefined();
    const notice = failureNotice(loop);
    expect(notice).toContain(
      `NOT KNOWN yet whether made (intent recorded, no outcome yet; see below): ${died?.kind} on ${died?.resourceId} (action ${died?.actionId})`,
    );
    expectNoticeNamesChangesBefore(loop, notice, sinceSeq, first.executionArn);

    // Later (past the longest a step can run), the next run reads it back: not in effect, never "applied".
    await new LeaseStore(loop.table).release({ accountId: ACCOUNT, region: REGION }, first.runId);
    await new Promise((r) => setTimeout(r, STEP_MAX_MS / SPEED + 200));
    const next = await runToEnd(loop, () => true);
    expect(next.runId).not.toBe(first.runId);
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
      (e) => e.runId === first.runId && e.actionId === died?.actionId,
    );
    expect(entries.filter((e) => e.outcome === 'applied' && e.intentAt === died?.at)).toEqual([]);
    expect(entries.find((e) => e.intentAt === died?.at)).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/^NotInEffect: /),
      reconciled: expect.stringMatching(/before it changed anything/),
    });
    await expectEveryCallRecorded(loop, sinceSeq, { allowNone: true });
  });

  it('DynamoDB failing for good from the first change on: no further change, a notice naming it, and the next run records it', async () => {
    const loop = await startLoop();
    await replayRecordedEvents(loop);
    const sinceSeq = loop.sandbox.calls.lastSeq;
    const rule = loop.sandbox.faults.add({
      service: 'dynamodb',
      errorCode: 'InternalServerError',
      after: { service: 'ec2', mutating: true },
    });
    const first = await runToEnd(loop, () => true);
    const { result } = first;

    expect(result.status).toBe('FAILED');
    const notice = failureNotice(loop);
    expect(notice).toContain('The audit log could not be read');
    expect(notice).toContain('UnrecordedChangeError');

    // The table recovers. Nothing was changed without an intent written first: the calls made are the
    // intents the groups running side by side wrote before the table failed, each still open.
    loop.sandbox.faults.remove(rule.id);
    const made = mutatingEc2Calls(loop).filter((c) => c.status < 300 && c.seq > sinceSeq);
    const open = await loop.auditLog.listOpenIntents(ACCOUNT, REGION);
    expect(made.length).toBeGreaterThan(0);
    expect(open.length).toBe(made.length);
    // Each is named in the notice, from the execution history (the table could say nothing).
    for (const intent of open) {
      expect(notice).toContain(
        `MADE, NOT RECORDED when made (from the execution history): ${intent.kind} on ${intent.resourceId} (action ${intent.actionId}) was applied`,
      );
    }
    // The failed run could not release its scope's lease (the table was down): the next event would take the
    // scope over once the start grace has passed (LEASE_START_GRACE_SECONDS, real time); the test lets it.
    await new LeaseStore(loop.table).release({ accountId: ACCOUNT, region: REGION }, first.runId);
    // The next run (once the failed run's steps are surely over) reads those changes back from the live
    // state before it changes anything, and records them.
    await new Promise((r) => setTimeout(r, STEP_MAX_MS / SPEED + 200));
    const next = await runToEnd(loop, () => true);
    expect(next.runId).not.toBe(first.runId);
    expect(next.result.status).toBe('SUCCEEDED');
    await expectEveryCallRecorded(loop, sinceSeq);
  });

  it('EC2 throttling that never ends after the first change: the changes made are recorded and named', {
    timeout: 400_000,
  }, async () => {
    const loop = await startLoop();
    await replayRecordedEvents(loop);
    const sinceSeq = loop.sandbox.calls.lastSeq;
    loop.sandbox.faults.add({
      service: 'ec2',
      errorCode: 'RequestLimitExceeded',
      after: { service: 'ec2', mutating: true },
    });
    // The SDK's own back-off (8 attempts, real time) makes each throttled step slow: wait long enough.
    const { result, runId, executionArn } = await runToEnd(loop, () => true, {}, 380_000);

    expect(result.status).toBe('FAILED');
    await expectEveryCallRecorded(loop, sinceSeq);
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);
    const notice = failureNotice(loop);
    expect(changesIn(entries).length).toBeGreaterThan(0);
    expectNoticeNamesChangesBefore(loop, notice, sinceSeq, executionArn);
  });
});
