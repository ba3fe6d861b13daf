/**
 * The enforce switch shared by `switch-to-enforce` (monitor → enforce, the walk's last step) and
 * `restore-enforce` (back to enforce after drift): `ModifyVpcEncryptionControl Mode=enforce` on a control
 * that is settled in monitor, `enforce-in-progress` → `available` (or `enforce-failed` when a blocker
 * appears meanwhile).
 *
 * Exclusions: the action **verifies** that every exclusion it relies on (`params.exclusions`) is already
 * `enabled` or `enabling`, and never switches one on in the same call. An exclusion weakens the posture and
 * has its own gate (`enable-exclusion`, risk "posture"); the planner makes enforce depend on those actions.
 * Enabling them here would let an approval of "enforce" widen the exclusions nobody approved. `enabling`
 * is accepted because the modify call counts an enabling exclusion as covering its blockers (the sandbox
 * does; AWS documents no wait) and waiting for `enabled` would cost the loop a whole iteration.
 */
import {
  GetVpcResourcesBlockingEncryptionEnforcementCommand,
  type GetVpcResourcesBlockingEncryptionEnforcementResult,
  ModifyVpcEncryptionControlCommand,
  type ModifyVpcEncryptionControlResult,
} from '@aws-sdk/client-ec2';
import { classifyBlocker, exclusionFor } from '../../domain/blockers.ts';
import type { ExclusionName, RawBlocker } from '../../domain/model.ts';
import { type PlannedAction, vpcOf } from '../../domain/remediation-plan.ts';
import type { Ec2Gateway } from '../ec2-gateway.ts';
import { controlSnapshot, isModifiable, type LiveControl, readControl, toLiveControl } from './live-state.ts';
import {
  type ActionDefinition,
  changedNothing,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type VerifyOutcome,
} from './types.ts';

type EnforceKind = 'switch-to-enforce' | 'restore-enforce';

interface EnforceLive {
  readonly control: LiveControl;
}

const COVERING = new Set(['enabled', 'enabling']);

async function readBlockers(ec2: Ec2Gateway, vpcId: string): Promise<RawBlocker[]> {
  const blockers: RawBlocker[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.read<GetVpcResourcesBlockingEncryptionEnforcementResult>(
      new GetVpcResourcesBlockingEncryptionEnforcementCommand({ VpcId: vpcId, MaxResults: 1000, NextToken }),
    );
    for (const r of page.NonCompliantResources ?? []) {
      if (r.Id) {
        blockers.push({
          id: r.Id,
          type: r.Type ?? '',
          description: r.Description ?? '',
          isExcludable: r.IsExcludable ?? false,
        });
      }
    }
    NextToken = page.NextToken || undefined;
  } while (NextToken);
  return blockers;
}

function listed(ids: readonly string[]): string {
  return ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ');
}

/** What still stands in the way of enforce, checked live; empty when nothing does. */
async function enforceRefusal(
  ec2: Ec2Gateway,
  vpcId: string,
  control: LiveControl,
  reliedOn: readonly ExclusionName[],
): Promise<string | undefined> {
  const missing = reliedOn.filter((name) => !COVERING.has(control.exclusions[name]));
  if (missing.length > 0) {
    return `Enforce on ${vpcId} relies on the ${missing.map((n) => `${n} (${control.exclusions[n]})`).join(', ')} exclusion(s), which are not enabled: apply the enable-exclusion actions it depends on first.`;
  }
  const blockers = await readBlockers(ec2, vpcId);
  const hard = blockers.filter((b) => !b.isExcludable).map((b) => b.id);
  if (hard.length > 0) {
    return `${hard.length} resource(s) that cannot be excluded still block enforce on ${vpcId}: ${listed(hard)}.`;
  }
  // Excludable blockers stay listed until their exclusion is `enabled`; one whose exclusion is enabling is
  // covered. A blocker vecguard cannot map to an exclusion is left for AWS to judge rather than refused on a guess.
  const covered = new Set(
    Object.keys(control.exclusions).filter((n) => COVERING.has(control.exclusions[n as ExclusionName])),
  );
  const uncovered = blockers
    .map((b) => ({ id: b.id, exclusion: exclusionFor(classifyBlocker(b).kind) }))
    .filter((b) => b.exclusion !== undefined && !covered.has(b.exclusion));
  if (uncovered.length > 0) {
    return `Enforce on ${vpcId} still needs exclusion(s) this action does not rely on: ${listed(uncovered.map((b) => `${b.id} (${b.exclusion})`))}.`;
  }
  return undefined;
}

export function enforceDefinition<K extends EnforceKind>(
  kind: K,
  description: string,
): ActionDefinition<K, EnforceLive> {
  return {
    kind,
    permissions: [
      'ec2:DescribeVpcEncryptionControls',
      'ec2:GetVpcResourcesBlockingEncryptionEnforcement',
      'ec2:ModifyVpcEncryptionControl',
    ],
    description,

    async preconditions(ctx, action: PlannedAction): Promise<Precondition<EnforceLive>> {
      const vpcId = vpcOf(action);
      const control = await readControl(ctx.ec2, vpcId);
      const before = controlSnapshot(vpcId, control);
      if (control === null) {
        return {
          status: 'refused',
          reason: `${vpcId} has no encryption control: create one in monitor first.`,
          before,
        };
      }
      if (
        control.mode === 'enforce' &&
        (control.state === 'available' || control.state === 'enforce-in-progress')
      ) {
        return {
          status: 'already-so',
          before,
          message: `${vpcId} is already in enforce (${control.state}).`,
        };
      }
      if (control.mode !== 'monitor' || control.state !== 'available') {
        const why = control.stateMessage ? `: ${control.stateMessage}` : '';
        return {
          status: 'refused',
          reason: `The encryption control of ${vpcId} is ${control.mode}/${control.state}${why}; enforce starts only from a control settled in monitor.`,
          before,
        };
      }
      const refusal = await enforceRefusal(ctx.ec2, vpcId, control, action.params.exclusions ?? []);
      if (refusal !== undefined) return { status: 'refused', reason: refusal, before };
      return { status: 'ok', before, live: { control } };
    },

    async apply(ctx, action, ready) {
      const vpcId = vpcOf(action);
      const out = outcomeFor(ctx, action);
      const result = await ctx.ec2.mutate<ModifyVpcEncryptionControlResult>(
        new ModifyVpcEncryptionControlCommand({
          VpcEncryptionControlId: ready.live.control.controlId,
          Mode: 'enforce',
        }),
      );
      const relying =
        (action.params.exclusions ?? []).length > 0
          ? ` relying on ${(action.params.exclusions ?? []).join(', ')}`
          : '';
      if (result.dryRun) {
        return out('dry-run', `Would switch ${vpcId} to enforce${relying}.`, { before: ready.before });
      }
      return out('applied', `Switching ${vpcId} to enforce${relying}.`, {
        before: ready.before,
        after: controlSnapshot(vpcId, toLiveControl(result.output.VpcEncryptionControl)),
      });
    },

    async verify(ctx, action): Promise<VerifyOutcome> {
      const vpcId = vpcOf(action);
      const control = await readControl(ctx.ec2, vpcId);
      const state = controlSnapshot(vpcId, control);
      if (control === null)
        return { status: 'failed', message: `${vpcId} has no encryption control.`, state };
      if (control.mode === 'enforce' && control.state === 'available') {
        return { status: 'done', message: `${vpcId} enforces encryption in transit.`, state };
      }
      if (control.state.endsWith('-failed')) {
        return {
          status: 'failed',
          message: `The encryption control of ${vpcId} is ${control.state}: ${control.stateMessage ?? 'no message'}.`,
          state,
        };
      }
      if (control.mode !== 'enforce' && control.state === 'available') {
        return { status: 'failed', message: `${vpcId} is settled in ${control.mode}, not enforce.`, state };
      }
      return {
        status: 'pending',
        message: `The encryption control of ${vpcId} is ${control.mode}/${control.state}.`,
        state,
      };
    },

    /** Back to monitor. Exclusions are untouched: this action never changed them. */
    async undo(ctx, entry) {
      const out = outcomeFor(ctx, entry);
      if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
      const vpcId = vpcOf(entry);
      const control = await readControl(ctx.ec2, vpcId);
      const before = controlSnapshot(vpcId, control);
      if (control === null) return out('refused', `${vpcId} has no encryption control any more.`, { before });
      if (control.mode === 'monitor') return out('already-so', `${vpcId} is in monitor.`, { before });
      if (!isModifiable(control)) {
        return out('refused', `The control of ${vpcId} is ${control.state}; undo once the transition ends.`, {
          before,
        });
      }
      const result = await ctx.ec2.mutate<ModifyVpcEncryptionControlResult>(
        new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: control.controlId, Mode: 'monitor' }),
      );
      if (result.dryRun) return out('dry-run', `Would switch ${vpcId} back to monitor.`, { before });
      return out('applied', `Switching ${vpcId} back to monitor.`, {
        before,
        after: controlSnapshot(vpcId, toLiveControl(result.output.VpcEncryptionControl)),
      });
    },
  };
}
