/**
 * The registry's declarations (what CDK grants and the approval text rely on), dry-run across every unit, and
 * AWS errors turned into failed outcomes.
 */
import * as ec2Sdk from '@aws-sdk/client-ec2';
import {
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeTransitGatewaysCommand,
  DescribeVpcEncryptionControlsCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ACTIONS,
  allPermissions,
  applyPlannedAction,
  definitionFor,
  undoChange,
} from '../../functions/adapters/actions/registry.ts';
import { appliedChangeOf } from '../../functions/adapters/actions/types.ts';
import { ACTION_KINDS, isMutating } from '../../functions/domain/action-kinds.ts';
import { RECOMMENDED_FLOW_LOG_FORMAT } from '../../functions/domain/flow-logs.ts';
import type { PlannedAction } from '../../functions/domain/remediation-plan.ts';
import { type ActionsHarness, ESTATE, MINUTE, planned, startActionsHarness } from './actions-harness.ts';

/** The one kind that calls nothing and so needs no permission. */
const CALLS_NOTHING = 'manual-guidance';

describe('action registry declarations', () => {
  test('every kind has a unit registered under its own name', () => {
    expect(Object.keys(ACTIONS).sort()).toEqual([...ACTION_KINDS].sort());
    for (const kind of ACTION_KINDS) expect(definitionFor(kind).kind).toBe(kind);
  });

  test.each(ACTION_KINDS.filter((k) => k !== CALLS_NOTHING))('%s declares IAM permissions', (kind) => {
    expect(definitionFor(kind).permissions.length).toBeGreaterThan(0);
  });

  test('manual guidance, which changes nothing, is the only kind with no permissions', () => {
    const empty = ACTION_KINDS.filter((k) => definitionFor(k).permissions.length === 0);
    expect(empty).toEqual([CALLS_NOTHING]);
    expect(isMutating(CALLS_NOTHING)).toBe(false);
  });

  test('every EC2 permission names a real EC2 API action', () => {
    const sdk = ec2Sdk as unknown as Record<string, unknown>;
    for (const permission of allPermissions().filter((p) => p.startsWith('ec2:'))) {
      expect(typeof sdk[`${permission.slice(4)}Command`], permission).toBe('function');
    }
    for (const permission of allPermissions()) expect(permission).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
  });

  test('allPermissions is sorted, unique and covers every unit', () => {
    const all = allPermissions();
    expect(all).toEqual([...new Set(all)].sort());
    for (const kind of ACTION_KINDS)
      for (const p of definitionFor(kind).permissions) expect(all).toContain(p);
    expect(all).toContain('ec2:ModifyVpcEncryptionControl');
  });

  test('every unit either undoes or says why it cannot', () => {
    for (const kind of ACTION_KINDS) {
      const d = definitionFor(kind);
      expect(d.undo !== undefined || (d.undoUnavailable ?? '').length > 0, kind).toBe(true);
    }
  });

  test('every unit describes itself', () => {
    for (const kind of ACTION_KINDS) expect(definitionFor(kind).description.length, kind).toBeGreaterThan(20);
  });
});

describe('against the sandbox', () => {
  let h: ActionsHarness;
  beforeEach(async () => {
    h = await startActionsHarness(ESTATE);
  });
  afterEach(async () => {
    await h.stop();
  });

  /** One ready-to-apply action of every kind, each on a resource where its preconditions pass. */
  function oneOfEach(): PlannedAction[] {
    const vpc = (name: string) => ({ resourceId: h.id(name), vpcId: h.id(name) });
    return [
      planned('create-monitor-control', vpc('bare')),
      planned('switch-to-enforce', vpc('edge'), { mode: 'enforce', exclusions: ['InternetGateway'] }),
      planned('enable-exclusion', vpc('gated'), { exclusion: 'NatGateway' }),
      planned('disable-exclusion', vpc('loose'), { exclusion: 'VpcPeering' }),
      planned(
        'move-instance',
        { resourceId: h.id('legacy/old'), vpcId: h.id('legacy') },
        { instanceId: h.id('legacy/old'), fromInstanceType: 'm5.large', toInstanceType: 'm6i.large' },
      ),
      planned(
        'move-instance',
        { resourceId: h.id('legacy/parked'), vpcId: h.id('legacy') },
        { instanceId: h.id('legacy/parked'), fromInstanceType: 'm5.large', toInstanceType: 'm6i.large' },
      ),
      planned(
        'enable-tgw-encryption',
        { resourceId: h.id('tgw/core') },
        { transitGatewayId: h.id('tgw/core') },
      ),
      planned('create-flow-log', vpc('bare'), {
        flowLog: {
          destinationType: 's3',
          destination: 'arn:aws:s3:::logs',
          logFormat: RECOMMENDED_FLOW_LOG_FORMAT,
        },
      }),
      planned('restore-enforce', vpc('drifted'), { mode: 'enforce' }),
      planned('manual-guidance', vpc('legacy'), { resourceIds: ['x'] }),
    ];
  }

  /** Everything the actions could change, read through the SDK. */
  async function estate(): Promise<unknown> {
    const sdk = h.sdk;
    return {
      controls: (await sdk.send(new DescribeVpcEncryptionControlsCommand({}))).VpcEncryptionControls,
      instances: (await sdk.send(new DescribeInstancesCommand({}))).Reservations,
      tgws: (await sdk.send(new DescribeTransitGatewaysCommand({}))).TransitGateways,
      flowLogs: (await sdk.send(new DescribeFlowLogsCommand({}))).FlowLogs,
    };
  }

  test('covers every kind in the dry-run fixture', () => {
    expect(new Set(oneOfEach().map((a) => a.kind))).toEqual(new Set(ACTION_KINDS));
  });

  test('in dry-run every action reports dry-run, nothing changes, and no mutating call goes out without DryRun', async () => {
    h.sandbox.ec2.drift({ kind: 'set-control', vpcId: h.id('drifted'), mode: 'monitor', state: 'available' });
    const ctx = h.context({ dryRun: true });
    const before = await estate();
    const seq = h.sandbox.calls.lastSeq;

    for (const action of oneOfEach()) {
      const result = await applyPlannedAction(ctx, action);
      const expected = action.kind === 'manual-guidance' ? 'guidance' : 'dry-run';
      expect(result.outcome, `${action.kind}: ${result.message}`).toBe(expected);
    }

    const mutating = h.callsSince(seq).filter((c) => c.mutating);
    expect(mutating.length).toBeGreaterThanOrEqual(ACTION_KINDS.length - 1);
    expect(mutating.filter((c) => !c.dryRun)).toEqual([]);
    expect(mutating.every((c) => c.errorCode === 'DryRunOperation')).toBe(true);
    expect(ctx.ec2.stats.mutating).toBe(ctx.ec2.stats.dryRun);
    expect(await estate()).toEqual(before);
  });

  test('undo in dry-run reports dry-run and changes nothing', async () => {
    const live = h.context();
    const action = oneOfEach()[2] as PlannedAction; // enable-exclusion
    const applied = await applyPlannedAction(live, action);
    h.advance(2 * MINUTE);
    const before = await estate();
    const undone = await undoChange(h.context({ dryRun: true }), appliedChangeOf(action, applied));
    expect(undone.outcome, undone.message).toBe('dry-run');
    expect(await estate()).toEqual(before);
  });

  test('an AWS error on ModifyVpcEncryptionControl becomes a failed outcome with its code, and nothing changes', async () => {
    h.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyVpcEncryptionControl',
      errorCode: 'UnauthorizedOperation',
    });
    const ctx = h.context();
    const action = planned(
      'switch-to-enforce',
      { resourceId: h.id('edge'), vpcId: h.id('edge') },
      { exclusions: ['InternetGateway'] },
    );
    const result = await applyPlannedAction(ctx, action);
    expect(result).toMatchObject({
      outcome: 'failed',
      actionId: action.id,
      errorCode: 'UnauthorizedOperation',
      retryable: false,
      before: { mode: 'monitor', state: 'available' },
    });
    expect(result.message).toContain('ModifyVpcEncryptionControl');
    const control = (await h.sdk.send(new DescribeVpcEncryptionControlsCommand({ VpcIds: [h.id('edge')] })))
      .VpcEncryptionControls?.[0];
    expect(control).toMatchObject({ Mode: 'monitor', State: 'available' });
  });

  test('a throttled call that outlived the retries is failed and marked retryable', async () => {
    h.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyVpcEncryptionControl',
      errorCode: 'RequestLimitExceeded',
    });
    const vpc = { resourceId: h.id('gated'), vpcId: h.id('gated') };
    const result = await applyPlannedAction(
      h.context(),
      planned('enable-exclusion', vpc, { exclusion: 'NatGateway' }),
    );
    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'RequestLimitExceeded', retryable: true });
  });

  test('a failing read in the preconditions is a failed outcome too', async () => {
    h.sandbox.faults.add({ service: 'ec2', action: 'DescribeTransitGateways', errorCode: 'InternalError' });
    const result = await applyPlannedAction(
      h.context(),
      planned('enable-tgw-encryption', { resourceId: h.id('tgw/core') }),
    );
    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'InternalError', retryable: true });
  });

  test('with verify, the first verify comes back with the outcome', async () => {
    const vpc = { resourceId: h.id('bare'), vpcId: h.id('bare') };
    const result = await applyPlannedAction(h.context(), planned('create-monitor-control', vpc), {
      verify: true,
    });
    expect(result).toMatchObject({ outcome: 'applied', verify: { status: 'pending' } });
  });

  test('an action whose gate is off is refused without a call', async () => {
    const seq = h.sandbox.calls.lastSeq;
    const vpc = { resourceId: h.id('bare'), vpcId: h.id('bare') };
    const result = await applyPlannedAction(
      h.context(),
      planned('create-monitor-control', vpc, {}, { gate: 'off' }),
    );
    expect(result.outcome).toBe('refused');
    expect(h.callsSince(seq)).toEqual([]);
  });
});
