/**
 * Move one standalone instance to a type that encrypts in transit: stop (if running) → wait until stopped →
 * `ModifyInstanceAttribute InstanceType` → start (only if it was running). The instance type can only change
 * while the instance is stopped (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/change-instance-type-of-ebs-backed-instance.html).
 *
 * Rails:
 * - An Auto Scaling group member (`aws:autoscaling:groupName` tag) is **never** stopped, re-checked live even
 *   though the planner leaves them out: the group would replace it, and its launch template is the fix.
 * - The live type must still be the planned `fromInstanceType` (someone may have moved it meanwhile) and the
 *   target must report `EncryptionInTransitSupported`.
 * - Xen sources (`driverCheckRequired`): every capable type is Nitro, which needs the ENA driver (EC2 refuses the
 *   type change while the instance's `EnaSupport` attribute is off) and NVMe drivers (EBS volumes show up as
 *   NVMe devices; nothing in the API tells whether the AMI has them). Choice: the action still applies when the
 *   precondition passes (the move was planned, and gated "approval" by default, with this warning in its reason),
 *   but it refuses **before stopping anything** when `EnaSupport` is off — EC2 would refuse the modify after
 *   vecguard had already taken the instance down — and the outcome carries the NVMe warning, so the approver
 *   and the audit log both see it; `verify` watches the instance come back, and `undo` moves it back.
 * - A failure after the stop starts the instance again on its old type when it was running, so a refused
 *   move does not become an outage.
 *
 * Starting an instance whose EBS volumes use a customer-managed KMS key also needs `kms:CreateGrant` on that
 * key; that grant is per key and is left to the member role's own policy.
 */
import {
  type _InstanceType,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesResult,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  type StartInstancesResult,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { PlannedAction } from '../../domain/remediation-plan.ts';
import { instanceSnapshot, type LiveInstance, readInstance } from './live-state.ts';
import {
  type ActionContext,
  type ActionDefinition,
  type ApplyOutcome,
  changedNothing,
  DEFAULT_POLL,
  failureOf,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type Ready,
  realSleep,
  type VerifyOutcome,
} from './types.ts';

const KIND = 'move-instance';

interface MoveLive {
  readonly instance: LiveInstance;
  readonly toInstanceType: string;
}

interface Move {
  readonly instanceId: string;
  /** The type the plan expects to find; absent: any. */
  readonly fromInstanceType?: string | undefined;
  readonly toInstanceType?: string | undefined;
  /** False for undo: moving back to the old, non-capable type is the point. */
  readonly requireCapableTarget: boolean;
}

function instanceOf(action: { resourceId: string; params: PlannedAction['params'] }): string {
  return action.params.instanceId ?? action.resourceId;
}

const XEN_WARNING =
  'The source type runs on Xen: the AMI needs the ENA and NVMe drivers for the Nitro target. vecguard checked the ENA attribute but cannot check NVMe; if the instance fails its status checks, undo the move.';

async function checkMove(ctx: ActionContext, move: Move): Promise<Precondition<MoveLive>> {
  const { instanceId, toInstanceType: to } = move;
  if (to === undefined)
    return { status: 'refused', reason: `The move of ${instanceId} names no target type.` };
  const instance = await readInstance(ctx.ec2, instanceId);
  const before = instanceSnapshot(instance, instanceId);
  if (instance === null) return { status: 'refused', reason: `${instanceId} no longer exists.`, before };
  if (instance.autoScalingGroupName !== undefined) {
    return {
      status: 'refused',
      reason: `${instanceId} belongs to Auto Scaling group ${instance.autoScalingGroupName}: vecguard never stops group members. Give the group's launch template a capable type (or InstanceRequirements.RequireEncryptionInTransit) and let the group replace it.`,
      before,
    };
  }
  if (instance.instanceType === to) {
    return { status: 'already-so', before, message: `${instanceId} already runs as ${to}.` };
  }
  if (move.fromInstanceType !== undefined && instance.instanceType !== move.fromInstanceType) {
    return {
      status: 'refused',
      reason: `${instanceId} is now ${instance.instanceType}, not the ${move.fromInstanceType} the plan was made for; the next plan will look again.`,
      before,
    };
  }
  if (!['running', 'stopped', 'stopping'].includes(instance.state)) {
    return {
      status: 'refused',
      reason: `${instanceId} is ${instance.state}; it can be moved once it is running or stopped.`,
      before,
    };
  }
  if (move.requireCapableTarget) {
    const types = await ctx.ec2.read<DescribeInstanceTypesResult>(
      new DescribeInstanceTypesCommand({ InstanceTypes: [to as _InstanceType] }),
    );
    if (types.InstanceTypes?.[0]?.NetworkInfo?.EncryptionInTransitSupported !== true) {
      return {
        status: 'refused',
        reason: `${to} does not report EncryptionInTransitSupported; ${instanceId} stays.`,
        before,
      };
    }
    if (!instance.enaSupport) {
      return {
        status: 'refused',
        reason: `${instanceId} has EnaSupport off, and ${to} (Nitro) needs the ENA driver: EC2 would refuse the type change after the stop. Install the ENA and NVMe drivers in the AMI/instance, enable EnaSupport, then re-run.`,
        before,
      };
    }
  }
  return { status: 'ok', before, live: { instance, toInstanceType: to } };
}

/** Polls until the instance is stopped; its last state when the tries run out. */
async function waitUntilStopped(ctx: ActionContext, instanceId: string): Promise<string> {
  const { intervalMs, maxTries } = ctx.poll ?? DEFAULT_POLL;
  const sleep = ctx.sleep ?? realSleep;
  let state = 'unknown';
  for (let attempt = 0; attempt < maxTries; attempt++) {
    await sleep(intervalMs);
    state = (await readInstance(ctx.ec2, instanceId))?.state ?? 'gone';
    if (state === 'stopped' || state === 'gone' || state === 'terminated') return state;
  }
  return state;
}

async function runMove(
  ctx: ActionContext,
  subject: { kind: typeof KIND; resourceId: string },
  ready: Ready<MoveLive>,
  warnings: readonly string[],
): Promise<ApplyOutcome> {
  const out = outcomeFor(ctx, subject);
  const { instance, toInstanceType: to } = ready.live;
  const id = instance.instanceId;
  const from = instance.instanceType;
  const wasRunning = instance.state === 'running';
  const before = ready.before;
  const extra = warnings.length > 0 ? { warnings } : {};

  if (ctx.ec2.dryRun) {
    // Each call is sent as a dry run only where it is valid in the instance's current state: the type change is
    // checked against a stopped instance, so for a running one only the stop can be tried (and for one that is
    // stopping, nothing).
    if (wasRunning) await ctx.ec2.mutate(new StopInstancesCommand({ InstanceIds: [id] }));
    else if (instance.state === 'stopped') {
      await ctx.ec2.mutate(
        new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: to } }),
      );
    }
    const steps = wasRunning
      ? `stop ${id}, change it from ${from} to ${to}, start it`
      : `change ${id} from ${from} to ${to} (it stays ${instance.state})`;
    return out('dry-run', `Would ${steps}.`, { before, ...extra });
  }

  if (wasRunning) await ctx.ec2.mutate(new StopInstancesCommand({ InstanceIds: [id] }));
  if (instance.state !== 'stopped') {
    const state = await waitUntilStopped(ctx, id);
    if (state !== 'stopped') {
      const { intervalMs, maxTries } = ctx.poll ?? DEFAULT_POLL;
      return out(
        'failed',
        `${id} was not stopped after ${maxTries} checks ${intervalMs / 1000} s apart (it is ${state}); its type is unchanged${wasRunning ? ' and vecguard stopped it: start it again or re-run' : ''}.`,
        {
          before,
          after: { instanceId: id, instanceType: from, state },
          errorCode: 'InstanceStopTimeout',
          retryable: true,
          ...extra,
        },
      );
    }
  }

  try {
    await ctx.ec2.mutate(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: to } }));
  } catch (error) {
    const failure = failureOf(error);
    let restart = '';
    let now = 'stopped';
    if (wasRunning) {
      try {
        await ctx.ec2.mutate(new StartInstancesCommand({ InstanceIds: [id] }));
        restart = ` ${id} was started again as ${from}.`;
        now = 'pending';
      } catch (startError) {
        restart = ` Starting it again as ${from} failed too (${failureOf(startError).errorCode}): it is stopped.`;
      }
    }
    return out('failed', `Changing ${id} to ${to} failed: ${failure.message}.${restart}`, {
      before,
      after: { instanceId: id, instanceType: from, state: now },
      errorCode: failure.errorCode,
      retryable: failure.retryable,
      ...extra,
    });
  }

  let state = 'stopped';
  if (wasRunning) {
    try {
      const started = await ctx.ec2.mutate<StartInstancesResult>(
        new StartInstancesCommand({ InstanceIds: [id] }),
      );
      state = started.dryRun
        ? 'stopped'
        : (started.output.StartingInstances?.[0]?.CurrentState?.Name ?? 'pending');
    } catch (error) {
      const failure = failureOf(error);
      return out('failed', `${id} is now ${to} but starting it failed: ${failure.message}; it is stopped.`, {
        before,
        after: { instanceId: id, instanceType: to, state: 'stopped' },
        errorCode: failure.errorCode,
        retryable: failure.retryable,
        ...extra,
      });
    }
  }
  const how = wasRunning ? 'stopped, changed and started again' : `changed; it stays ${state} as it was`;
  return out('applied', `Moved ${id} from ${from} to ${to} (${how}).`, {
    before,
    after: { instanceId: id, instanceType: to, state },
    ...extra,
  });
}

export const moveInstance: ActionDefinition<typeof KIND, MoveLive> = {
  kind: KIND,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeInstanceTypes',
    'ec2:StopInstances',
    'ec2:ModifyInstanceAttribute',
    'ec2:StartInstances',
  ],
  description:
    'Moves a standalone instance to a type that encrypts in transit (stop, change type, start); never an Auto Scaling group member.',

  preconditions: (ctx, action) =>
    checkMove(ctx, {
      instanceId: instanceOf(action),
      fromInstanceType: action.params.fromInstanceType,
      toInstanceType: action.params.toInstanceType,
      requireCapableTarget: true,
    }),

  apply: (ctx, action, ready) =>
    runMove(
      ctx,
      { kind: KIND, resourceId: action.resourceId },
      ready,
      action.params.driverCheckRequired ? [XEN_WARNING] : [],
    ),

  async verify(ctx, action): Promise<VerifyOutcome> {
    const id = instanceOf(action);
    const to = action.params.toInstanceType;
    const instance = await readInstance(ctx.ec2, id);
    const state = instanceSnapshot(instance, id);
    if (instance === null) return { status: 'failed', message: `${id} no longer exists.`, state };
    if (instance.instanceType !== to) {
      return {
        status: 'failed',
        message: `${id} runs as ${instance.instanceType}, not ${String(to)}.`,
        state,
      };
    }
    if (instance.state === 'running' || instance.state === 'stopped') {
      return { status: 'done', message: `${id} is ${to} and ${instance.state}.`, state };
    }
    if (instance.state === 'pending' || instance.state === 'stopping') {
      return { status: 'pending', message: `${id} is ${to} and ${instance.state}.`, state };
    }
    return { status: 'failed', message: `${id} is ${instance.state}.`, state };
  },

  /** Moves the instance back to the type the audit log recorded, the same way (stop, change, start). */
  async undo(ctx, entry) {
    const out = outcomeFor(ctx, entry);
    if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
    const original = entry.before?.instanceType;
    if (typeof original !== 'string')
      return out('refused', `The audit-log entry has no previous type for ${entry.resourceId}.`);
    const checked = await checkMove(ctx, {
      instanceId: instanceOf(entry),
      fromInstanceType: entry.params.toInstanceType,
      toInstanceType: original,
      requireCapableTarget: false,
    });
    if (checked.status === 'already-so')
      return out('already-so', checked.message, { before: checked.before });
    if (checked.status === 'refused')
      return out('refused', checked.reason, checked.before ? { before: checked.before } : {});
    return runMove(ctx, { kind: KIND, resourceId: entry.resourceId }, checked, []);
  },
};
