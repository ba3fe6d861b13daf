/**
 * `vecguard approvals` and `vecguard approve` against a real run of the loop: the local loop (the real ASL on
 * the sandbox's Step Functions, the real handlers) waits for approvals; the commands list and answer them
 * through the approver endpoint's function URL (VECGUARD_APPROVER_URL, set by the local loop), signing with
 * the sandbox identity found through the environment, as a person's shell would.
 */
import { DescribeVpcEncryptionControlsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import { type LocalLoop, startLocalLoop } from '../../local/loop.ts';
import { run } from './helpers.ts';

const ROOT = 'arn:aws:iam::111111111111:root';
let loop: LocalLoop;

beforeAll(async () => {
  // startLocalLoop points AWS_ENDPOINT_URL, the keys and VECGUARD_TABLE_NAME at the sandbox, for the commands too.
  loop = await startLocalLoop({
    scenario: 'default',
    policyFile: 'examples/vecguard.policy.yaml',
    speed: 600,
    durations: { tgwEncryptionMs: 10 * 60_000 },
  });
});
afterAll(async () => {
  await loop?.stop();
});

/** `vecguard approvals --format json` until it lists `count` approvals of this run. */
async function pendingThroughCommand(runId: string, count: number): Promise<Approval[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await run('approvals', '--format', 'json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const listed = (JSON.parse(r.stdout) as Approval[]).filter((a) => a.runId === runId);
    if (listed.length >= count) return listed;
    if (Date.now() > deadline) throw new Error(`only ${listed.length} approvals pending: ${r.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function controlMode(vpcId: string): Promise<string | undefined> {
  const { sandbox } = loop;
  const ec2 = new EC2Client({
    endpoint: sandbox.url,
    region: sandbox.region,
    credentials: sandbox.clientCredentials,
  });
  const { VpcEncryptionControls } = await ec2.send(
    new DescribeVpcEncryptionControlsCommand({ VpcIds: [vpcId] }),
  );
  ec2.destroy();
  return VpcEncryptionControls?.[0]?.Mode;
}

describe('approving a run through the CLI', () => {
  it('lists what the run waits for, approves one, rejects the rest, and the run applies only the approved', async () => {
    const [started] = await loop.sweep();
    if (!started) throw new Error('the sweep started no execution');
    const { executionArn, runId } = started;
    // One group per VPC to change (legacy, inspection, analytics, payments, edge) and one for the TGW.
    const pending = await pendingThroughCommand(runId, 6);
    expect(pending.every((a) => !('taskToken' in a))).toBe(true);
    const payments = pending.find((a) => a.target.name === 'payments');
    const edge = pending.find((a) => a.target.name === 'edge');
    if (!payments || !edge) throw new Error('no approval for payments or edge');

    const listed = await run('approvals');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toBe(`6 pending approvals at ${loop.approverUrl}`);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(payments.approvalId));
    expect(row).toMatch(
      new RegExp(
        `^${payments.approvalId}\\s+payments \\(${payments.target.id}\\) 111111111111/us-east-1\\s+` +
          // A day of the state machine's clock is 144 real seconds at the local runner's 600x.
          'enable the VpcPeering exclusion on vpc-\\S+ \\(payments\\) \\(\\+1 more\\)\\s+posture,disruptive\\s+-\\s+(2m|1m|\\d+s)$',
      ),
    );
    expect(listed.stdout).toMatch(
      /create an encryption control in monitor mode on vpc-\S+ \(inspection\)\s+cost\s+\+\$109\.50\s+(2m|1m|\d+s)/,
    );

    const approved = await run('approve', payments.approvalId, '--reason', 'change CHG-1');
    expect(approved).toEqual({
      code: 0,
      stderr: '',
      stdout: `approved ${payments.approvalId} as ${ROOT}: 2 actions on payments; the run applies it now\n`,
    });
    const rejected = await run('reject', edge.approvalId, '--reason', 'not during the freeze');
    expect(rejected).toEqual({
      code: 0,
      stderr: '',
      stdout: `rejected ${edge.approvalId} as ${ROOT}: 3 actions on edge; nothing of it will be applied\n`,
    });
    for (const other of pending.filter((a) => a !== payments && a !== edge)) {
      expect((await run('approve', other.approvalId, '--reject')).code).toBe(0);
    }

    const result = await loop.wait(executionArn, 60_000);
    expect(result.status).toBe('SUCCEEDED');
    // The run applied what was approved, as the approver, and nothing that was rejected.
    expect(await controlMode(payments.target.id)).toBe('enforce');
    expect(await controlMode(edge.target.id)).toBe('monitor');
    const entries = await loop.auditLog.listAuditEntries('111111111111', 'us-east-1');
    const applied = entries.filter((e) => e.runId === runId && e.outcome === 'applied');
    expect(applied.map((e) => [e.kind, e.resourceId, e.approvalId, e.approvedBy])).toEqual([
      ['enable-exclusion', payments.target.id, payments.approvalId, ROOT],
      ['switch-to-enforce', payments.target.id, payments.approvalId, ROOT],
    ]);
    expect(await loop.approvals.getApproval(edge.approvalId)).toMatchObject({
      status: 'rejected',
      decidedBy: ROOT,
      reason: 'not during the freeze',
    });
    expect((await run('approvals')).stdout).toBe(`no pending approvals at ${loop.approverUrl}\n`);

    // A second answer is refused: no replay, no change of mind.
    const decided = await loop.approvals.getApproval(payments.approvalId);
    for (const argv of [[payments.approvalId], [payments.approvalId, '--reject']]) {
      expect(await run('approve', ...argv)).toEqual({
        code: 2,
        stdout: '',
        stderr: `vecguard: approval ${payments.approvalId} was already answered: approved by ${ROOT} at ${decided?.decidedAt}; an approval is answered once\n`,
      });
    }
  });
});

describe('approvals that cannot be answered', () => {
  const base = {
    runId: 'run-cli',
    accountId: '111111111111',
    region: 'us-east-1',
    groupId: 'vpc-0000000000000cafe',
    target: { type: 'vpc' as const, id: 'vpc-0000000000000cafe', name: 'cafe' },
    actionIds: ['a-1'],
    actions: [
      {
        actionId: 'a-1',
        kind: 'switch-to-enforce' as const,
        resourceId: 'vpc-0000000000000cafe',
        summary: 'switch vpc-0000000000000cafe (cafe) to enforce mode',
        reason: 'ready',
        risks: ['disruptive' as const],
        monthlyCostDeltaUsd: 0,
      },
    ],
    monthlyCostUsd: 0,
  };

  it('one that does not exist', async () => {
    expect(await run('approve', 'apr-0000000000000000')).toEqual({
      code: 2,
      stdout: '',
      stderr: `vecguard: approval apr-0000000000000000 does not exist at ${loop.approverUrl}; list pending ones with \`vecguard approvals\`\n`,
    });
  });

  it('one past its expiry: refused, and listed as expired', async () => {
    await loop.approvals.createApproval({
      ...base,
      approvalId: 'apr-expired',
      taskToken: 'token-expired',
      requestedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-02T00:00:00.000Z',
    });
    expect((await run('approvals')).stdout).toMatch(
      /^apr-expired\s+cafe \(vpc-0000000000000cafe\).*\s+expired$/m,
    );
    expect(await run('approve', 'apr-expired')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'vecguard: approval apr-expired expired at 2026-01-02T00:00:00.000Z; it can no longer be answered (the next run asks again)\n',
    });
  });

  it('one whose run no longer waits for it', async () => {
    const now = Date.now();
    await loop.approvals.createApproval({
      ...base,
      approvalId: 'apr-orphan',
      // A token Step Functions does not know (any more): the task ended, or its run did.
      taskToken: 'token-of-a-finished-run',
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
    });
    const r = await run('approve', 'apr-orphan');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^vecguard: approval apr-orphan was recorded, but the run no longer waits for it \((InvalidToken|TaskDoesNotExist)\); nothing will be applied unless a retry of its request picks this answer up\n$/,
    );
  });
});
