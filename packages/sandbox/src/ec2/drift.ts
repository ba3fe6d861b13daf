/**
 * Changes made "behind the product's back" — what a colleague in the console, another tool or AWS itself
 * would do — so tests can check that vecguard notices drift. They bypass the API's checks on purpose
 * (an instance of a non-capable type can appear in an enforced VPC this way).
 */
import { z } from 'zod';
import { DEFAULT_ACCOUNT_ID } from '../credentials.ts';
import { tagsFromPlain } from './context.ts';
import { EXCLUSION_NAMES } from './model.ts';
import type { Resources } from './resources.ts';
import type { Ec2Store, RegionState } from './store.ts';

const Where = {
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .default(DEFAULT_ACCOUNT_ID),
  region: z.string().default('us-east-1'),
};

export const DriftChangeSchema = z.discriminatedUnion('kind', [
  /** Switch a control's mode/state directly (e.g. enforce → monitor, or a failed state). */
  z.strictObject({
    kind: z.literal('set-control'),
    ...Where,
    vpcId: z.string(),
    mode: z.enum(['monitor', 'enforce']).optional(),
    state: z.string().optional(),
    stateMessage: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('delete-control'), ...Where, vpcId: z.string() }),
  z.strictObject({
    kind: z.literal('set-exclusion'),
    ...Where,
    vpcId: z.string(),
    exclusion: z.enum(EXCLUSION_NAMES),
    state: z.enum(['enabling', 'enabled', 'disabling', 'disabled']),
  }),
  /** Launch an instance without the enforcement check. */
  z.strictObject({
    kind: z.literal('add-instance'),
    ...Where,
    vpcId: z.string(),
    subnetId: z.string().optional(),
    instanceType: z.string(),
    tags: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({
    kind: z.literal('set-instance-type'),
    ...Where,
    instanceId: z.string(),
    instanceType: z.string(),
  }),
  z.strictObject({
    kind: z.literal('add-network-interface'),
    ...Where,
    vpcId: z.string(),
    interfaceType: z.string(),
    description: z.string().default(''),
    service: z.string().optional(),
    encryptionSupported: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal('attach-internet-gateway'), ...Where, vpcId: z.string() }),
  z.strictObject({
    kind: z.literal('set-tgw-encryption'),
    ...Where,
    transitGatewayId: z.string(),
    state: z.enum(['disabled', 'enabling', 'enabled', 'disabling']),
  }),
  z.strictObject({
    kind: z.literal('set-account-control'),
    ...Where,
    mode: z.enum(['unmanaged', 'attempt-monitor', 'attempt-enforce']).optional(),
    managedBy: z.enum(['account', 'declarative-policy']).optional(),
  }),
]);
export type DriftChange = z.input<typeof DriftChangeSchema>;

/** Applies one drift; returns the id of what it created or changed. */
export function applyDrift(store: Ec2Store, resources: Resources, input: DriftChange): string {
  const change = DriftChangeSchema.parse(input);
  const state = store.region(change.accountId, change.region);
  const vpcOf = (vpcId: string) => {
    const vpc = state.vpcs.get(vpcId);
    if (vpc === undefined) {
      throw new Error(`drift: no VPC ${vpcId} in ${change.accountId}/${change.region}`);
    }
    return vpc;
  };
  const controlOf = (vpcId: string) => {
    const control = vpcOf(vpcId).control;
    if (control === undefined) {
      throw new Error(`drift: VPC ${vpcId} has no encryption control`);
    }
    return control;
  };
  switch (change.kind) {
    case 'set-control': {
      const control = controlOf(change.vpcId);
      control.generation += 1; // cancels any transition in flight
      if (change.mode !== undefined) {
        control.mode = change.mode;
      }
      control.state = change.state ?? 'available';
      control.stateMessage = change.stateMessage;
      return control.id;
    }
    case 'delete-control': {
      const vpc = vpcOf(change.vpcId);
      const control = controlOf(change.vpcId);
      control.generation += 1;
      vpc.control = undefined;
      state.controls.delete(control.id);
      return control.id;
    }
    case 'set-exclusion': {
      const control = controlOf(change.vpcId);
      control.exclusions[change.exclusion] = { state: change.state };
      return control.id;
    }
    case 'add-instance': {
      const vpc = vpcOf(change.vpcId);
      const subnet = firstSubnet(state, vpc.id, change.subnetId);
      const instance = resources.instance(state, vpc, subnet, {
        reservationId: store.newId('r'),
        instanceType: change.instanceType,
        imageId: 'ami-0sandbox000000000',
        state: 'running',
        tags: tagsFromPlain(change.tags),
        launchTime: store.currentTime(),
      });
      return instance.id;
    }
    case 'set-instance-type': {
      const instance = state.instances.get(change.instanceId);
      if (instance === undefined) {
        throw new Error(`drift: no instance ${change.instanceId}`);
      }
      instance.instanceType = change.instanceType;
      return instance.id;
    }
    case 'add-network-interface': {
      const vpc = vpcOf(change.vpcId);
      const eni = resources.networkInterface(state, vpc, firstSubnet(state, vpc.id, undefined), {
        interfaceType: change.interfaceType,
        description: change.description,
        requesterManaged: true,
        ...(change.service === undefined ? {} : { service: change.service }),
        ...(change.encryptionSupported === undefined
          ? {}
          : { encryptionSupported: change.encryptionSupported }),
        tags: new Map(),
      });
      return eni.id;
    }
    case 'attach-internet-gateway': {
      const vpc = vpcOf(change.vpcId);
      const igw = resources.internetGateway(state, { tags: new Map() });
      resources.attachInternetGateway(state, igw, vpc);
      return igw.id;
    }
    case 'set-tgw-encryption': {
      const tgw = state.transitGateways.get(change.transitGatewayId);
      if (tgw === undefined) {
        throw new Error(`drift: no transit gateway ${change.transitGatewayId}`);
      }
      tgw.generation += 1;
      tgw.encryption = { state: change.state };
      return tgw.id;
    }
    case 'set-account-control': {
      if (change.mode !== undefined) {
        state.account.mode = change.mode;
      }
      if (change.managedBy !== undefined) {
        state.account.managedBy = change.managedBy;
      }
      state.account.generation += 1;
      return `${change.accountId}/${change.region}`;
    }
  }
}

function firstSubnet(state: RegionState, vpcId: string, subnetId: string | undefined) {
  const id = subnetId ?? state.contentsOf(vpcId).subnets.values().next().value;
  const subnet = id === undefined ? undefined : state.subnets.get(id);
  if (subnet === undefined) {
    throw new Error(`drift: VPC ${vpcId} has no subnet${subnetId ? ` ${subnetId}` : ''}`);
  }
  return subnet;
}
