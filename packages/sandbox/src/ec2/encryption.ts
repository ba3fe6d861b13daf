/**
 * VPC Encryption Controls: the blockers of a VPC, computed from the resources really in it, and the
 * asynchronous life of a control (Amazon VPC User Guide, "Enforce VPC encryption in transit").
 *
 * Blocker rules (what AWS documents, and the sandbox's reading of it):
 * - an ENI of an instance whose type is not encryption-capable → non-excludable (move the instance);
 * - internet / egress-only / NAT / virtual private gateways, VPC peerings, Lambda, VPC Lattice, EFS,
 *   Global Accelerator and API Gateway v2 ENIs → excludable with the matching exclusion;
 * - Gateway Load Balancer (and its endpoints), Network Firewall, Local Zone subnets and requester-managed
 *   ENIs marked `encryptionSupported: false` → non-excludable;
 * - NLB, ALB, NAT-gateway, transit-gateway and AWS-service endpoint ENIs are migrated by AWS → no blocker.
 * A peering is no blocker when the peer VPC is in the same Region and itself in enforce: enforce guarantees
 * every instance on the peer's side encrypts, whatever exclusions the peer holds for its own gateways. This
 * is what lets two peered VPCs enforce one after the other, the first holding a temporary VpcPeering
 * exclusion that it drops once the second is enforced (an assumption: AWS documents the end-to-end case,
 * "both in enforce", not the order of getting there).
 * An excludable blocker stops blocking once its exclusion is `enabled`.
 *
 * The `Type` strings are not documented by AWS; the ones used here are the sandbox's choice.
 */
import { isEncryptionCapable } from './catalogue.ts';
import { encryptionViolation, incorrectState } from './errors.ts';
import {
  type ControlMode,
  disabledExclusions,
  type EncryptionControlRecord,
  type ExclusionName,
  type ExclusionRecord,
  type NetworkInterfaceRecord,
  type Tags,
  type VpcRecord,
} from './model.ts';
import type { Ec2Store, RegionState } from './store.ts';

export interface Blocker {
  readonly id: string;
  readonly type: string;
  readonly description: string;
  readonly excludable: boolean;
  readonly exclusion?: ExclusionName;
}

/** ENI interface types whose owner AWS migrates itself: never a blocker. */
const MIGRATED_INTERFACE_TYPES = new Set([
  'network_load_balancer',
  'load_balancer',
  'nat_gateway',
  'natGateway',
  'transit_gateway',
  'vpc_endpoint',
  'branch',
  'trunk',
]);

const EXCLUDABLE_INTERFACE_TYPES: Record<string, ExclusionName> = {
  lambda: 'Lambda',
  vpc_lattice: 'VpcLattice',
  efs: 'ElasticFileSystem',
  global_accelerator_managed: 'GlobalAccelerator',
  api_gateway_managed: 'ApiGatewayV2',
};

const NON_EXCLUDABLE_INTERFACE_TYPES: Record<string, string> = {
  gateway_load_balancer: 'Gateway Load Balancer',
  gateway_load_balancer_endpoint: 'Gateway Load Balancer endpoint',
  network_firewall: 'Network Firewall endpoint',
};

function eniBlocker(state: RegionState, eni: NetworkInterfaceRecord): Blocker | undefined {
  if (eni.instanceId !== undefined) {
    const instance = state.instances.get(eni.instanceId);
    if (
      instance === undefined ||
      instance.state === 'terminated' ||
      isEncryptionCapable(instance.instanceType)
    ) {
      return undefined;
    }
    return {
      id: eni.id,
      type: 'NetworkInterface',
      description: `Network interface ${eni.id} of instance ${instance.id} (${instance.instanceType}) does not support encryption in transit`,
      excludable: false,
    };
  }
  const owner = eni.service ?? eni.interfaceType;
  if (eni.service === 'network-firewall' || NON_EXCLUDABLE_INTERFACE_TYPES[eni.interfaceType] !== undefined) {
    const what =
      eni.service === 'network-firewall'
        ? 'Network Firewall endpoint'
        : NON_EXCLUDABLE_INTERFACE_TYPES[eni.interfaceType];
    return {
      id: eni.id,
      type: 'NetworkInterface',
      description: `${what} network interface ${eni.id} cannot be enforced or excluded`,
      excludable: false,
    };
  }
  const exclusion = EXCLUDABLE_INTERFACE_TYPES[eni.interfaceType];
  if (exclusion !== undefined) {
    return {
      id: eni.id,
      type: 'NetworkInterface',
      description: `${exclusion} network interface ${eni.id} (${eni.description || owner}) needs the ${exclusion} exclusion`,
      excludable: true,
      exclusion,
    };
  }
  if (eni.encryptionSupported === false) {
    return {
      id: eni.id,
      type: 'NetworkInterface',
      description: `Network interface ${eni.id} of ${owner} (${eni.description}) does not support encryption in transit`,
      excludable: false,
    };
  }
  if (MIGRATED_INTERFACE_TYPES.has(eni.interfaceType)) {
    return undefined;
  }
  return undefined;
}

/** Every resource that would stop enforcement if no exclusion applied. */
export function potentialBlockers(store: Ec2Store, state: RegionState, vpc: VpcRecord): Blocker[] {
  const contents = state.contentsOf(vpc.id);
  const blockers: Blocker[] = [];
  for (const subnetId of contents.subnets) {
    if (state.subnets.get(subnetId)?.localZone) {
      blockers.push({
        id: subnetId,
        type: 'Subnet',
        description: `Subnet ${subnetId} is in a Local Zone, which does not support encryption enforcement`,
        excludable: false,
      });
    }
  }
  for (const eniId of contents.networkInterfaces) {
    const eni = state.networkInterfaces.get(eniId);
    const blocker = eni === undefined ? undefined : eniBlocker(state, eni);
    if (blocker !== undefined) {
      blockers.push(blocker);
    }
  }
  for (const id of contents.internetGateways) {
    blockers.push({
      id,
      type: 'InternetGateway',
      description: `Internet gateway ${id} is attached to ${vpc.id}`,
      excludable: true,
      exclusion: 'InternetGateway',
    });
  }
  for (const id of contents.egressOnlyInternetGateways) {
    blockers.push({
      id,
      type: 'EgressOnlyInternetGateway',
      description: `Egress-only internet gateway ${id} is attached to ${vpc.id}`,
      excludable: true,
      exclusion: 'EgressOnlyInternetGateway',
    });
  }
  for (const id of contents.natGateways) {
    const nat = state.natGateways.get(id);
    if (nat !== undefined && (nat.state === 'available' || nat.state === 'pending')) {
      blockers.push({
        id,
        type: 'NatGateway',
        description: `NAT gateway ${id} in ${nat.subnetId}`,
        excludable: true,
        exclusion: 'NatGateway',
      });
    }
  }
  for (const id of contents.vpnGateways) {
    const vgw = state.vpnGateways.get(id);
    if (vgw?.vpcId === vpc.id && vgw.attachmentState !== 'detached') {
      blockers.push({
        id,
        type: 'VirtualPrivateGateway',
        description: `Virtual private gateway ${id} is attached to ${vpc.id}`,
        excludable: true,
        exclusion: 'VirtualPrivateGateway',
      });
    }
  }
  for (const id of contents.peerings) {
    const peering = store.peerings.get(id);
    if (peering === undefined || peering.status !== 'active') {
      continue;
    }
    const peer = peering.requester.vpcId === vpc.id ? peering.accepter : peering.requester;
    if (peer.region === state.region && peerIsEncrypted(store, peer.vpcId)) {
      continue;
    }
    blockers.push({
      id,
      type: 'VpcPeeringConnection',
      description: `VPC peering connection ${id} to ${peer.vpcId} (${peer.region}) is not encrypted end to end`,
      excludable: true,
      exclusion: 'VpcPeering',
    });
  }
  return blockers;
}

function peerIsEncrypted(store: Ec2Store, vpcId: string): boolean {
  const control = store.homeOf(vpcId)?.vpcs.get(vpcId)?.control;
  return (
    control !== undefined &&
    control.mode === 'enforce' &&
    (control.state === 'available' || control.state === 'enforce-in-progress')
  );
}

function excluded(
  control: EncryptionControlRecord | undefined,
  blocker: Blocker,
  alsoEnabling: boolean,
): boolean {
  if (blocker.exclusion === undefined || control === undefined) {
    return false;
  }
  const state = control.exclusions[blocker.exclusion].state;
  return state === 'enabled' || (alsoEnabling && state === 'enabling');
}

/** What GetVpcResourcesBlockingEncryptionEnforcement reports: blockers not covered by an enabled exclusion. */
export function blockingResources(store: Ec2Store, state: RegionState, vpc: VpcRecord): Blocker[] {
  return potentialBlockers(store, state, vpc).filter((b) => !excluded(vpc.control, b, false));
}

/** A control counts as enforcing once it has been asked to enforce and has not failed. */
export function isEnforced(vpc: VpcRecord): boolean {
  const control = vpc.control;
  return (
    control !== undefined &&
    control.mode === 'enforce' &&
    (control.state === 'available' || control.state === 'enforce-in-progress')
  );
}

/** Refuses adding a resource to an enforced VPC unless the named exclusion is enabled. */
export function requireExclusionIfEnforced(vpc: VpcRecord, exclusion: ExclusionName, what: string): void {
  if (isEnforced(vpc) && vpc.control?.exclusions[exclusion].state !== 'enabled') {
    throw encryptionViolation(
      `${what} cannot be added to ${vpc.id}: its encryption control is in enforce mode and the ${exclusion} exclusion is not enabled`,
    );
  }
}

export function requireCapableIfEnforced(vpc: VpcRecord, instanceType: string): void {
  if (isEnforced(vpc) && !isEncryptionCapable(instanceType)) {
    throw encryptionViolation(
      `Instance type ${instanceType} does not support encryption in transit, which the encryption control of ${vpc.id} enforces`,
    );
  }
}

export class EncryptionControls {
  private readonly store: Ec2Store;

  constructor(store: Ec2Store) {
    this.store = store;
  }

  /** CreateVpcEncryptionControl (monitor) or CreateVpc with `VpcEncryptionControl` (any mode). */
  create(
    state: RegionState,
    vpc: VpcRecord,
    options: {
      mode: ControlMode;
      tags: Tags;
      fromCreateVpc: boolean;
      exclusions?: Partial<Record<ExclusionName, boolean>>;
      /** Already settled (scenarios, the account-level control): `available` at once. */
      immediate?: boolean;
      id?: string;
    },
  ): EncryptionControlRecord {
    const control: EncryptionControlRecord = {
      id: options.id ?? this.store.newId('vpcec'),
      vpcId: vpc.id,
      mode: options.mode,
      state: 'creating',
      exclusions: disabledExclusions(),
      tags: options.tags,
      generation: 0,
    };
    for (const [name, enable] of Object.entries(options.exclusions ?? {})) {
      if (enable) {
        control.exclusions[name as ExclusionName] = { state: 'enabled' };
      }
    }
    vpc.control = control;
    vpc.deletedControl = undefined;
    state.controls.set(control.id, vpc.id);
    if (options.immediate) {
      control.state = 'available';
      return control;
    }
    const { controlCreateMs, monitorMs } = this.store.durations;
    // A new VPC is empty, so its control is ready once created; an existing VPC is assessed in monitor first.
    const steps = options.fromCreateVpc
      ? [{ state: 'creating', ms: controlCreateMs }]
      : [
          { state: 'creating', ms: controlCreateMs },
          { state: 'monitor-in-progress', ms: monitorMs },
        ];
    this.runChain(state, vpc, control, steps, options.mode);
    return control;
  }

  /** ModifyVpcEncryptionControl: mode and/or exclusion switches. Validates before changing anything. */
  modify(
    state: RegionState,
    vpc: VpcRecord,
    change: { mode?: ControlMode; exclusions: Partial<Record<ExclusionName, boolean>> },
    commit: () => void,
  ): EncryptionControlRecord {
    const control = vpc.control as EncryptionControlRecord;
    if (!['available', 'monitor-failed', 'enforce-failed'].includes(control.state)) {
      throw incorrectState(
        `The VPC encryption control ${control.id} is in state '${control.state}' and cannot be modified until the current change completes`,
      );
    }
    const modeChanges =
      change.mode !== undefined && (change.mode !== control.mode || control.state !== 'available');
    if (change.mode === 'enforce' && modeChanges) {
      const refusing = potentialBlockers(this.store, state, vpc).filter(
        (b) =>
          !b.excludable ||
          !(excluded(control, b, true) || change.exclusions[b.exclusion as ExclusionName] === true),
      );
      if (refusing.length > 0) {
        const shown = refusing
          .slice(0, 5)
          .map((b) => `${b.id} (${b.excludable ? `needs ${b.exclusion} exclusion` : 'not excludable'})`);
        throw incorrectState(
          `VPC ${vpc.id} cannot be enforced: ${refusing.length} resource(s) block encryption enforcement: ${shown.join(', ')}${refusing.length > 5 ? ', …' : ''}`,
        );
      }
    }
    commit();
    for (const [name, enable] of Object.entries(change.exclusions) as [ExclusionName, boolean][]) {
      this.switchExclusion(control, name, enable);
    }
    if (modeChanges && change.mode !== undefined) {
      control.mode = change.mode;
      const ms = change.mode === 'enforce' ? this.store.durations.enforceMs : this.store.durations.monitorMs;
      this.runChain(state, vpc, control, [{ state: `${change.mode}-in-progress`, ms }], change.mode);
    }
    return control;
  }

  delete(state: RegionState, vpc: VpcRecord): EncryptionControlRecord {
    const control = vpc.control as EncryptionControlRecord;
    if (control.state === 'deleting' || control.state === 'creating') {
      throw incorrectState(`The VPC encryption control ${control.id} is in state '${control.state}'`);
    }
    control.generation += 1;
    const generation = control.generation;
    control.state = 'deleting';
    control.stateMessage = undefined;
    this.store.schedule(this.store.currentTime() + this.store.durations.controlDeleteMs, (at) => {
      if (control.generation !== generation) {
        return;
      }
      control.state = 'deleted';
      if (vpc.control === control) {
        vpc.control = undefined;
      }
      vpc.deletedControl = control;
      this.store.schedule(at + this.store.durations.deletedRetentionMs, () => {
        if (vpc.deletedControl === control) {
          vpc.deletedControl = undefined;
          state.controls.delete(control.id);
        }
      });
    });
    return control;
  }

  /** Sets the state of an exclusion now and schedules its completion. */
  switchExclusion(control: EncryptionControlRecord, name: ExclusionName, enable: boolean): void {
    const current = control.exclusions[name];
    const target = enable ? 'enabled' : 'disabled';
    if (current.state === target || current.state === (enable ? 'enabling' : 'disabling')) {
      return;
    }
    const record: ExclusionRecord = { state: enable ? 'enabling' : 'disabling' };
    control.exclusions[name] = record;
    this.store.schedule(this.store.currentTime() + this.store.durations.exclusionMs, () => {
      if (control.exclusions[name] === record) {
        control.exclusions[name] = { state: target };
      }
    });
  }

  /**
   * Walks a control through `steps`, then ends the transition towards `mode`: `available`, or
   * `<mode>-failed` when a failure was injected or (enforce) a blocker appeared meanwhile.
   */
  private runChain(
    state: RegionState,
    vpc: VpcRecord,
    control: EncryptionControlRecord,
    steps: readonly { state: string; ms: number }[],
    mode: ControlMode,
  ): void {
    control.generation += 1;
    const generation = control.generation;
    const advance = (index: number, at: number): void => {
      if (control.generation !== generation) {
        return;
      }
      const step = steps[index];
      if (step !== undefined) {
        control.state = step.state;
        control.stateMessage = undefined;
        this.store.schedule(at + step.ms, (due) => advance(index + 1, due));
        return;
      }
      this.finish(state, vpc, control, mode);
    };
    advance(0, this.store.currentTime());
  }

  private finish(
    state: RegionState,
    vpc: VpcRecord,
    control: EncryptionControlRecord,
    mode: ControlMode,
  ): void {
    if (control.failNext !== undefined) {
      control.state = `${mode}-failed`;
      control.stateMessage = control.failNext;
      control.failNext = undefined;
      return;
    }
    if (mode === 'enforce') {
      const remaining = potentialBlockers(this.store, state, vpc).filter((b) => !excluded(control, b, true));
      if (remaining.length > 0) {
        control.state = 'enforce-failed';
        control.stateMessage = `Enforcement failed: ${remaining.length} resource(s) block encryption enforcement (${remaining
          .slice(0, 3)
          .map((b) => b.id)
          .join(', ')})`;
        return;
      }
    }
    control.state = 'available';
    control.stateMessage = undefined;
  }
}
