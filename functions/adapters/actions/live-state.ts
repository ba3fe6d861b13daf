/**
 * The live reads the actions share: a VPC's encryption control, an instance, a Transit Gateway, a VPC's flow
 * logs, each with the small snapshot that goes to the audit log as `before`/`after`. A resource that no
 * longer exists reads as `null` (a precondition refuses on it); any other error is thrown as `AwsCallError`.
 */
import {
  DescribeFlowLogsCommand,
  type DescribeFlowLogsResult,
  DescribeInstancesCommand,
  type DescribeInstancesResult,
  DescribeTransitGatewaysCommand,
  type DescribeTransitGatewaysResult,
  DescribeVpcEncryptionControlsCommand,
  type DescribeVpcEncryptionControlsResult,
  type FlowLog,
  type ModifyVpcEncryptionControlRequest,
  type VpcEncryptionControl,
} from '@aws-sdk/client-ec2';
import { EXCLUSION_NAMES, type ExclusionName } from '../../domain/model.ts';
import { AwsCallError } from '../../shared/errors.ts';
import type { Ec2Gateway } from '../ec2-gateway.ts';
import { tagsOf } from '../inventory.ts';
import type { StateSnapshot } from './types.ts';

/** `null` for "that resource is gone"; anything else is rethrown. */
async function unlessNotFound<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof AwsCallError && e.code.endsWith('.NotFound')) return null;
    throw e;
  }
}

// --- encryption controls ---------------------------------------------------------------------------------

/**
 * The `ModifyVpcEncryptionControl` member for each exclusion (docs/design.md §2: the VPC-level key is `<Name>Exclusion`;
 * the account-level one is `<Name>`, CloudFormation's `<Name>ExclusionInput`). Typed against the SDK, so a
 * renamed member fails the build.
 */
export const EXCLUSION_INPUT: Readonly<Record<ExclusionName, keyof ModifyVpcEncryptionControlRequest>> = {
  InternetGateway: 'InternetGatewayExclusion',
  EgressOnlyInternetGateway: 'EgressOnlyInternetGatewayExclusion',
  NatGateway: 'NatGatewayExclusion',
  VirtualPrivateGateway: 'VirtualPrivateGatewayExclusion',
  VpcPeering: 'VpcPeeringExclusion',
  Lambda: 'LambdaExclusion',
  VpcLattice: 'VpcLatticeExclusion',
  ElasticFileSystem: 'ElasticFileSystemExclusion',
  GlobalAccelerator: 'GlobalAcceleratorExclusion',
  ApiGatewayV2: 'ApiGatewayV2Exclusion',
};

export interface LiveControl {
  readonly controlId: string;
  readonly mode: string;
  /** Kept verbatim: unknown strings mean "in transition". */
  readonly state: string;
  readonly stateMessage?: string;
  /** Exclusion name → state (`disabled` when AWS leaves it out). */
  readonly exclusions: Readonly<Record<ExclusionName, string>>;
}

/** Control states from which `ModifyVpcEncryptionControl` is accepted; any other is a transition to wait out. */
const MODIFIABLE_STATES = new Set(['available', 'monitor-failed', 'enforce-failed']);

export function isModifiable(control: LiveControl): boolean {
  return MODIFIABLE_STATES.has(control.state);
}

/** The VPC's live control; `null` when it has none (or only a deleted one), or the VPC is gone. */
export async function readControl(ec2: Ec2Gateway, vpcId: string): Promise<LiveControl | null> {
  const result = await unlessNotFound(
    ec2.read<DescribeVpcEncryptionControlsResult>(
      new DescribeVpcEncryptionControlsCommand({ VpcIds: [vpcId] }),
    ),
  );
  const c = result?.VpcEncryptionControls?.find((c) => c.VpcId === vpcId && c.State !== 'deleted');
  return c === undefined ? null : toLiveControl(c);
}

/** A control as Describe/Create/Modify return it. */
export function toLiveControl(c: VpcEncryptionControl | undefined): LiveControl | null {
  if (!c?.VpcEncryptionControlId) return null;
  const exclusions = Object.fromEntries(
    EXCLUSION_NAMES.map((name) => [name, c.ResourceExclusions?.[name]?.State ?? 'disabled']),
  ) as Record<ExclusionName, string>;
  return {
    controlId: c.VpcEncryptionControlId,
    mode: c.Mode ?? 'unknown',
    state: c.State ?? 'unknown',
    ...(c.StateMessage ? { stateMessage: c.StateMessage } : {}),
    exclusions,
  };
}

/** Mode, state and the exclusions that are not plain `disabled` (the audit log stays small). */
export function controlSnapshot(vpcId: string, control: LiveControl | null): StateSnapshot {
  if (control === null) return { vpcId, control: null };
  const exclusions: Record<string, string> = {};
  for (const name of EXCLUSION_NAMES) {
    if (control.exclusions[name] !== 'disabled') exclusions[name] = control.exclusions[name];
  }
  return {
    vpcId,
    controlId: control.controlId,
    mode: control.mode,
    state: control.state,
    ...(control.stateMessage ? { stateMessage: control.stateMessage } : {}),
    exclusions,
  };
}

// --- instances -------------------------------------------------------------------------------------------

export const ASG_TAG = 'aws:autoscaling:groupName';

export interface LiveInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  /** pending | running | stopping | stopped | shutting-down | terminated (kept open). */
  readonly state: string;
  readonly vpcId?: string;
  readonly autoScalingGroupName?: string;
  /** The instance's `EnaSupport` attribute (set from its AMI); Nitro types need it. */
  readonly enaSupport: boolean;
}

export async function readInstance(ec2: Ec2Gateway, instanceId: string): Promise<LiveInstance | null> {
  const result = await unlessNotFound(
    ec2.read<DescribeInstancesResult>(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  );
  const i = result?.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (!i?.InstanceType) return null;
  const asg = tagsOf(i.Tags)[ASG_TAG];
  return {
    instanceId,
    instanceType: i.InstanceType,
    state: i.State?.Name ?? 'unknown',
    ...(i.VpcId ? { vpcId: i.VpcId } : {}),
    ...(asg === undefined ? {} : { autoScalingGroupName: asg }),
    enaSupport: i.EnaSupport ?? false,
  };
}

export function instanceSnapshot(instance: LiveInstance | null, instanceId: string): StateSnapshot {
  if (instance === null) return { instanceId, exists: false };
  return {
    instanceId,
    instanceType: instance.instanceType,
    state: instance.state,
    ...(instance.autoScalingGroupName === undefined
      ? {}
      : { autoScalingGroupName: instance.autoScalingGroupName }),
  };
}

// --- transit gateways ------------------------------------------------------------------------------------

export interface LiveTransitGateway {
  readonly transitGatewayId: string;
  readonly state: string;
  /**
   * `Options.EncryptionSupport.EncryptionState`. The SDK enum says `enabled|enabling|disabled|disabling`;
   * docs/design.md §2 (after the launch docs) says `enable`; both spellings are read the same way (see `tgwEncryption`).
   */
  readonly encryptionState: string;
  readonly encryptionMessage?: string;
  readonly securityGroupReferencing: boolean;
  readonly multicast: boolean;
}

export type TgwEncryption = 'enabled' | 'enabling' | 'disabled' | 'disabling' | 'unknown';

export function tgwEncryption(state: string): TgwEncryption {
  switch (state) {
    case 'enable':
    case 'enabled':
      return 'enabled';
    case 'disable':
    case 'disabled':
      return 'disabled';
    case 'enabling':
    case 'disabling':
      return state;
    default:
      return 'unknown';
  }
}

export async function readTransitGateway(
  ec2: Ec2Gateway,
  transitGatewayId: string,
): Promise<LiveTransitGateway | null> {
  const result = await unlessNotFound(
    ec2.read<DescribeTransitGatewaysResult>(
      new DescribeTransitGatewaysCommand({ TransitGatewayIds: [transitGatewayId] }),
    ),
  );
  const t = result?.TransitGateways?.find((t) => t.TransitGatewayId === transitGatewayId);
  if (!t || t.State === 'deleted') return null;
  const encryption = t.Options?.EncryptionSupport;
  return {
    transitGatewayId,
    state: t.State ?? 'unknown',
    encryptionState: encryption?.EncryptionState ?? 'disabled',
    ...(encryption?.StateMessage ? { encryptionMessage: encryption.StateMessage } : {}),
    securityGroupReferencing: t.Options?.SecurityGroupReferencingSupport === 'enable',
    multicast: t.Options?.MulticastSupport === 'enable',
  };
}

export function tgwSnapshot(tgw: LiveTransitGateway | null, transitGatewayId: string): StateSnapshot {
  if (tgw === null) return { transitGatewayId, exists: false };
  return {
    transitGatewayId,
    state: tgw.state,
    encryptionSupport: tgw.encryptionState,
    ...(tgw.encryptionMessage ? { encryptionSupportMessage: tgw.encryptionMessage } : {}),
  };
}

// --- flow logs -------------------------------------------------------------------------------------------

/** Every flow log on a resource (a VPC has few; the filter keeps it to one page in practice). */
export async function readFlowLogs(ec2: Ec2Gateway, resourceId: string): Promise<FlowLog[]> {
  const logs: FlowLog[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.read<DescribeFlowLogsResult>(
      new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [resourceId] }], NextToken }),
    );
    logs.push(...(page.FlowLogs ?? []));
    NextToken = page.NextToken || undefined;
  } while (NextToken);
  return logs;
}

export function flowLogSnapshot(log: FlowLog): StateSnapshot {
  return {
    flowLogId: log.FlowLogId ?? '',
    resourceId: log.ResourceId ?? '',
    destinationType: log.LogDestinationType ?? 'cloud-watch-logs',
    destination: log.LogDestination ?? log.LogGroupName ?? '',
    status: log.FlowLogStatus ?? 'unknown',
  };
}
