/**
 * Create a VPC's encryption control. `CreateVpcEncryptionControl` has no Mode: it always creates **monitor**
 * (docs/design.md §2), `creating` → `monitor-in-progress` → `available`. An existing VPC can only reach enforce
 * through monitor, so this is every unmonitored VPC's first step.
 */
import {
  CreateVpcEncryptionControlCommand,
  type CreateVpcEncryptionControlResult,
  DeleteVpcEncryptionControlCommand,
  type DeleteVpcEncryptionControlResult,
} from '@aws-sdk/client-ec2';
import { vpcOf } from '../../domain/remediation-plan.ts';
import { controlSnapshot, readControl, toLiveControl } from './live-state.ts';
import {
  type ActionDefinition,
  changedNothing,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type VerifyOutcome,
} from './types.ts';

const KIND = 'create-monitor-control';

export const createMonitorControl: ActionDefinition<typeof KIND, null> = {
  kind: KIND,
  permissions: [
    'ec2:DescribeVpcEncryptionControls',
    'ec2:CreateVpcEncryptionControl',
    // undo
    'ec2:DeleteVpcEncryptionControl',
  ],
  undoOnly: ['ec2:DeleteVpcEncryptionControl'],
  description:
    'Creates an encryption control in monitor mode on a VPC that has none (billed per VPC-hour from 2026-03-01).',

  async preconditions(ctx, action): Promise<Precondition<null>> {
    const vpcId = vpcOf(action);
    const control = await readControl(ctx.ec2, vpcId);
    const before = controlSnapshot(vpcId, control);
    if (control === null) return { status: 'ok', before, live: null };
    if (control.state === 'deleting') {
      return {
        status: 'refused',
        reason: `The encryption control ${control.controlId} of ${vpcId} is being deleted; a new one can be created once it is gone.`,
        before,
      };
    }
    return {
      status: 'already-so',
      before,
      message: `${vpcId} already has encryption control ${control.controlId} (${control.mode}, ${control.state}).`,
    };
  },

  async apply(ctx, action, ready) {
    const vpcId = vpcOf(action);
    const out = outcomeFor(ctx, action);
    const result = await ctx.ec2.mutate<CreateVpcEncryptionControlResult>(
      new CreateVpcEncryptionControlCommand({ VpcId: vpcId }),
    );
    if (result.dryRun) {
      return out('dry-run', `Would create a monitor-mode encryption control on ${vpcId}.`, {
        before: ready.before,
      });
    }
    const control = toLiveControl(result.output.VpcEncryptionControl);
    return out(
      'applied',
      `Created encryption control ${control?.controlId ?? '(no id returned)'} on ${vpcId}.`,
      {
        before: ready.before,
        after: controlSnapshot(vpcId, control),
      },
    );
  },

  async verify(ctx, action): Promise<VerifyOutcome> {
    const vpcId = vpcOf(action);
    const control = await readControl(ctx.ec2, vpcId);
    const state = controlSnapshot(vpcId, control);
    if (control === null) return { status: 'failed', message: `${vpcId} has no encryption control.`, state };
    if (control.state === 'available') {
      return { status: 'done', message: `${vpcId} is monitored (${control.mode}, available).`, state };
    }
    if (control.state.endsWith('-failed')) {
      return {
        status: 'failed',
        message: `The encryption control of ${vpcId} is ${control.state}: ${control.stateMessage ?? 'no message'}.`,
        state,
      };
    }
    return { status: 'pending', message: `The encryption control of ${vpcId} is ${control.state}.`, state };
  },

  /** Deletes the control this action created, unless the VPC has moved on to enforce since. */
  async undo(ctx, entry) {
    const out = outcomeFor(ctx, entry);
    if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
    const vpcId = vpcOf(entry);
    const control = await readControl(ctx.ec2, vpcId);
    const before = controlSnapshot(vpcId, control);
    if (control === null || control.state === 'deleting') {
      return out('already-so', `${vpcId} has no encryption control any more.`, { before });
    }
    if (control.controlId !== entry.after?.controlId) {
      return out(
        'refused',
        `The control on ${vpcId} is ${control.controlId}, not the ${String(entry.after?.controlId)} this action created; it is left alone.`,
        { before },
      );
    }
    if (control.mode !== 'monitor') {
      return out(
        'refused',
        `${vpcId} has moved on to ${control.mode}; deleting its control would drop enforcement. Undo the enforce first.`,
        { before },
      );
    }
    if (control.state === 'creating') {
      return out('refused', `The control of ${vpcId} is still creating; undo once it is available.`, {
        before,
      });
    }
    const result = await ctx.ec2.mutate<DeleteVpcEncryptionControlResult>(
      new DeleteVpcEncryptionControlCommand({ VpcEncryptionControlId: control.controlId }),
    );
    if (result.dryRun)
      return out('dry-run', `Would delete encryption control ${control.controlId}.`, { before });
    return out('applied', `Deleting encryption control ${control.controlId} of ${vpcId}.`, {
      before,
      after: controlSnapshot(vpcId, toLiveControl(result.output.VpcEncryptionControl)),
    });
  },
};
