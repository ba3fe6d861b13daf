/**
 * Each action against the sandbox through the real SDK client: apply changes the state as intended (read back
 * with a plain client), a second apply is "already so", verify goes pending → done as the sandbox clock moves,
 * undo puts the state back, and every EC2 action a unit calls is one it declares.
 */
import {
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeTransitGatewaysCommand,
  DescribeVpcEncryptionControlsCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  applyPlannedAction,
  definitionFor,
  undoChange,
  verifyPlannedAction,
} from '../../functions/adapters/actions/registry.ts';
import {
  type ActionContext,
  type ApplyOutcome,
  appliedChangeOf,
} from '../../functions/adapters/actions/types.ts';
import type { ActionKind } from '../../functions/domain/action-kinds.ts';
import { RECOMMENDED_FLOW_LOG_FORMAT } from '../../functions/domain/flow-logs.ts';
import type { PlannedAction } from '../../functions/domain/remediation-plan.ts';
import { type ActionsHarness, ESTATE, MINUTE, planned, startActionsHarness } from './actions-harness.ts';

let h: ActionsHarness;
let ctx: ActionContext;

beforeEach(async () => {
  h = await startActionsHarness(ESTATE);
  ctx = h.context();
});
afterEach(async () => {
  await h.stop();
});

/** Runs `step` and returns its result with the EC2 actions it called; fails if one of them is not declared. */
async function traced<T>(
  kind: ActionKind,
  step: () => Promise<T>,
): Promise<{ result: T; actions: string[] }> {
  const seq = h.sandbox.calls.lastSeq;
  const result = await step();
  const actions = h.callsSince(seq).map((c) => c.action);
  const declared = definitionFor(kind).permissions;
  for (const action of actions) expect(declared, `${kind} calls ${action}`).toContain(`ec2:${action}`);
  return { result, actions };
}

async function applyTwice(action: PlannedAction): Promise<ApplyOutcome> {
  const first = await traced(action.kind, () => applyPlannedAction(ctx, action));
  expect(first.result, first.result.message).toMatchObject({ outcome: 'applied', actionId: action.id });
  const again = await applyPlannedAction(ctx, action);
  expect(again.outcome, again.message).toBe('already-so');
  return first.result;
}

const control = async (vpc: string) =>
  (
    await h.sdk.send(new DescribeVpcEncryptionControlsCommand({ VpcIds: [h.id(vpc)] }))
  ).VpcEncryptionControls?.find((c) => c.State !== 'deleted');
const instance = async (name: string) =>
  (await h.sdk.send(new DescribeInstancesCommand({ InstanceIds: [h.id(name)] }))).Reservations?.[0]
    ?.Instances?.[0];
const tgwEncryption = async (name: string) =>
  (await h.sdk.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [h.id(name)] })))
    .TransitGateways?.[0]?.Options?.EncryptionSupport?.EncryptionState;
const flowLogs = async (vpc: string) =>
  (await h.sdk.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [h.id(vpc)] }] })))
    .FlowLogs ?? [];

describe('create-monitor-control', () => {
  test('creates a monitor control, is already-so after, verifies creating → available, and undo deletes it', async () => {
    const vpcId = h.id('bare');
    const action = planned('create-monitor-control', { resourceId: vpcId, vpcId });
    const applied = await applyTwice(action);
    expect(applied.before).toEqual({ vpcId, control: null });
    expect(await control('bare')).toMatchObject({ Mode: 'monitor', State: 'creating' });

    expect((await verifyPlannedAction(ctx, action)).status).toBe('pending');
    h.advance(30_000 + 5 * MINUTE);
    expect(await verifyPlannedAction(ctx, action)).toMatchObject({ status: 'done' });

    const undone = await traced(action.kind, () => undoChange(ctx, appliedChangeOf(action, applied)));
    expect(undone.result.outcome, undone.result.message).toBe('applied');
    expect(undone.actions).toContain('DeleteVpcEncryptionControl');
    h.advance(MINUTE);
    expect(await control('bare')).toBeUndefined();
  });

  test('undo refuses to delete a control the VPC has since taken to enforce', async () => {
    const vpcId = h.id('bare');
    const action = planned('create-monitor-control', { resourceId: vpcId, vpcId });
    const applied = await applyPlannedAction(ctx, action);
    h.advance(10 * MINUTE);
    await applyPlannedAction(
      ctx,
      planned('switch-to-enforce', { resourceId: vpcId, vpcId }, { mode: 'enforce' }),
    );
    const undone = await undoChange(ctx, appliedChangeOf(action, applied));
    expect(undone).toMatchObject({ outcome: 'refused', message: expect.stringContaining('enforce') });
    expect(await control('bare')).toMatchObject({ Mode: 'enforce' });
  });
});

describe.each([
  ['switch-to-enforce', 'edge', ['InternetGateway']],
  ['restore-enforce', 'drifted', []],
] as const)('%s', (kind, vpc, exclusions) => {
  test('switches a settled monitor control to enforce without touching exclusions, verifies, and undo returns to monitor', async () => {
    const vpcId = h.id(vpc);
    if (vpc === 'drifted')
      h.sandbox.ec2.drift({ kind: 'set-control', vpcId, mode: 'monitor', state: 'available' });
    const action = planned(
      kind,
      { resourceId: vpcId, vpcId },
      { mode: 'enforce', exclusions: [...exclusions] },
    );
    const exclusionsBefore = (await control(vpc))?.ResourceExclusions;

    const applied = await applyTwice(action);
    expect(applied.before).toMatchObject({ mode: 'monitor', state: 'available' });
    expect(await control(vpc)).toMatchObject({ Mode: 'enforce', State: 'enforce-in-progress' });
    expect((await control(vpc))?.ResourceExclusions).toEqual(exclusionsBefore);

    expect((await verifyPlannedAction(ctx, action)).status).toBe('pending');
    h.advance(10 * MINUTE);
    expect(await verifyPlannedAction(ctx, action)).toMatchObject({ status: 'done' });

    const undone = await undoChange(ctx, appliedChangeOf(action, applied));
    expect(undone.outcome, undone.message).toBe('applied');
    h.advance(5 * MINUTE);
    expect(await control(vpc)).toMatchObject({ Mode: 'monitor', State: 'available' });
  });
});

describe('enforce refusals, checked live', () => {
  test('a non-excludable blocker (an instance on a non-capable type) refuses enforce and names it', async () => {
    const vpcId = h.id('legacy');
    const { result, actions } = await traced('switch-to-enforce', () =>
      applyPlannedAction(
        ctx,
        planned('switch-to-enforce', { resourceId: vpcId, vpcId }, { mode: 'enforce' }),
      ),
    );
    expect(result).toMatchObject({
      outcome: 'refused',
      message: expect.stringMatching(/cannot be excluded.*eni-/),
    });
    expect(actions).not.toContain('ModifyVpcEncryptionControl');
    expect(await control('legacy')).toMatchObject({ Mode: 'monitor' });
  });

  test('an exclusion the action relies on but which is not enabled refuses enforce', async () => {
    const vpcId = h.id('gated');
    const result = await applyPlannedAction(
      ctx,
      planned(
        'switch-to-enforce',
        { resourceId: vpcId, vpcId },
        { mode: 'enforce', exclusions: ['NatGateway'] },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('NatGateway (disabled)'),
    });
  });

  test('an excludable blocker whose exclusion the action does not rely on refuses enforce', async () => {
    const vpcId = h.id('gated');
    const result = await applyPlannedAction(
      ctx,
      planned('switch-to-enforce', { resourceId: vpcId, vpcId }, {}),
    );
    expect(result).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/nat-.*NatGateway/) });
  });

  test('once the exclusion is enabling, enforce goes through', async () => {
    const vpcId = h.id('gated');
    const enable = planned('enable-exclusion', { resourceId: vpcId, vpcId }, { exclusion: 'NatGateway' });
    expect((await applyPlannedAction(ctx, enable)).outcome).toBe('applied');
    const enforce = planned(
      'switch-to-enforce',
      { resourceId: vpcId, vpcId },
      { exclusions: ['NatGateway'] },
    );
    const result = await applyPlannedAction(ctx, enforce);
    expect(result.outcome, result.message).toBe('applied');
    h.advance(10 * MINUTE);
    expect(await control('gated')).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('a control still transitioning is refused, not raced', async () => {
    const vpcId = h.id('bare');
    await applyPlannedAction(ctx, planned('create-monitor-control', { resourceId: vpcId, vpcId }));
    const result = await applyPlannedAction(ctx, planned('switch-to-enforce', { resourceId: vpcId, vpcId }));
    expect(result).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('monitor/creating'),
    });
  });
});

describe.each([
  ['enable-exclusion', 'gated', 'NatGateway', ['enabling', 'enabled'], 'disabled'],
  ['disable-exclusion', 'loose', 'VpcPeering', ['disabling', 'disabled'], 'enabled'],
] as const)('%s', (kind, vpc, exclusion, [moving, settled], original) => {
  test(`switches ${exclusion} with its VPC key, verifies ${moving} → ${settled}, and undo switches it back`, async () => {
    const vpcId = h.id(vpc);
    const action = planned(kind, { resourceId: vpcId, vpcId }, { exclusion });
    const applied = await applyTwice(action);
    expect((await control(vpc))?.ResourceExclusions?.[exclusion]?.State).toBe(moving);
    expect((await verifyPlannedAction(ctx, action)).status).toBe('pending');
    h.advance(2 * MINUTE);
    expect((await control(vpc))?.ResourceExclusions?.[exclusion]?.State).toBe(settled);
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');

    const undone = await undoChange(ctx, appliedChangeOf(action, applied));
    expect(undone.outcome, undone.message).toBe('applied');
    h.advance(2 * MINUTE);
    expect((await control(vpc))?.ResourceExclusions?.[exclusion]?.State).toBe(original);
  });
});

describe('move-instance', () => {
  const move = (name: string, from: string, to: string, driverCheckRequired = false) =>
    planned(
      'move-instance',
      { resourceId: h.id(`legacy/${name}`), vpcId: h.id('legacy') },
      { instanceId: h.id(`legacy/${name}`), fromInstanceType: from, toInstanceType: to, driverCheckRequired },
    );

  test('refuses an Auto Scaling group member, re-checked live, and touches nothing', async () => {
    const { result, actions } = await traced('move-instance', () =>
      applyPlannedAction(ctx, move('member', 'm5.large', 'm6i.large')),
    );
    expect(result).toMatchObject({ outcome: 'refused', message: expect.stringContaining('orders-asg') });
    expect(actions).toEqual(['DescribeInstances']);
    expect(await instance('legacy/member')).toMatchObject({
      InstanceType: 'm5.large',
      State: { Name: 'running' },
    });
  });

  test('stops, modifies and starts a running standalone instance; verify waits for it to run; undo moves it back', async () => {
    const action = move('old', 'm5.large', 'm6i.large');
    const { result: applied, actions } = await traced('move-instance', () => applyPlannedAction(ctx, action));
    expect(applied, applied.message).toMatchObject({
      outcome: 'applied',
      before: { instanceType: 'm5.large', state: 'running' },
      after: { instanceType: 'm6i.large', state: 'pending' },
    });
    expect(actions.filter((a) => !a.startsWith('Describe'))).toEqual([
      'StopInstances',
      'ModifyInstanceAttribute',
      'StartInstances',
    ]);
    expect(await instance('legacy/old')).toMatchObject({
      InstanceType: 'm6i.large',
      State: { Name: 'pending' },
    });
    expect((await verifyPlannedAction(ctx, action)).status).toBe('pending');
    h.advance(15_000);
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');
    expect((await applyPlannedAction(ctx, action)).outcome).toBe('already-so');
    // The VPC is no longer blocked by that instance.
    expect(
      h.sandbox.ec2
        .blockers(h.id('legacy'))
        .map((b) => b.description)
        .join(),
    ).not.toContain(h.id('legacy/old'));

    const undone = await undoChange(ctx, appliedChangeOf(action, applied));
    expect(undone.outcome, undone.message).toBe('applied');
    h.advance(15_000);
    expect(await instance('legacy/old')).toMatchObject({
      InstanceType: 'm5.large',
      State: { Name: 'running' },
    });
  });

  test('leaves a stopped instance stopped', async () => {
    const action = move('parked', 'm5.large', 'm6i.large');
    const { result, actions } = await traced('move-instance', () => applyPlannedAction(ctx, action));
    expect(result.outcome, result.message).toBe('applied');
    expect(actions).not.toContain('StopInstances');
    expect(actions).not.toContain('StartInstances');
    expect(await instance('legacy/parked')).toMatchObject({
      InstanceType: 'm6i.large',
      State: { Name: 'stopped' },
    });
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');
  });

  test('refuses a Xen source whose ENA attribute is off before stopping it, naming the ENA and NVMe drivers', async () => {
    const { result, actions } = await traced('move-instance', () =>
      applyPlannedAction(ctx, move('xen-old-ami', 'm4.large', 'm6i.large', true)),
    );
    expect(result).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/ENA.*NVMe/) });
    expect(actions).not.toContain('StopInstances');
    expect(await instance('legacy/xen-old-ami')).toMatchObject({ State: { Name: 'running' } });
  });

  test('moves a Xen source whose ENA attribute is on, and the outcome warns about NVMe drivers', async () => {
    // The scenario's `xen` instance comes from an AMI with ENA enabled (the sandbox's default, as on AWS today).
    const result = await applyPlannedAction(ctx, move('xen', 'm4.large', 'm6i.large', true));
    expect(result).toMatchObject({ outcome: 'applied', warnings: [expect.stringContaining('NVMe')] });
    expect(await instance('legacy/xen')).toMatchObject({ InstanceType: 'm6i.large' });
  });

  test('refuses when the live type is no longer the planned source type', async () => {
    h.sandbox.ec2.drift({
      kind: 'set-instance-type',
      instanceId: h.id('legacy/old'),
      instanceType: 'c5.large',
    });
    const result = await applyPlannedAction(ctx, move('old', 'm5.large', 'm6i.large'));
    expect(result).toMatchObject({ outcome: 'refused', message: expect.stringContaining('c5.large') });
  });

  test('refuses a target type that does not encrypt in transit', async () => {
    const result = await applyPlannedAction(ctx, move('old', 'm5.large', 't3.large'));
    expect(result).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('EncryptionInTransitSupported'),
    });
  });

  test('gives up after a bounded number of polls when the instance does not stop, and says so', async () => {
    const impatient = h.context({ poll: { intervalMs: 1_000, maxTries: 3 } });
    const result = await applyPlannedAction(impatient, move('old', 'm5.large', 'm6i.large'));
    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'InstanceStopTimeout', retryable: true });
    expect(h.callsSince(0).filter((c) => c.action === 'DescribeInstances').length).toBe(1 + 3);
    expect(await instance('legacy/old')).toMatchObject({
      InstanceType: 'm5.large',
      State: { Name: 'stopping' },
    });
  });

  test('a type change refused after the stop starts the instance again on its old type', async () => {
    h.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyInstanceAttribute',
      errorCode: 'InsufficientInstanceCapacity',
    });
    const result = await applyPlannedAction(ctx, move('old', 'm5.large', 'm6i.large'));
    expect(result).toMatchObject({
      outcome: 'failed',
      errorCode: 'InsufficientInstanceCapacity',
      message: expect.stringContaining('started again as m5.large'),
    });
    h.advance(15_000);
    expect(await instance('legacy/old')).toMatchObject({
      InstanceType: 'm5.large',
      State: { Name: 'running' },
    });
  });
});

describe('enable-tgw-encryption', () => {
  test('enables encryption support, verifies enabling → enabled, and undo disables it', async () => {
    const tgwId = h.id('tgw/core');
    const action = planned('enable-tgw-encryption', { resourceId: tgwId }, { transitGatewayId: tgwId });
    const applied = await applyTwice(action);
    expect(await tgwEncryption('tgw/core')).toBe('enabling');
    expect((await verifyPlannedAction(ctx, action)).status).toBe('pending');
    h.advance(60 * MINUTE);
    expect(await tgwEncryption('tgw/core')).toBe('enabled');
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');

    const undone = await traced(action.kind, () => undoChange(ctx, appliedChangeOf(action, applied)));
    expect(undone.result.outcome, undone.result.message).toBe('applied');
    h.advance(60 * MINUTE);
    expect(await tgwEncryption('tgw/core')).toBe('disabled');
  });

  test('refuses while multicast is on', async () => {
    const tgwId = h.id('tgw/meshed');
    const result = await applyPlannedAction(ctx, planned('enable-tgw-encryption', { resourceId: tgwId }));
    expect(result).toMatchObject({ outcome: 'refused', message: expect.stringContaining('multicast') });
    expect(await tgwEncryption('tgw/meshed')).toBe('disabled');
  });
});

describe('create-flow-log', () => {
  const flowLog = {
    destinationType: 's3' as const,
    destination: 'arn:aws:s3:::vecguard-flow-logs',
    logFormat: RECOMMENDED_FLOW_LOG_FORMAT,
  };

  test('creates a flow log carrying the encryption-status field beside the old default-format one; undo deletes it', async () => {
    const vpcId = h.id('bare');
    const action = planned('create-flow-log', { resourceId: vpcId, vpcId }, { flowLog });
    const applied = await applyTwice(action);
    const logs = await flowLogs('bare');
    expect(logs).toHaveLength(2);
    const created = logs.find((l) => l.FlowLogId === applied.after?.flowLogId);
    expect(created).toMatchObject({
      LogFormat: expect.stringMatching(/\$\{encryption-status\}/),
      LogDestination: flowLog.destination,
      TrafficType: 'ALL',
    });
    // The sandbox makes flow logs ACTIVE at once, so there is no pending phase to observe.
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');

    const entry = appliedChangeOf(action, applied);
    expect((await undoChange(ctx, entry)).outcome).toBe('applied');
    expect((await flowLogs('bare')).map((l) => l.FlowLogId)).not.toContain(created?.FlowLogId);
    expect((await undoChange(ctx, entry)).outcome).toBe('already-so');
  });

  test('refuses CloudWatch Logs delivery without a delivery role', async () => {
    const vpcId = h.id('bare');
    const result = await applyPlannedAction(
      ctx,
      planned(
        'create-flow-log',
        { resourceId: vpcId, vpcId },
        { flowLog: { ...flowLog, destinationType: 'cloud-watch-logs', destination: 'vpc-flow' } },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('deliverLogsPermissionArn'),
    });
  });

  test('an item refused inside a 200 answer is a failed outcome with its code', async () => {
    const result = await applyPlannedAction(
      ctx,
      planned(
        'create-flow-log',
        { resourceId: 'vpc-0000000000000dead', vpcId: 'vpc-0000000000000dead' },
        { flowLog },
      ),
    );
    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'InvalidParameterValue' });
  });
});

describe('manual-guidance', () => {
  test('hands the reason to a person without calling AWS, verifies as nothing in transition, and cannot be undone', async () => {
    const action = planned(
      'manual-guidance',
      { resourceId: 'vpc-1', vpcId: 'vpc-1' },
      { resourceIds: ['arn:aws:rds:us-east-1:111111111111:db:orders'] },
      { reason: 'Move the RDS instance orders to a class that encrypts in transit.' },
    );
    const { result, actions } = await traced('manual-guidance', () => applyPlannedAction(ctx, action));
    expect(result).toMatchObject({ outcome: 'guidance', message: expect.stringContaining('orders') });
    expect(actions).toEqual([]);
    expect((await verifyPlannedAction(ctx, action)).status).toBe('done');
    expect(await undoChange(ctx, appliedChangeOf(action, result))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('nothing to undo'),
    });
  });
});
