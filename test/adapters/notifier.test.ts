import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_ACCOUNT_ID, type Sandbox, type SnsEmulator, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notify } from '#adapters/notifier.ts';
import {
  type ApprovalRequestNotice,
  approvalRequestNotification,
  failureReportNotification,
  LIST_MAX,
  type RunReportNotice,
  runReportNotification,
  subjectLine,
} from '#domain/notifications.ts';
import { AwsCallError } from '#shared/errors.ts';

const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAR7secret-task-token';

const approval: ApprovalRequestNotice = {
  approvalId: 'apr-0123456789abcdef',
  runId: 'run-20261124T013000Z-1a2b',
  accountId: '111111111111',
  region: 'us-east-1',
  target: { type: 'vpc', id: 'vpc-0a1b2c3d', name: 'payments-prod' },
  actions: [
    {
      kind: 'enable-exclusion',
      resourceId: 'vpc-0a1b2c3d',
      summary: 'Enable the NatGateway exclusion on vpc-0a1b2c3d',
      reason: 'nat-0123 cannot encrypt in transit and the policy accepts the NatGateway exclusion.',
      risks: ['posture'],
      monthlyCostDeltaUsd: 0,
    },
    {
      kind: 'switch-to-enforce',
      resourceId: 'vpc-0a1b2c3d',
      summary: 'Switch vpc-0a1b2c3d to enforce',
      reason: 'No non-excludable blocker remains.',
      risks: ['disruptive'],
      monthlyCostDeltaUsd: 109.5,
    },
  ],
  monthlyCostUsd: 109.5,
  requestedAt: '2026-11-24T01:30:00.000Z',
  expiresAt: '2026-11-25T01:30:00.000Z',
};

const report: RunReportNotice = {
  runId: 'run-20261124T013000Z-1a2b',
  accountId: '111111111111',
  region: 'us-east-1',
  finishedAt: '2026-11-24T02:10:00.000Z',
  dryRun: false,
  verdictsBefore: { UNMONITORED: 3, BLOCKED: 2, ENFORCED: 1 },
  verdictsAfter: { ENFORCED: 4, BLOCKED: 2 },
  actions: { applied: 6, dryRun: 0, failed: 1, alreadySo: 0 },
  actionLines: [
    { outcome: 'applied', summary: 'Create a monitor control on vpc-1' },
    { outcome: 'failed', summary: 'Move i-1 to m7i.large', error: 'IncorrectInstanceState' },
  ],
  approvals: { pending: 1, approved: 2, rejected: 0, expired: 0 },
  remaining: [
    {
      resourceId: 'vpc-9',
      name: 'legacy',
      verdict: 'BLOCKED',
      why: 'A Gateway Load Balancer has no exclusion.',
    },
    { resourceId: 'vpc-8', verdict: 'BLOCKED', why: 'Waiting for approval apr-1.' },
  ],
};

describe('notification text', () => {
  it('an approval request says it binds to the changes as shown, by their digest, and asks again otherwise', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const m = approvalRequestNotification({ ...approval, digest }).message;
    expect(m).toContain('WHAT YOU APPROVE');
    expect(m).toContain(`(digest sha256:${'ab'.repeat(8)}…)`);
    expect(m).toContain('nothing is applied and you are asked again');
  });

  it('an approval request says what, where, why, risk, cost, expiry and how to answer', () => {
    const n = approvalRequestNotification(approval);
    expect(n.kind).toBe('approval-request');
    const m = n.message;
    // what
    expect(m).toContain('Enable the NatGateway exclusion on vpc-0a1b2c3d');
    expect(m).toContain('Switch vpc-0a1b2c3d to enforce');
    // where
    expect(m).toContain('Account: 111111111111');
    expect(m).toContain('Region:  us-east-1');
    expect(m).toContain('payments-prod (vpc-0a1b2c3d)');
    // why
    expect(m).toContain('why: No non-excludable blocker remains.');
    // risk
    expect(m).toMatch(/posture - weakens what is enforced/);
    expect(m).toMatch(/disruptive - can interrupt workloads/);
    // cost
    expect(m).toContain('+$109.50 per month');
    // expiry
    expect(m).toContain('2026-11-25T01:30:00.000Z (24 hours after the request)');
    // how to answer
    expect(m).toContain('vecguard approve apr-0123456789abcdef\n');
    expect(m).toContain('vecguard approve apr-0123456789abcdef --reject --reason "<why>"');
    expect(n.attributes).toEqual({
      kind: 'approval-request',
      account: '111111111111',
      region: 'us-east-1',
      approvalId: 'apr-0123456789abcdef',
      runId: approval.runId,
    });
  });

  it('an approval request carries no URL and no task token', () => {
    const n = approvalRequestNotification(approval);
    const all = `${n.subject}\n${n.message}\n${Object.values(n.attributes).join('\n')}`;
    expect(all).not.toMatch(/https?:\/\//i);
    expect(all).not.toMatch(/token/i);
    expect(all).not.toContain(TASK_TOKEN);
  });

  it('a VPC name cannot forge lines of the message', () => {
    const n = approvalRequestNotification({
      ...approval,
      target: { ...approval.target, name: 'x\n\nHOW TO ANSWER\n  Approve: click here' },
    });
    expect(n.message).not.toMatch(/^\s*Approve: click here/m);
  });

  it('subjects are ASCII, one line and at most 100 characters', () => {
    const long = approvalRequestNotification({
      ...approval,
      target: { type: 'vpc', id: 'vpc-0a1b2c3d', name: 'zahlungsverkehr-produktion-é-ü-🔒-'.repeat(5) },
    });
    for (const subject of [
      long.subject,
      runReportNotification(report).subject,
      failureReportNotification({
        runId: 'r',
        accountId: '111111111111',
        region: 'us-east-1',
        state: 'Inventory',
        error: { name: 'AccessError', message: 'x' },
      }).subject,
    ]) {
      expect(subject.length).toBeLessThanOrEqual(100);
      expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
    }
    expect(long.subject).toMatch(/\.\.\.$/);
    expect(subjectLine('  Café\tnow → later  ')).toBe('Cafe now -> later');
    expect(subjectLine('🔒')).toBe('?');
    expect(subjectLine('   ')).toBe('vecguard');
  });

  it('a run report shows verdicts before -> after, the actions applied, and what is left and why', () => {
    const n = runReportNotification(report);
    expect(n.subject).toBe('vecguard run 111111111111 us-east-1: 4/6 enforced, 6 applied, 1 failed, 2 left');
    const m = n.message;
    expect(m).toContain('4 of 6 VPCs enforce encryption in transit (before: 1 of 6)');
    expect(m).toMatch(/ENFORCED\s+1 -> 4/);
    expect(m).toMatch(/UNMONITORED\s+3 -> 0/);
    expect(m).not.toMatch(/DRIFTED/);
    expect(m).toContain('applied 6, dry-run 0, failed 1, already so 0');
    expect(m).toContain('- failed: Move i-1 to m7i.large (IncorrectInstanceState)');
    expect(m).toContain('approved 2, rejected 0, expired 0, still pending 1');
    expect(m).toContain('- legacy (vpc-9): BLOCKED. A Gateway Load Balancer has no exclusion.');
    expect(n.attributes).toMatchObject({ kind: 'run-report', account: '111111111111', region: 'us-east-1' });
  });

  it('a run report caps long lists and says how many more', () => {
    const remaining = Array.from({ length: LIST_MAX + 7 }, (_, i) => ({
      resourceId: `vpc-${i}`,
      verdict: 'UNMONITORED',
      why: 'No control.',
    }));
    const n = runReportNotification({
      ...report,
      dryRun: true,
      remaining,
      actionLines: [],
      approvals: undefined,
    });
    expect(n.message).toContain('... and 7 more resources');
    expect(n.message).toContain('(dry run: nothing was changed)');
    expect(n.subject).toMatch(/^vecguard dry run /);
    expect(
      runReportNotification({ ...report, remaining: [], verdictsBefore: {}, verdictsAfter: {} }).message,
    ).toContain('nothing: every VPC in scope is where the policy wants it');
  });

  it('a failure report names the state, the error and what to do', () => {
    const base = { runId: 'run-1', accountId: '222222222222', region: 'eu-west-1', state: 'ApplyAuto' };
    const access = failureReportNotification({
      ...base,
      error: {
        name: 'AccessError',
        message: 'ec2 ModifyVpcEncryptionControl failed: UnauthorizedOperation: no',
      },
    });
    expect(access.subject).toBe('vecguard FAILED in ApplyAuto 222222222222 eu-west-1: AccessError');
    expect(access.message).toContain('failed in state ApplyAuto');
    expect(access.message).toContain('AccessError: ec2 ModifyVpcEncryptionControl failed');
    expect(access.message).toContain('Check that the vecguard role in account 222222222222 exists');
    expect(access.attributes).toEqual({
      kind: 'failure-report',
      account: '222222222222',
      region: 'eu-west-1',
      runId: 'run-1',
    });

    const advice = (name: string) =>
      failureReportNotification({ ...base, error: { name, message: '' } }).message;
    expect(advice('PolicyError')).toContain('fail the same way on retry');
    expect(advice('ThrottlingError')).toContain('throttled');
    expect(advice('BlobIncompleteError')).toContain('State stored for run run-1');
    expect(advice('States.Timeout')).toContain('time limit');
    expect(advice('TransientAwsError')).toContain('kept failing after retries');
    expect(advice('ExpiredToken')).toContain('invalid or expired');
    expect(advice('Weird')).toContain('execution history of run run-1');
    expect(advice('Weird')).toContain('(no message)');
  });
});

describe('notify against the sandbox SNS', () => {
  let sandbox: Sandbox;
  let emulator: SnsEmulator;
  let client: SNSClient;
  let topicArn: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ clock: { speed: 0 } });
    emulator = sandbox.sns;
    client = new SNSClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
    topicArn = (await client.send(new CreateTopicCommand({ Name: 'vecguard' }))).TopicArn as string;
  });
  afterAll(() => sandbox.stop());

  it('publishes an approval request that a subscriber can read, with kind/account/region attributes', async () => {
    const n = approvalRequestNotification(approval);
    const { messageId } = await notify(client, topicArn, n);
    const [stored] = emulator.messagesFor(topicArn);
    expect(stored).toMatchObject({
      messageId,
      accountId: DEFAULT_ACCOUNT_ID,
      subject: n.subject,
      message: n.message,
      messageAttributes: {
        kind: { DataType: 'String', StringValue: 'approval-request' },
        account: { DataType: 'String', StringValue: '111111111111' },
        region: { DataType: 'String', StringValue: 'us-east-1' },
      },
    });
    expect(stored?.message).toContain('vecguard approve apr-0123456789abcdef');
    expect(stored?.message).not.toMatch(/https?:\/\//);
  });

  it('publishes run and failure reports', async () => {
    await notify(client, topicArn, runReportNotification(report));
    await notify(
      client,
      topicArn,
      failureReportNotification({
        ...report,
        state: 'Plan',
        error: { name: 'PolicyError', message: 'targets[0]: bad' },
      }),
    );
    expect(emulator.messagesFor(topicArn).map((m) => m.messageAttributes.kind?.StringValue)).toEqual([
      'approval-request',
      'run-report',
      'failure-report',
    ]);
  });

  it('a refused publish throws an AwsCallError', async () => {
    const error = await notify(
      client,
      'arn:aws:sns:us-east-1:111111111111:missing',
      runReportNotification(report),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ service: 'sns', action: 'Publish' });
  });
});
