/**
 * Event storms on the sandbox (issue 9, problem 7): 1,000 CloudTrail events within a minute (sandbox time)
 * go through the events queue to on-event as EventBridge would deliver them, and the real loop runs what they
 * start. One scope runs one execution at a time: the storm starts one run and at most one follow-up, each
 * change is asked for once, and every VPC an event named is audited by one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { expect, it } from 'vitest';
import type { RunSummary } from '../../functions/domain/run-summary.ts';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, approver, REGION, startLoop, stopLoopsAfterEach } from './harness.ts';

stopLoopsAfterEach();

const attachIgw = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../fixtures/events/cloudtrail-attach-internet-gateway.json'),
    'utf8',
  ),
) as { detail: { requestParameters: Record<string, unknown> } & Record<string, unknown> };

/** The n-th event of the storm: AttachInternetGateway on `vpcId`, its own envelope and record ids. */
function stormEvent(n: number, vpcId: string, at: Date) {
  return {
    ...attachIgw,
    id: `storm-envelope-${n}`,
    account: ACCOUNT,
    region: REGION,
    time: at.toISOString(),
    detail: {
      ...attachIgw.detail,
      eventID: `storm-record-${n}`,
      requestParameters: { ...attachIgw.detail.requestParameters, vpcId },
    },
  };
}

async function vpcIdsOfScope(loop: LocalLoop): Promise<string[]> {
  const ec2 = new EC2Client({
    endpoint: loop.sandbox.url,
    region: REGION,
    credentials: loop.sandbox.clientCredentials,
  });
  const { Vpcs } = await ec2.send(new DescribeVpcsCommand({}));
  ec2.destroy();
  return (Vpcs ?? []).map((v) => v.VpcId ?? '').filter((id) => id !== '');
}

/**
 * Deliver `count` events over one minute of sandbox time (ten waves), the n-th naming `vpcFor(n)`, while a person
 * approves every request; then wait until every execution, follow-ups included, has ended.
 */
async function storm(loop: LocalLoop, vpcFor: (n: number) => string, count = 1000) {
  const stop = approver(loop, () => true);
  const waves = 10;
  const minuteMs = 60_000 / 600;
  const deliveries: Promise<unknown>[] = [];
  for (let wave = 0; wave < waves; wave++) {
    for (let i = 0; i < count / waves; i++) {
      const n = wave * (count / waves) + i;
      deliveries.push(loop.deliver(stormEvent(n, vpcFor(n), new Date(loop.sandbox.clock.now()))));
    }
    await new Promise((r) => setTimeout(r, minuteMs / waves));
  }
  await Promise.all(deliveries);
  const runner = loop.sandbox.stepFunctions.runner;
  // Follow-ups start when a run reports: wait until nothing runs and nothing new started.
  for (;;) {
    const executions = runner.executionsOf(loop.stateMachineArn);
    const running = executions.filter((e) => e.status === 'RUNNING');
    if (running.length === 0) {
      await new Promise((r) => setTimeout(r, 200));
      if (runner.executionsOf(loop.stateMachineArn).length === executions.length) break;
      continue;
    }
    for (const e of running) await runner.waitForExecution(e.arn, { timeoutMs: 120_000 });
  }
  const approvals = await stop();
  const executions = runner.executionsOf(loop.stateMachineArn);
  const summaries: RunSummary[] = [];
  for (const e of executions) {
    expect(e.status, `${e.name}: ${e.error ?? ''} ${e.cause ?? ''}`).toBe('SUCCEEDED');
    const input = e.input as { runId: string; accountId: string; region: string };
    summaries.push(await loop.blobs.getBlob(input, 'report', 0));
  }
  return { executions, approvals, summaries };
}

/** What an approval asks, so that two requests for the same change are seen as one. */
const changeOf = (a: { target: { id: string }; actionIds: readonly string[] }) =>
  `${a.target.id}:${[...a.actionIds].sort().join(',')}`;

it('1,000 events for one VPC within a minute start at most 2 executions and ask once per change', async () => {
  const loop = await startLoop();
  const [vpcId] = await vpcIdsOfScope(loop);
  if (vpcId === undefined) throw new Error('the default scenario has no VPC');

  const { executions, approvals, summaries } = await storm(loop, () => vpcId);

  expect(executions.length).toBeGreaterThanOrEqual(1);
  expect(executions.length).toBeLessThanOrEqual(2);
  const changes = approvals.map(changeOf);
  expect(changes).toEqual([...new Set(changes)]);
  // The VPC the storm named was audited.
  expect(summaries.some((s) => s.vpcs.some((v) => v.vpcId === vpcId))).toBe(true);
}, 240_000);

it('1,000 events over 3 VPCs of one scope start at most 3 executions, and every VPC is audited', async () => {
  const loop = await startLoop();
  const vpcIds = (await vpcIdsOfScope(loop)).slice(0, 3);
  expect(vpcIds).toHaveLength(3);

  // The first wave names only the first VPC: the others arrive while its run goes on.
  const { executions, approvals, summaries } = await storm(loop, (n) =>
    n < 100 ? (vpcIds[0] as string) : (vpcIds[1 + (n % 2)] as string),
  );

  expect(executions.length).toBeGreaterThanOrEqual(1);
  expect(executions.length).toBeLessThanOrEqual(3);
  const changes = approvals.map(changeOf);
  expect(changes).toEqual([...new Set(changes)]);
  for (const vpcId of vpcIds) {
    expect(
      summaries.some((s) => s.vpcs.some((v) => v.vpcId === vpcId)),
      `${vpcId} appears in no run's results`,
    ).toBe(true);
  }
}, 240_000);

it('a run that fails still hands the VPCs named meanwhile to one follow-up, and frees the scope at the end', async () => {
  const loop = await startLoop();
  const [vpcId] = await vpcIdsOfScope(loop);
  if (vpcId === undefined) throw new Error('the default scenario has no VPC');
  // Every enforce step fails for good: the sweep's run ends in FailureReport.
  loop.sandbox.faults.add({
    service: 'ec2',
    action: 'ModifyVpcEncryptionControl',
    errorCode: 'InternalError',
  });
  const stop = approver(loop, () => true);
  const [sweep] = await loop.sweep();
  if (sweep === undefined) throw new Error('the sweep started nothing');
  const joined = await Promise.all(
    Array.from({ length: 50 }, (_, n) =>
      loop.deliver(stormEvent(n, vpcId, new Date(loop.sandbox.clock.now()))),
    ),
  );
  for (const result of joined) {
    expect(result).toMatchObject({
      outcome: 'started',
      runs: [{ status: 'coalesced', executionArn: sweep.executionArn }],
    });
  }
  expect((await loop.wait(sweep.executionArn, 120_000)).status).toBe('FAILED');

  const runner = loop.sandbox.stepFunctions.runner;
  const executions = runner.executionsOf(loop.stateMachineArn);
  expect(executions).toHaveLength(2);
  const followUp = executions.find((e) => e.arn !== sweep.executionArn);
  expect(followUp?.input).toMatchObject({ vpcIds: [vpcId] });
  await runner.waitForExecution(followUp?.arn ?? '', { timeoutMs: 120_000 });
  await stop();
  expect(runner.executionsOf(loop.stateMachineArn)).toHaveLength(2);
  // Nothing holds the scope any more: the next event starts a run of its own.
  const next = await loop.deliver(stormEvent(1000, vpcId, new Date(loop.sandbox.clock.now())));
  expect(next).toMatchObject({ outcome: 'started', runs: [{ status: 'started' }] });
}, 300_000);
