/**
 * Faults injected in the sandbox — throttling, 5xx, a failed transition, drift during the run — end in a
 * correct verdict or a clear failure report, never a silent success; a second run over a converged estate
 * changes nothing. The real ASL, the real handlers and the real SDK clients, as in loop.test.ts; every fault
 * is seeded or one-shot, so a run replays the same way.
 */
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { applyDriftEvent, defaultProductArn, type ExecutionEvent, eventsOfPhase } from '@vecguard/sandbox';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import type { LocalLoop } from '../../local/loop.ts';
import {
  ACCOUNT,
  byName,
  mutatingEc2Calls,
  REGION,
  replayRecordedEvents,
  runToEnd,
  startLoop,
  stopLoopsAfterEach,
} from './harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

const FAULT_SEED = 20261124;

/** Where the default estate ends when everything is approved and nothing goes wrong (loop.test.ts). */
const DEFAULT_VERDICTS = {
  payments: 'ENFORCED',
  analytics: 'ENFORCED',
  fresh: 'ENFORCED',
  edge: 'ENFORCED_WITH_EXCLUSIONS',
  shared: 'EXEMPT',
  legacy: 'BLOCKED',
  inspection: 'BLOCKED',
};

function verdicts(summary: RunSummary | undefined): Record<string, string> {
  return Object.fromEntries((summary?.vpcs ?? []).map((v) => [v.name, v.after]));
}

/** Actions whose last attempt in the run failed, as the summary gives them (a retried success clears one). */
function unresolvedFailures(summary: RunSummary | undefined): string[] {
  return (summary?.vpcs ?? []).flatMap((v) => v.remaining.filter((r) => r.startsWith('Could not ')));
}

function history(l: LocalLoop, executionArn: string): readonly ExecutionEvent[] {
  return l.sandbox.stepFunctions.runner.execution(executionArn)?.history ?? [];
}

/** Task (Lambda) failures the state machine saw, by error name, in order. */
function taskFailures(l: LocalLoop, executionArn: string) {
  return history(l, executionArn)
    .filter((e) => e.type === 'LambdaFunctionFailed' || e.type === 'TaskFailed')
    .map((e) => ({ id: e.id, state: e.stateName ?? '', error: e.error ?? '', cause: e.cause ?? '' }));
}

/** Every failed attempt of a state was followed by a successful attempt of the same state: the Retry absorbed it. */
function retriedToSuccess(l: LocalLoop, executionArn: string, failures: ReturnType<typeof taskFailures>) {
  const events = history(l, executionArn);
  return failures.every((f) =>
    events.some(
      (e) =>
        e.id > f.id &&
        e.stateName === f.state &&
        (e.type === 'LambdaFunctionSucceeded' || e.type === 'TaskSucceeded'),
    ),
  );
}

function snsMessages(l: LocalLoop) {
  return l.sandbox.sns.messagesFor(l.topicArn);
}

function vpcFinding(l: LocalLoop, vpcId: string | undefined): AwsSecurityFinding | undefined {
  const hub = l.sandbox.securityHub;
  return hub
    .findings(ACCOUNT, REGION)
    .filter((f) => f.ProductArn === defaultProductArn(ACCOUNT, REGION))
    .find((f) => f.Id?.endsWith(`/${vpcId}/vpc-encryption-enforced`));
}

function controlOf(l: LocalLoop, vpcId: string) {
  return l.sandbox.ec2.regionState(ACCOUNT, REGION).vpcs.get(vpcId)?.control;
}

/** A VPC's id by its Name tag (scenario VPCs, and those the recorded CloudTrail calls created). */
function vpcIdOf(l: LocalLoop, name: string): string {
  const vpcs = l.sandbox.ec2.regionState(ACCOUNT, REGION).vpcs.values();
  const id = [...vpcs].find((v) => v.tags.get('Name') === name)?.id;
  if (!id) throw new Error(`no VPC named ${name} in ${ACCOUNT}/${REGION}`);
  return id;
}

/**
 * Once the audit of some iteration has seen `vpcName` enforced, change it behind vecguard's back (once),
 * while that iteration plans and applies; resolves with the iteration it happened in (undefined: never).
 */
function driftOnceEnforced(l: LocalLoop, vpcName: string, change: (vpcId: string) => void) {
  const vpcId = vpcIdOf(l, vpcName);
  let at: number | undefined;
  let pending: Promise<void> = Promise.resolve();
  const stop = l.sandbox.stepFunctions.runner.onEvent((event) => {
    if (at !== undefined || event.type !== 'TaskStateEntered' || event.stateName !== 'Plan') return;
    const input = event.input as { scope: { runId: string }; iteration: { n: number } };
    const iteration = input.iteration.n;
    pending = pending.then(async () => {
      if (at !== undefined) return;
      const audit = await l.blobs.getBlob(
        { runId: input.scope.runId, accountId: ACCOUNT, region: REGION },
        'audit',
        iteration,
      );
      const seen = audit.vpcs.find((v) => v.vpcId === vpcId)?.verdict;
      if (seen === 'ENFORCED' || seen === 'ENFORCED_WITH_EXCLUSIONS') {
        at = iteration;
        change(vpcId);
      }
    });
  });
  return async () => {
    stop();
    await pending;
    return at;
  };
}

describe('EC2 throttling', () => {
  it('with small request-rate buckets the run is throttled, retries, and converges to the same verdicts', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    // Buckets of a few requests that refill slowly (per sandbox second; the sandbox clock runs at 600×, so
    // reads refill at 3 and writes at 1.5 per real second: well under what the client's EC2-sized buckets send).
    loop.sandbox.throttle.configure({
      enabled: true,
      read: { burst: 3, perSecond: 0.005 },
      write: { burst: 2, perSecond: 0.0025 },
    });
    const { result, summary, executionArn } = await runToEnd(loop, () => true);

    expect(loop.sandbox.calls.query({ errorCode: 'RequestLimitExceeded' }).length).toBeGreaterThan(0);
    expect(result.status).toBe('SUCCEEDED');
    expect(verdicts(summary)).toEqual(DEFAULT_VERDICTS);
    expect(unresolvedFailures(summary)).toEqual([]);
    // Throttling that outlived the SDK's retries reaches the state machine as ThrottlingError: retried there.
    const throttled = taskFailures(loop, executionArn).filter((f) => f.error === 'ThrottlingError');
    expect(retriedToSuccess(loop, executionArn, throttled)).toBe(true);
    expect(taskFailures(loop, executionArn).filter((f) => f.error !== 'ThrottlingError')).toEqual([]);
  });
});

describe('EC2 5xx errors', () => {
  it('20% InternalError and an Unavailable that outlives the SDK are absorbed by the retries: same verdicts', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    const { faults } = loop.sandbox;
    // Eight 503s in a row exhaust the SDK's attempts on the first DescribeVpcs: the state machine must retry.
    faults.add({ service: 'ec2', action: 'DescribeVpcs', errorCode: 'Unavailable', times: 8 });
    faults.add({ service: 'ec2', errorCode: 'InternalError', errorRate: 0.2 });
    const { result, summary, executionArn } = await runToEnd(loop, () => true);

    const calls = loop.sandbox.calls;
    expect(calls.query({ errorCode: 'Unavailable' })).toHaveLength(8);
    expect(calls.query({ errorCode: 'InternalError' }).length).toBeGreaterThan(10);
    expect(result.status).toBe('SUCCEEDED');
    expect(verdicts(summary)).toEqual(DEFAULT_VERDICTS);
    expect(unresolvedFailures(summary)).toEqual([]);
    const failures = taskFailures(loop, executionArn);
    expect(failures[0]).toMatchObject({ state: 'Inventory', error: 'TransientAwsError' });
    expect(failures[0]?.cause).toMatch(/DescribeVpcs failed: Unavailable/);
    expect(retriedToSuccess(loop, executionArn, failures)).toBe(true);
  });

  it('a 5xx that never stops ends the run FAILED, with a failure report naming the step, the action and the error', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    loop.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyVpcEncryptionControl',
      errorCode: 'InternalError',
    });
    const { result, runId, executionArn, summary } = await runToEnd(loop, () => true);

    // Never a silent success: the execution fails, and no run report claims anything.
    expect(result).toMatchObject({ status: 'FAILED', error: 'VecguardRunFailed' });
    expect(summary).toBeUndefined();
    // The state machine retried the step before giving up.
    const failures = taskFailures(loop, executionArn).filter((f) => f.error === 'TransientAwsError');
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(new Set(failures.map((f) => f.state))).toEqual(new Set(['ApplyApproved']));

    const messages = snsMessages(loop);
    const failure = messages.find((m) => m.subject?.startsWith('vecguard FAILED'));
    expect(failure?.subject).toBe(`vecguard FAILED in Apply ${ACCOUNT} ${REGION}: TransientAwsError`);
    expect(failure?.message).toContain(`vecguard run ${runId} failed in state Apply`);
    expect(failure?.message).toMatch(
      /TransientAwsError: .*(enable-exclusion|switch-to-enforce) on vpc-[0-9a-f]+: ec2 ModifyVpcEncryptionControl failed: InternalError/,
    );
    expect(messages.filter((m) => m.subject?.startsWith('vecguard run '))).toEqual([]);

    // The audit log has each failed attempt, with AWS's error; nothing reached enforce.
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);
    const failed = entries.filter((e) => e.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    // (A group still calling when the run failed may be read back first as not in effect, then record its own.)
    for (const e of failed) expect(e.error).toMatch(/^(InternalError|NotInEffect): /);
    expect(failed.some((e) => e.error?.startsWith('InternalError: '))).toBe(true);
    for (const name of ['payments', 'analytics', 'edge', 'fresh'])
      expect(controlOf(loop, vpcIdOf(loop, name))?.mode, name).not.toBe('enforce');
  });

  it('a client error that never stops is recorded failed, counted, and named as the reason, while the rest converges', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    loop.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyVpcEncryptionControl',
      errorCode: 'InvalidParameterValue',
      errorMessage: 'Injected: the request was refused.',
    });
    const { result, summary, runId } = await runToEnd(loop, () => true);

    expect(result.status).toBe('SUCCEEDED');
    const vpcs = byName(summary);
    // Every VPC whose walk needs ModifyVpcEncryptionControl stays short of enforce, and says why.
    for (const name of ['payments', 'analytics', 'edge', 'fresh']) {
      expect(vpcs[name]?.after, name).toBe('READY_TO_ENFORCE');
      expect(vpcs[name]?.actions.some((a) => a.outcome === 'failed')).toBe(true);
      expect(vpcs[name]?.remaining[0], name).toMatch(
        /^Could not (enable the \w+ exclusion on|switch) vpc-.*: InvalidParameterValue: .*Injected: the request was refused/,
      );
    }
    // What does not need that call still gets done.
    expect(vpcs.legacy?.actions.filter((a) => a.kind === 'move-instance').map((a) => a.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
    ]);
    expect(summary?.transitGateways[0]?.encryptionSupport).toBe('enabled');
    // A refused action is tried again in each iteration that follows: it counts once as failed, and each try
    // as a failed attempt.
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);
    const failedEntries = entries.filter((e) => e.outcome === 'failed');
    const failedActions = new Set(failedEntries.map((e) => e.actionId));
    for (const id of failedActions) {
      const tries = failedEntries.filter((e) => e.actionId === id).length;
      expect(tries, id).toBeGreaterThan(1);
      expect(tries, id).toBeLessThanOrEqual(summary?.iterations ?? 0);
    }
    expect(summary?.actions).toMatchObject({
      failed: failedActions.size,
      failedAttempts: failedEntries.length,
    });
    // One failed action, one reason a person reads.
    expect(unresolvedFailures(summary)).toHaveLength(failedActions.size);
    // The SNS summary counts the failed actions and their attempts, and gives the failure as the reason.
    const report = snsMessages(loop).find((m) => m.subject?.startsWith('vecguard run '));
    expect(report?.subject).toContain(`, ${failedActions.size} failed,`);
    expect(report?.message).toContain(
      `failed ${failedActions.size} (${failedEntries.length} failed attempts)`,
    );
    expect(report?.message).toMatch(
      /payments \(vpc-[0-9a-f]+\): READY_TO_ENFORCE\. Could not enable .*InvalidParameterValue/,
    );
  });
});

describe('a failed transition', () => {
  it('enforce ending enforce-failed is reported TRANSITION_FAILED with AWS StateMessage, and a FAILED finding', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    const payments = vpcIdOf(loop, 'payments');
    const stateMessage = 'Injected: a non-capable ENI appeared during enforce-in-progress';
    loop.sandbox.ec2.failNextTransition(payments, stateMessage);
    const { result, summary, runId } = await runToEnd(loop, () => true);

    expect(result.status).toBe('SUCCEEDED');
    const vpc = byName(summary).payments;
    expect(vpc?.after).toBe('TRANSITION_FAILED');
    // The call was made, and it did not hold: the log says both, and the run's result counts it failed.
    const enforce = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
      (e) => e.runId === runId && e.kind === 'switch-to-enforce' && e.resourceId === payments,
    );
    expect(enforce.map((e) => e.outcome).slice(0, 2)).toEqual(['applied', 'failed']);
    expect(enforce[1]?.error).toMatch(/^TransitionFailed: .*enforce-failed|^TransitionFailed: /);
    expect(vpc?.actions.filter((a) => a.kind === 'switch-to-enforce').map((a) => a.outcome)).toContain(
      'failed',
    );
    expect(summary?.actions.failed).toBeGreaterThanOrEqual(1);
    expect((result.output as { actions?: { failed?: number } })?.actions?.failed).toBeGreaterThanOrEqual(1);
    expect(vpc?.remaining.join(' ')).toContain(stateMessage);
    expect(controlOf(loop, payments)).toMatchObject({ state: 'enforce-failed' });

    const finding = vpcFinding(loop, payments);
    expect(finding?.Compliance?.Status).toBe('FAILED');
    expect(finding?.Severity?.Label).toBe('HIGH');
    const report = snsMessages(loop).find((m) => m.subject?.startsWith('vecguard run '));
    expect(report?.message).toMatch(
      /payments \(vpc-[0-9a-f]+\): TRANSITION_FAILED\..*Injected: a non-capable ENI/,
    );
    // The failure stays with payments; its peer analytics keeps the VpcPeering exclusion payments still needs.
    expect(verdicts(summary)).toEqual({
      ...DEFAULT_VERDICTS,
      payments: 'TRANSITION_FAILED',
      analytics: 'ENFORCED_WITH_EXCLUSIONS',
    });
    expect(byName(summary).analytics?.exclusions).toEqual(['VpcPeering']);
  });
});

describe('drift during the run', () => {
  it('an enforced VPC switched back to monitor mid-run is found DRIFTED and restored to enforce once approved', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    const { sandbox } = loop;
    const drifted = driftOnceEnforced(loop, 'payments', (vpcId) => {
      sandbox.ec2.drift({ kind: 'set-control', vpcId, mode: 'monitor', accountId: ACCOUNT, region: REGION });
    });
    const { result, summary, approvals } = await runToEnd(loop, () => true);
    expect(await drifted()).toBeGreaterThan(0);

    expect(result.status).toBe('SUCCEEDED');
    expect(summary?.verdictsPerIteration.some((counts) => counts.DRIFTED === 1)).toBe(true);
    const payments = byName(summary).payments;
    expect(payments?.after).toBe('ENFORCED');
    expect(payments?.actions).toContainEqual(
      expect.objectContaining({
        kind: 'restore-enforce',
        outcome: 'applied',
        approvedBy: expect.stringMatching(/^arn:/),
      }),
    );
    expect(
      approvals.some(
        (a) => a.target.name === 'payments' && a.actionIds.some((id) => id.includes('restore-enforce')),
      ),
    ).toBe(true);
    expect(controlOf(loop, vpcIdOf(loop, 'payments'))).toMatchObject({ mode: 'enforce', state: 'available' });
    expect(verdicts(summary)).toEqual(DEFAULT_VERDICTS);
  });

  // An enforced VPC holding an instance that cannot encrypt (launched around EC2's check) is not ENFORCED:
  // the inventory reads the blockers of enforced VPCs with a type not known to be capable.
  it('a non-capable instance launched into an enforced VPC mid-run is never reported ENFORCED', async () => {
    loop = await startLoop({ faultSeed: FAULT_SEED });
    await replayRecordedEvents(loop);
    const { sandbox } = loop;
    let rogue = '';
    const drifted = driftOnceEnforced(loop, 'payments', (vpcId) => {
      rogue = sandbox.ec2.drift({
        kind: 'add-instance',
        vpcId,
        instanceType: 'c5.large',
        tags: { Name: 'rogue' },
        accountId: ACCOUNT,
        region: REGION,
      });
    });
    const { result, summary } = await runToEnd(loop, () => true);
    expect(await drifted()).toBeGreaterThanOrEqual(0);
    expect(result.status).toBe('SUCCEEDED');

    const payments = byName(summary).payments;
    const stillThere =
      sandbox.ec2.regionState(ACCOUNT, REGION).instances.get(rogue)?.instanceType === 'c5.large';
    // Either vecguard moved the instance to a capable type (and says so), or it reports the VPC not enforced.
    if (stillThere) {
      expect(payments?.after).not.toBe('ENFORCED');
      expect(payments?.remaining.join(' ')).toContain(rogue);
    } else {
      expect(payments?.actions).toContainEqual(
        expect.objectContaining({ kind: 'move-instance', outcome: 'applied' }),
      );
    }
  });
});

describe('the drift scenario: drift after a converged sweep', () => {
  async function convergedThenDrifted() {
    const l = await startLoop({ scenario: 'drift', faultSeed: FAULT_SEED });
    loop = l;
    const first = await runToEnd(l, () => true);
    expect(first.result.status).toBe('SUCCEEDED');
    expect(verdicts(first.summary)).toEqual({ orders: 'ENFORCED', billing: 'ENFORCED', search: 'ENFORCED' });
    expect(mutatingEc2Calls(l)).toEqual([]);
    for (const event of eventsOfPhase(l.sandbox.scenario?.events ?? [], 'after-sweep').drift)
      applyDriftEvent(l.sandbox, event, { account: ACCOUNT, region: REGION });
    return l;
  }

  it('a VPC switched back to monitor is DRIFTED with a HIGH FAILED finding until restored; then a further run changes nothing', async () => {
    const l = await convergedThenDrifted();
    const orders = vpcIdOf(l, 'orders');

    // Nobody approves: the drift stays, and is reported as such.
    const rejected = await runToEnd(l, () => false);
    expect(rejected.result.status).toBe('SUCCEEDED');
    const seen = byName(rejected.summary).orders;
    expect(seen).toMatchObject({ before: 'DRIFTED', after: 'DRIFTED', actions: [] });
    expect(seen?.remaining.join(' ')).toMatch(/was enforced and no longer is/);
    // billing drifted too: a non-capable instance was launched into it around the enforcement check.
    expect(rejected.approvals.map((a) => a.target.name).sort()).toEqual(['billing', 'orders']);
    expect(byName(rejected.summary).billing?.after).toBe('DRIFTED');
    const finding = vpcFinding(l, orders);
    expect(finding?.Compliance?.Status).toBe('FAILED');
    expect(finding?.Severity?.Label).toBe('HIGH');

    // Approved: enforce is restored, and the finding resolves.
    const restored = await runToEnd(l, () => true);
    expect(restored.result.status).toBe('SUCCEEDED');
    expect(byName(restored.summary).orders).toMatchObject({ before: 'DRIFTED', after: 'ENFORCED' });
    expect(byName(restored.summary).orders?.actions).toEqual([
      expect.objectContaining({ kind: 'restore-enforce', outcome: 'applied' }),
    ]);
    expect(controlOf(l, orders)).toMatchObject({ mode: 'enforce', state: 'available' });
    expect(vpcFinding(l, orders)?.Compliance?.Status).toBe('PASSED');

    // Converged: nothing to change, nothing to approve.
    const before = mutatingEc2Calls(l).length;
    const again = await runToEnd(l, () => true);
    expect(again.result.status).toBe('SUCCEEDED');
    expect(mutatingEc2Calls(l).length).toBe(before);
    expect(again.approvals).toEqual([]);
    expect(again.summary?.actions.applied).toBe(0);
    expect(byName(again.summary).orders?.after).toBe('ENFORCED');
  });

  // The rogue c5.large in billing.
  it('a non-capable instance launched into an enforced VPC is never reported ENFORCED', async () => {
    const l = await convergedThenDrifted();
    const second = await runToEnd(l, () => true);
    expect(second.result.status).toBe('SUCCEEDED');
    const billing = byName(second.summary).billing;
    const rogue = [...l.sandbox.ec2.regionState(ACCOUNT, REGION).instances.values()].find(
      (i) => i.tags.get('Name') === 'rogue',
    );
    if (rogue?.instanceType === 'c5.large') {
      expect(billing?.after).not.toBe('ENFORCED');
      expect(billing?.blockers.map((b) => b.id).join(' ')).toMatch(/eni-|i-/);
    } else {
      expect(billing?.actions).toContainEqual(
        expect.objectContaining({ kind: 'move-instance', outcome: 'applied' }),
      );
    }
  });
});
