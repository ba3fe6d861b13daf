/**
 * The seven VPC Encryption Controls actions (Amazon VPC User Guide, "Enforce VPC encryption in transit"):
 * Create/Modify/Describe/DeleteVpcEncryptionControl, GetVpcResourcesBlockingEncryptionEnforcement,
 * Describe/ModifyAccountVpcEncryptionControl.
 */
import type {
  AccountVpcEncryptionControl,
  CreateVpcEncryptionControlRequest,
  CreateVpcEncryptionControlResult,
  DeleteVpcEncryptionControlRequest,
  DeleteVpcEncryptionControlResult,
  DescribeAccountVpcEncryptionControlRequest,
  DescribeAccountVpcEncryptionControlResult,
  DescribeVpcEncryptionControlsRequest,
  DescribeVpcEncryptionControlsResult,
  GetVpcResourcesBlockingEncryptionEnforcementRequest,
  GetVpcResourcesBlockingEncryptionEnforcementResult,
  ModifyAccountVpcEncryptionControlRequest,
  ModifyAccountVpcEncryptionControlResult,
  ModifyVpcEncryptionControlRequest,
  ModifyVpcEncryptionControlResult,
} from '@aws-sdk/client-ec2';
import { type ActionContext, action, findVpc, tagsFromSpecifications } from '../context.ts';
import { blockingResources, potentialBlockers } from '../encryption.ts';
import { Ec2Error, incorrectState, invalidParameter, required } from '../errors.ts';
import { type FilterSpec, paginate, STANDARD_BOUNDS, selectResources } from '../listing.ts';
import {
  type AccountControlMode,
  type EncryptionControlRecord,
  EXCLUSION_NAMES,
  type ExclusionName,
  type VpcRecord,
} from '../model.ts';
import type { RegionState } from '../store.ts';
import { controlView } from '../views.ts';
import { exclusionSwitches } from './vpcs.ts';

/** A declarative policy owns the account's encryption posture; the account itself cannot change it. */
function refuseIfDeclarative(ctx: ActionContext): void {
  if (ctx.state.account.managedBy === 'declarative-policy') {
    throw new Ec2Error(
      'OperationNotPermitted',
      `VPC encryption control in account ${ctx.accountId} (${ctx.region}) is managed by a declarative policy and cannot be changed by the account`,
    );
  }
}

function findControl(
  ctx: ActionContext,
  id: string | undefined,
): { vpc: VpcRecord; control: EncryptionControlRecord } {
  const controlId = required(id, 'VpcEncryptionControlId');
  const vpcId = ctx.state.controls.get(controlId);
  const vpc = vpcId === undefined ? undefined : ctx.state.vpcs.get(vpcId);
  if (vpc?.control?.id !== controlId) {
    throw new Ec2Error(
      'InvalidVpcEncryptionControlId.NotFound',
      `The VPC encryption control ID '${controlId}' does not exist`,
    );
  }
  return { vpc, control: vpc.control };
}

/** Filters are undocumented for DescribeVpcEncryptionControls; these names are the sandbox's assumption. */
const CONTROL_FILTERS: FilterSpec<EncryptionControlRecord> = {
  fields: {
    'vpc-id': (c) => c.vpcId,
    'vpc-encryption-control-id': (c) => c.id,
    mode: (c) => c.mode,
    state: (c) => c.state,
  },
  tags: (c) => c.tags,
};

function accountView(state: RegionState): AccountVpcEncryptionControl {
  const account = state.account;
  return {
    Mode: account.mode,
    State: account.state as AccountVpcEncryptionControl['State'],
    ManagedBy: account.managedBy,
    Exclusions: { ...account.exclusions },
    LastUpdateTimestamp: new Date(account.lastUpdate),
  };
}

/**
 * Applies the account mode to every VPC of the Region once `transitions-in-progress` ends: controls are
 * created (attempt-monitor / attempt-enforce) and, for attempt-enforce, moved to enforce where nothing
 * blocks. VPCs that cannot be enforced make the outcome `transitions-partially-successful`.
 */
function applyAccountMode(ctx: ActionContext, mode: AccountControlMode): string {
  if (mode === 'unmanaged') {
    return 'transitions-successful';
  }
  let partial = false;
  for (const vpc of ctx.state.vpcs.values()) {
    if (vpc.control === undefined) {
      ctx.controls.create(ctx.state, vpc, {
        mode: 'monitor',
        tags: new Map(),
        fromCreateVpc: true,
        immediate: true,
      });
    }
    const control = vpc.control as EncryptionControlRecord;
    if (mode === 'attempt-enforce' && control.mode !== 'enforce') {
      const blocking = potentialBlockers(ctx.store, ctx.state, vpc).filter(
        (b) => !b.excludable || control.exclusions[b.exclusion as ExclusionName].state !== 'enabled',
      );
      if (blocking.length > 0) {
        partial = true;
      } else {
        control.mode = 'enforce';
        control.state = 'available';
        control.generation += 1;
      }
    }
  }
  return partial ? 'transitions-partially-successful' : 'transitions-successful';
}

export const encryptionControlActions = {
  CreateVpcEncryptionControl: action<CreateVpcEncryptionControlRequest, CreateVpcEncryptionControlResult>(
    true,
    (ctx, input) => {
      const vpc = findVpc(ctx, input.VpcId);
      refuseIfDeclarative(ctx);
      if (vpc.control !== undefined) {
        throw incorrectState(
          `VPC ${vpc.id} already has encryption control ${vpc.control.id} (state ${vpc.control.state})`,
        );
      }
      const tags = tagsFromSpecifications(input.TagSpecifications, 'vpc-encryption-control');
      ctx.commit();
      const control = ctx.controls.create(ctx.state, vpc, { mode: 'monitor', tags, fromCreateVpc: false });
      return { VpcEncryptionControl: controlView(control) };
    },
  ),

  ModifyVpcEncryptionControl: action<ModifyVpcEncryptionControlRequest, ModifyVpcEncryptionControlResult>(
    true,
    (ctx, input) => {
      const { vpc, control } = findControl(ctx, input.VpcEncryptionControlId);
      refuseIfDeclarative(ctx);
      if (input.Mode !== undefined && input.Mode !== 'monitor' && input.Mode !== 'enforce') {
        throw invalidParameter(
          `Value (${String(input.Mode)}) for parameter Mode is invalid. Expected monitor or enforce.`,
        );
      }
      const exclusions = exclusionSwitches(input as unknown as Record<string, unknown>);
      if (input.Mode === undefined && Object.keys(exclusions).length === 0) {
        throw new Ec2Error('MissingParameter', 'The request must change Mode or at least one exclusion');
      }
      ctx.controls.modify(
        ctx.state,
        vpc,
        { ...(input.Mode === undefined ? {} : { mode: input.Mode }), exclusions },
        () => ctx.commit(),
      );
      return { VpcEncryptionControl: controlView(control) };
    },
  ),

  DescribeVpcEncryptionControls: action<
    DescribeVpcEncryptionControlsRequest,
    DescribeVpcEncryptionControlsResult
  >(false, (ctx, input) => {
    const all = (vpcs: Iterable<VpcRecord>): EncryptionControlRecord[] => {
      const controls: EncryptionControlRecord[] = [];
      for (const vpc of vpcs) {
        const control = vpc.control ?? vpc.deletedControl;
        if (control !== undefined) {
          controls.push(control);
        }
      }
      return controls;
    };
    let items: EncryptionControlRecord[];
    if (input.VpcIds !== undefined && input.VpcIds.length > 0) {
      items = selectResources({
        ids: undefined,
        find: () => undefined as never,
        all: () => all((input.VpcIds ?? []).map((id) => findVpc(ctx, id))),
        filters: input.Filters,
        spec: CONTROL_FILTERS,
      });
    } else {
      items = selectResources({
        ids: input.VpcEncryptionControlIds,
        find: (id) => {
          const vpcId = ctx.state.controls.get(id);
          const vpc = vpcId === undefined ? undefined : ctx.state.vpcs.get(vpcId);
          const control =
            vpc?.control?.id === id
              ? vpc.control
              : vpc?.deletedControl?.id === id
                ? vpc.deletedControl
                : undefined;
          if (control === undefined) {
            throw new Ec2Error(
              'InvalidVpcEncryptionControlId.NotFound',
              `The VPC encryption control ID '${id}' does not exist`,
            );
          }
          return control;
        },
        all: () => all(ctx.state.vpcs.values()),
        filters: input.Filters,
        spec: CONTROL_FILTERS,
      });
    }
    const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeVpcEncryptionControls');
    return { VpcEncryptionControls: page.items.map(controlView), NextToken: page.nextToken };
  }),

  DeleteVpcEncryptionControl: action<DeleteVpcEncryptionControlRequest, DeleteVpcEncryptionControlResult>(
    true,
    (ctx, input) => {
      const { vpc, control } = findControl(ctx, input.VpcEncryptionControlId);
      refuseIfDeclarative(ctx);
      if (control.state === 'deleting' || control.state === 'creating') {
        throw incorrectState(`The VPC encryption control ${control.id} is in state '${control.state}'`);
      }
      ctx.commit();
      ctx.controls.delete(ctx.state, vpc);
      return { VpcEncryptionControl: controlView(control) };
    },
  ),

  GetVpcResourcesBlockingEncryptionEnforcement: action<
    GetVpcResourcesBlockingEncryptionEnforcementRequest,
    GetVpcResourcesBlockingEncryptionEnforcementResult
  >(false, (ctx, input) => {
    const vpc = findVpc(ctx, input.VpcId);
    const page = paginate(
      blockingResources(ctx.store, ctx.state, vpc),
      input,
      STANDARD_BOUNDS,
      `GetVpcResourcesBlocking|${vpc.id}`,
    );
    return {
      NonCompliantResources: page.items.map((b) => ({
        Id: b.id,
        Type: b.type,
        Description: b.description,
        IsExcludable: b.excludable,
      })),
      NextToken: page.nextToken,
    };
  }),

  DescribeAccountVpcEncryptionControl: action<
    DescribeAccountVpcEncryptionControlRequest,
    DescribeAccountVpcEncryptionControlResult
  >(false, (ctx) => ({ AccountVpcEncryptionControl: accountView(ctx.state) })),

  ModifyAccountVpcEncryptionControl: action<
    ModifyAccountVpcEncryptionControlRequest,
    ModifyAccountVpcEncryptionControlResult
  >(true, (ctx, input) => {
    refuseIfDeclarative(ctx);
    const account = ctx.state.account;
    const mode = input.Mode;
    if (mode !== undefined && !['unmanaged', 'attempt-monitor', 'attempt-enforce'].includes(mode)) {
      throw invalidParameter(`Value (${String(mode)}) for parameter Mode is invalid.`);
    }
    const switches: [ExclusionName, boolean][] = [];
    for (const name of EXCLUSION_NAMES) {
      const value = (input as unknown as Record<string, unknown>)[name];
      if (value === undefined) {
        continue;
      }
      if (value !== 'enable' && value !== 'disable') {
        throw invalidParameter(`Value (${String(value)}) for parameter ${name} is invalid.`);
      }
      switches.push([name, value === 'enable']);
    }
    if (account.state === 'transitions-in-progress') {
      throw incorrectState('The account VPC encryption control is already transitioning');
    }
    ctx.commit();
    for (const [name, enable] of switches) {
      account.exclusions[name] = enable ? 'enabling' : 'disabling';
    }
    if (mode !== undefined) {
      account.mode = mode;
    }
    account.state = 'transitions-in-progress';
    account.lastUpdate = ctx.now;
    account.generation += 1;
    const generation = account.generation;
    ctx.store.schedule(ctx.now + ctx.store.durations.accountControlMs, (at) => {
      if (account.generation !== generation) {
        return;
      }
      for (const [name, enable] of switches) {
        account.exclusions[name] = enable ? 'enabled' : 'disabled';
      }
      account.state = applyAccountMode({ ...ctx, now: at }, account.mode);
      account.lastUpdate = at;
    });
    return { AccountVpcEncryptionControl: accountView(ctx.state) };
  }),
};
