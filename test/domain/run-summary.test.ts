import { describe, expect, it } from 'vitest';
import { audit } from '../../functions/domain/audit.ts';
import { MODE_TAG } from '../../functions/domain/model.ts';
import { runReportNotification } from '../../functions/domain/notifications.ts';
import { plan } from '../../functions/domain/planner.ts';
import {
  countActionOutcomes,
  needsFreshAudit,
  type RunRecord,
  runReportNotice,
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
  transitGateway,
  type VpcInput,
  vpc,
} from './fixtures.ts';

const POLICY = policy();

/**
 * The estate the run starts on: payments ready to enforce, edge blocked by a gateway the policy does not
 * accept (guidance), vpc-c without a control, lab kept in monitor by its tag; Transit Gateway `core`.
 */
const payments = (mode: 'monitor' | 'enforce') =>
  vpc('vpc-a', { control: control(mode), tags: { Name: 'payments' } });
const edge = vpc('vpc-b', {
  control: control('monitor'),
  blockers: [blocker('igw-1')],
  tags: { Name: 'edge' },
});
const lab = vpc('vpc-m', { control: control('monitor'), tags: { Name: 'lab', [MODE_TAG]: 'monitor' } });

function estate(at: number, vpcs: VpcInput[]) {
  return snapshot({
    takenAt: secondsAfter(at),
    vpcs,
    gateways: [gateway('igw-1', 'vpc-b')],
    transitGateways: [
      transitGateway('tgw-1', { tags: { Name: 'core' }, encryptionSupport: 'enabled' }),
      transitGateway('tgw-2'),
    ],
  });
}

const START = estate(0, [payments('monitor'), edge, vpc('vpc-c'), lab]);
const AUDIT_0 = audit(START, POLICY);
const PLAN_0 = plan(AUDIT_0, START, POLICY);
// Iteration 1: vpc-c got its control; the switch of payments failed.
const MIDDLE = estate(600, [payments('monitor'), edge, vpc('vpc-c', { control: control('monitor') }), lab]);
const AUDIT_1 = audit(MIDDLE, POLICY);
const PLAN_1 = plan(AUDIT_1, MIDDLE, POLICY);
// After the last change: payments enforced, and a VPC someone created during the run.
const END = estate(1200, [
  payments('enforce'),
  edge,
  vpc('vpc-c', { control: control('monitor') }),
  lab,
  vpc('vpc-n', { tags: { Name: 'new' } }),
]);
const AUDIT_END = audit(END, POLICY);

// Ready to enforce: payments, and lab (its tag keeps it in monitor, which is where the policy wants it).
const START_COUNTS = { READY_TO_ENFORCE: 2, BLOCKED: 1, UNMONITORED: 1 };
const END_COUNTS = { ENFORCED: 1, READY_TO_ENFORCE: 2, BLOCKED: 1, UNMONITORED: 1 };

const SWITCH = 'switch-to-enforce:vpc-a';
const CREATE = 'create-monitor-control:vpc-c';

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    scope: { runId: RUN_ID, accountId: ACCOUNT_ID, region: REGION },
    dryRun: false,
    iterations: 2,
    finishedAt: secondsAfter(1300),
    audits: [AUDIT_0, AUDIT_1],
    final: { audit: AUDIT_END, snapshot: END, fresh: true },
    plans: [PLAN_0, PLAN_1],
    attempts: [
      attempt(CREATE, 'applied', secondsAfter(10), { approvedBy: 'arn:aws:iam::111122223333:user/alex' }),
      attempt(SWITCH, 'failed', secondsAfter(11)),
      attempt(SWITCH, 'applied', secondsAfter(610)),
    ],
    approvals: [],
    findings: null,
    ...overrides,
  };
}

const vpcOf = (r: RunRecord, vpcId: string) => summariseRun(r).vpcs.find((v) => v.vpcId === vpcId);

describe('summariseRun', () => {
  it('the fixture estate is what the cases below rely on', () => {
    const verdicts = Object.fromEntries(AUDIT_0.vpcs.map((v) => [v.vpcId, v.verdict]));
    expect(verdicts).toMatchObject({
      'vpc-a': 'READY_TO_ENFORCE',
      'vpc-b': 'BLOCKED',
      'vpc-c': 'UNMONITORED',
    });
    expect(PLAN_0.actions.map((a) => a.id)).toEqual(expect.arrayContaining([SWITCH, CREATE]));
    expect(AUDIT_END.vpcs.find((v) => v.vpcId === 'vpc-a')?.verdict).toBe('ENFORCED');
  });

  it('gives each VPC its verdict at the first audit and at the end, and a VPC created during the run none before', () => {
    const s = summariseRun(record());
    expect(s.vpcs.map((v) => [v.name, v.before, v.after])).toEqual(
      AUDIT_END.vpcs.map((v) => [
        v.name,
        AUDIT_0.vpcs.find((b) => b.vpcId === v.vpcId)?.verdict ?? null,
        v.verdict,
      ]),
    );
    expect(s.vpcs.find((v) => v.name === 'payments')).toMatchObject({
      before: 'READY_TO_ENFORCE',
      after: 'ENFORCED',
    });
    expect(s.vpcs.find((v) => v.name === 'new')).toMatchObject({ before: null, after: 'UNMONITORED' });
  });

  it("lists a VPC's attempts in the log's order, in words from the plan, with who approved them", () => {
    expect(vpcOf(record(), 'vpc-a')?.actions).toEqual([
      {
        kind: 'switch-to-enforce',
        summary: 'switch vpc-a (payments) to enforce mode',
        outcome: 'failed',
        approvedBy: 'auto',
      },
      {
        kind: 'switch-to-enforce',
        summary: 'switch vpc-a (payments) to enforce mode',
        outcome: 'applied',
        approvedBy: 'auto',
      },
    ]);
    expect(vpcOf(record(), 'vpc-c')?.actions).toEqual([
      {
        kind: 'create-monitor-control',
        summary: 'create an encryption control in monitor mode on vpc-c',
        outcome: 'applied',
        approvedBy: 'arn:aws:iam::111122223333:user/alex',
      },
    ]);
  });

  it('takes attempts in time order, then action id, however they were read', () => {
    const r = record();
    expect(summariseRun({ ...r, attempts: [...r.attempts].reverse() })).toEqual(summariseRun(r));
  });

  it('lists attempts that ended at the same time by action id, as the log does', () => {
    const same = secondsAfter(5);
    const r = record({
      attempts: [attempt(SWITCH, 'applied', same), attempt('enable-exclusion:vpc-a', 'applied', same)],
    });
    expect(vpcOf(r, 'vpc-a')?.actions.map((a) => a.kind)).toEqual(['enable-exclusion', 'switch-to-enforce']);
  });

  it('names an action no plan has by its kind and resource', () => {
    const r = record({
      attempts: [
        attempt('enable-exclusion:vpc-c', 'failed', secondsAfter(5), { error: 'InternalError: boom' }),
      ],
    });
    expect(vpcOf(r, 'vpc-c')?.actions[0]?.summary).toBe('enable-exclusion vpc-c');
    expect(vpcOf(r, 'vpc-c')?.remaining[0]).toBe('Could not enable-exclusion vpc-c: InternalError: boom.');
  });

  it('puts an action whose last attempt failed first in what is left, with AWS error, one line per action', () => {
    const r = record({
      final: { audit: AUDIT_1, snapshot: MIDDLE, fresh: false },
      attempts: [
        attempt(SWITCH, 'failed', secondsAfter(11), { error: 'InvalidParameterValue: refused.' }),
        attempt(SWITCH, 'failed', secondsAfter(611), { error: 'InvalidParameterValue: refused again.' }),
      ],
    });
    const a = vpcOf(r, 'vpc-a');
    expect(a?.remaining[0]).toBe(
      'Could not switch vpc-a (payments) to enforce mode: InvalidParameterValue: refused again.',
    );
    expect(a?.remaining.filter((line) => line.startsWith('Could not'))).toHaveLength(1);
    expect(a?.remaining.slice(1)).toEqual(AUDIT_1.vpcs.find((v) => v.vpcId === 'vpc-a')?.reasons);
  });

  it('says so when a failed attempt recorded no error', () => {
    const r = record({ attempts: [attempt(SWITCH, 'failed', secondsAfter(11), { error: undefined })] });
    expect(vpcOf(r, 'vpc-a')?.remaining[0]).toBe(
      'Could not switch vpc-a (payments) to enforce mode: no error recorded.',
    );
  });

  it('clears a failure that a later attempt got past', () => {
    expect(vpcOf(record(), 'vpc-a')?.remaining).toEqual([]);
    const refusedLater = record({
      attempts: [attempt(SWITCH, 'failed', secondsAfter(11)), attempt(SWITCH, 'refused', secondsAfter(611))],
    });
    expect(vpcOf(refusedLater, 'vpc-a')?.remaining.some((line) => line.startsWith('Could not'))).toBe(false);
  });

  it("gives a VPC short of the policy its audit's reasons and the last plan's guidance; one where it should be, nothing", () => {
    const s = summariseRun(record());
    const edgeVerdict = AUDIT_END.vpcs.find((v) => v.vpcId === 'vpc-b');
    const guidance = PLAN_1.actions.filter((a) => a.kind === 'manual-guidance' && a.vpcId === 'vpc-b');
    expect(guidance).not.toEqual([]);
    expect(s.vpcs.find((v) => v.vpcId === 'vpc-b')?.remaining).toEqual([
      ...(edgeVerdict?.reasons ?? []),
      ...guidance.map((a) => a.reason),
    ]);
    expect(s.vpcs.find((v) => v.vpcId === 'vpc-a')?.remaining).toEqual([]);
    // Kept in monitor by its tag and in monitor: where the policy wants it, whatever the verdict says.
    const labVerdict = AUDIT_END.vpcs.find((v) => v.vpcId === 'vpc-m');
    expect(labVerdict).toMatchObject({ desiredMode: 'monitor', currentMode: 'monitor' });
    expect(s.vpcs.find((v) => v.vpcId === 'vpc-m')?.remaining).toEqual([]);
  });

  it('takes the blockers and exclusions of the end', () => {
    const b = vpcOf(record(), 'vpc-b');
    expect(b?.blockers).toEqual([{ id: 'igw-1', kind: 'internet-gateway' }]);
    expect(b?.exclusions).toEqual([]);
  });

  it('leaves out attempts of other runs', () => {
    const r = record({ attempts: [attempt(SWITCH, 'failed', secondsAfter(11), { runId: 'run-other' })] });
    const s = summariseRun(r);
    expect(s.vpcs.flatMap((v) => v.actions)).toEqual([]);
    expect(s.actions.failedAttempts).toBe(0);
  });

  it('counts approvals by status', () => {
    const statuses = ['approved', 'approved', 'rejected', 'expired', 'pending'];
    expect(summariseRun(record({ approvals: statuses.map((status) => ({ status })) })).approvals).toEqual({
      requested: 5,
      approved: 2,
      rejected: 1,
      expired: 1,
      pending: 1,
    });
  });

  it('names Transit Gateways by their Name tag where they have one', () => {
    expect(summariseRun(record()).transitGateways).toEqual([
      { id: 'tgw-1', name: 'core', encryptionSupport: 'enabled' },
      { id: 'tgw-2', encryptionSupport: 'disabled' },
    ]);
  });

  it('charts each iteration, and the end when the report audited again', () => {
    const fresh = summariseRun(record());
    expect(fresh.verdictsPerIteration).toHaveLength(3);
    expect(fresh.verdictsPerIteration[0]).toEqual(START_COUNTS);
    expect(fresh.verdictsPerIteration[2]).toEqual(END_COUNTS);
    const notFresh = summariseRun(record({ final: { audit: AUDIT_1, snapshot: MIDDLE, fresh: false } }));
    expect(notFresh.verdictsPerIteration).toHaveLength(2);
  });

  it('starts when the first audit was taken, or at the end when no iteration got as far as an audit', () => {
    expect(summariseRun(record()).startedAt).toBe(AUDIT_0.takenAt);
    const none = summariseRun(record({ audits: [], plans: [] }));
    expect(none.startedAt).toBe(AUDIT_END.takenAt);
    expect(none.vpcs.every((v) => v.before === null)).toBe(true);
    expect(none.verdictsPerIteration).toHaveLength(1);
  });

  it('carries the run, its counts and the findings published for the end', () => {
    const findings = { imported: 5, resolved: 1, archived: 0, failed: 0 };
    expect(summariseRun(record({ findings, dryRun: true }))).toMatchObject({
      runId: RUN_ID,
      accountId: ACCOUNT_ID,
      region: REGION,
      dryRun: true,
      iterations: 2,
      finishedAt: secondsAfter(1300),
      findings,
      actions: { applied: 2, dryRun: 0, failed: 0, failedAttempts: 1, alreadySo: 0, refused: 0 },
    });
  });
});

describe('countActionOutcomes', () => {
  it('counts an action refused by AWS in each of three iterations as one failed action and three failed attempts', () => {
    const attempts = [0, 600, 1200].map((t) => attempt(SWITCH, 'failed', secondsAfter(t)));
    expect(countActionOutcomes(attempts)).toMatchObject({ failed: 1, failedAttempts: 3 });
  });

  it('does not count as failed an action whose last attempt succeeded, but keeps its failed attempt', () => {
    const attempts = [
      attempt(SWITCH, 'already-so', secondsAfter(600)),
      attempt(SWITCH, 'failed', secondsAfter(0)),
    ];
    expect(countActionOutcomes(attempts)).toEqual({
      applied: 0,
      dryRun: 0,
      failed: 0,
      failedAttempts: 1,
      alreadySo: 1,
      refused: 0,
    });
  });

  it('counts every other outcome by attempt', () => {
    const attempts = [
      attempt(CREATE, 'dry-run', secondsAfter(0)),
      attempt(CREATE, 'dry-run', secondsAfter(600)),
      attempt(SWITCH, 'refused', secondsAfter(1)),
      attempt(SWITCH, 'refused', secondsAfter(601)),
      attempt('move-instance:i-1', 'applied', secondsAfter(2)),
    ];
    expect(countActionOutcomes(attempts)).toEqual({
      applied: 1,
      dryRun: 2,
      failed: 0,
      failedAttempts: 0,
      alreadySo: 0,
      refused: 2,
    });
  });

  it('keeps each action to its own last attempt when two actions end at the same time', () => {
    const same = secondsAfter(5);
    const attempts = [
      attempt('move-instance:i-b', 'applied', same),
      attempt('move-instance:i-a', 'failed', same),
    ];
    expect(countActionOutcomes(attempts)).toMatchObject({ failed: 1, failedAttempts: 1, applied: 1 });
  });
});

describe('needsFreshAudit', () => {
  const applied = (at: number, runId = RUN_ID) => attempt(SWITCH, 'applied', secondsAfter(at), { runId });

  it('audits again when no iteration got as far as an audit', () => {
    expect(needsFreshAudit(undefined, [], RUN_ID)).toBe(true);
  });

  it('audits again when the run applied something at or after the last audit', () => {
    expect(needsFreshAudit(AUDIT_1, [applied(600)], RUN_ID)).toBe(true);
    expect(needsFreshAudit(AUDIT_1, [applied(700)], RUN_ID)).toBe(true);
  });

  it('keeps the last audit when nothing was applied after it, or only by another run, or only failed', () => {
    expect(needsFreshAudit(AUDIT_1, [applied(10)], RUN_ID)).toBe(false);
    expect(needsFreshAudit(AUDIT_1, [applied(700, 'run-other')], RUN_ID)).toBe(false);
    expect(needsFreshAudit(AUDIT_1, [attempt(SWITCH, 'failed', secondsAfter(700))], RUN_ID)).toBe(false);
  });
});

describe('runReportNotice', () => {
  it('compares the first audit with the end, and gives the first reason left for each VPC short of the policy', () => {
    const r = record();
    const n = runReportNotice(r, summariseRun(r));
    expect(n.verdictsBefore).toEqual(START_COUNTS);
    expect(n.verdictsAfter).toEqual(END_COUNTS);
    expect(n.actionLines).toHaveLength(3);
    expect(n.remaining.map((x) => x.name)).toEqual(
      summariseRun(r)
        .vpcs.filter((v) => v.remaining.length > 0)
        .map((v) => v.name),
    );
    expect(runReportNotice(record({ audits: [], plans: [] }), summariseRun(r)).verdictsBefore).toEqual({});
  });

  it('reads as one failed action and its failed attempts when AWS refused it every time', () => {
    const r = record({
      final: { audit: AUDIT_1, snapshot: MIDDLE, fresh: false },
      attempts: [attempt(SWITCH, 'failed', secondsAfter(11)), attempt(SWITCH, 'failed', secondsAfter(611))],
    });
    const n = runReportNotification(runReportNotice(r, summariseRun(r)));
    expect(n.message).toContain('failed 1 (2 failed attempts)');
    expect(n.subject).toContain(', 1 failed,');
    expect(n.message).toMatch(/payments \(vpc-a\): READY_TO_ENFORCE\. Could not switch vpc-a/);
  });

  it('says nothing of attempts when each failed action failed once', () => {
    const r = record({ attempts: [attempt(SWITCH, 'failed', secondsAfter(11))] });
    const n = runReportNotification(runReportNotice(r, summariseRun(r)));
    expect(n.message).toContain('failed 1, already so 0');
  });
});
