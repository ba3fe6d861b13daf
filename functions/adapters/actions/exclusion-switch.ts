/**
 * One VPC-level exclusion on or off: `ModifyVpcEncryptionControl <Name>Exclusion=enable|disable`
 * (the VPC key names, docs/design.md §2), `enabling` → `enabled` / `disabling` → `disabled`. Shared by
 * `enable-exclusion` and `disable-exclusion`, which are each other's undo.
 */
import {
  ModifyVpcEncryptionControlCommand,
  type ModifyVpcEncryptionControlResult,
} from '@aws-sdk/client-ec2';
import type { ActionKind } from '../../domain/action-kinds.ts';
import type { ExclusionName } from '../../domain/model.ts';
import { type ActionParams, vpcOf } from '../../domain/remediation-plan.ts';
import {
  controlSnapshot,
  EXCLUSION_INPUT,
  isModifiable,
  type LiveControl,
  readControl,
  toLiveControl,
} from './live-state.ts';
import {
  type ActionContext,
  type ActionDefinition,
  type ApplyOutcome,
  changedNothing,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type Ready,
  type VerifyOutcome,
} from './types.ts';

type ExclusionKind = 'enable-exclusion' | 'disable-exclusion';

interface SwitchLive {
  readonly control: LiveControl;
  readonly exclusion: ExclusionName;
}

interface Target {
  readonly kind: ActionKind;
  readonly vpcId?: string | undefined;
  readonly resourceId: string;
  readonly params: ActionParams;
}

const verb = (enable: boolean) => (enable ? 'enable' : 'disable');

async function check(ctx: ActionContext, target: Target, enable: boolean): Promise<Precondition<SwitchLive>> {
  const vpcId = vpcOf(target);
  const exclusion = target.params.exclusion;
  if (exclusion === undefined) {
    return { status: 'refused', reason: `The ${target.kind} action for ${vpcId} names no exclusion.` };
  }
  const control = await readControl(ctx.ec2, vpcId);
  const before = controlSnapshot(vpcId, control);
  if (control === null) {
    return {
      status: 'refused',
      reason: `${vpcId} has no encryption control to ${verb(enable)} ${exclusion} on.`,
      before,
    };
  }
  const state = control.exclusions[exclusion];
  const wanted = enable ? ['enabled', 'enabling'] : ['disabled', 'disabling'];
  if (wanted.includes(state)) {
    return {
      status: 'already-so',
      before,
      message: `The ${exclusion} exclusion of ${vpcId} is already ${state}.`,
    };
  }
  if (!isModifiable(control) || state === 'enabling' || state === 'disabling') {
    return {
      status: 'refused',
      reason: `The encryption control of ${vpcId} is ${control.state} and ${exclusion} is ${state}; it can change once the transition ends.`,
      before,
    };
  }
  return { status: 'ok', before, live: { control, exclusion } };
}

async function switchExclusion(
  ctx: ActionContext,
  target: Target,
  enable: boolean,
  ready: Ready<SwitchLive>,
): Promise<ApplyOutcome> {
  const vpcId = vpcOf(target);
  const out = outcomeFor(ctx, target);
  const { control, exclusion } = ready.live;
  const result = await ctx.ec2.mutate<ModifyVpcEncryptionControlResult>(
    new ModifyVpcEncryptionControlCommand({
      VpcEncryptionControlId: control.controlId,
      [EXCLUSION_INPUT[exclusion]]: verb(enable),
    }),
  );
  if (result.dryRun) {
    return out('dry-run', `Would ${verb(enable)} the ${exclusion} exclusion of ${vpcId}.`, {
      before: ready.before,
    });
  }
  return out('applied', `${enable ? 'Enabling' : 'Disabling'} the ${exclusion} exclusion of ${vpcId}.`, {
    before: ready.before,
    after: controlSnapshot(vpcId, toLiveControl(result.output.VpcEncryptionControl)),
  });
}

export function exclusionDefinition<K extends ExclusionKind>(
  kind: K,
  description: string,
): ActionDefinition<K, SwitchLive> {
  const enable = kind === 'enable-exclusion';
  return {
    kind,
    permissions: ['ec2:DescribeVpcEncryptionControls', 'ec2:ModifyVpcEncryptionControl'],
    description,

    preconditions: (ctx, action) => check(ctx, action, enable),
    apply: (ctx, action, ready) => switchExclusion(ctx, action, enable, ready),

    async verify(ctx, action): Promise<VerifyOutcome> {
      const vpcId = vpcOf(action);
      const exclusion = action.params.exclusion;
      const control = await readControl(ctx.ec2, vpcId);
      const state = controlSnapshot(vpcId, control);
      if (control === null || exclusion === undefined) {
        return {
          status: 'failed',
          message: `${vpcId} has no encryption control or the action names no exclusion.`,
          state,
        };
      }
      const now = control.exclusions[exclusion];
      const [done, moving] = enable ? ['enabled', 'enabling'] : ['disabled', 'disabling'];
      if (now === done)
        return { status: 'done', message: `The ${exclusion} exclusion of ${vpcId} is ${now}.`, state };
      if (now === moving)
        return { status: 'pending', message: `The ${exclusion} exclusion of ${vpcId} is ${now}.`, state };
      const known = ['enabled', 'enabling', 'disabled', 'disabling'].includes(now);
      return known
        ? {
            status: 'failed',
            message: `The ${exclusion} exclusion of ${vpcId} is ${now}, not ${done}.`,
            state,
          }
        : {
            status: 'pending',
            message: `The ${exclusion} exclusion of ${vpcId} is in unknown state ${now}.`,
            state,
          };
    },

    /** The opposite switch, with the same live checks. */
    async undo(ctx, entry) {
      const out = outcomeFor(ctx, entry);
      if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
      const target: Target = entry;
      const checked = await check(ctx, target, !enable);
      if (checked.status === 'already-so')
        return out('already-so', checked.message, { before: checked.before });
      if (checked.status === 'refused') {
        return out('refused', checked.reason, checked.before ? { before: checked.before } : {});
      }
      return switchExclusion(ctx, target, !enable, checked);
    },
  };
}
