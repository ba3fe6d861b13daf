/**
 * The EC2 emulator's state: plain mutable records, one set per account + Region (`RegionState`), with an
 * index of what each VPC contains so blockers and `vpc-id` filters never scan a whole Region.
 */

export const EXCLUSION_NAMES = [
  'InternetGateway',
  'EgressOnlyInternetGateway',
  'NatGateway',
  'VirtualPrivateGateway',
  'VpcPeering',
  'Lambda',
  'VpcLattice',
  'ElasticFileSystem',
  'GlobalAccelerator',
  'ApiGatewayV2',
] as const;
export type ExclusionName = (typeof EXCLUSION_NAMES)[number];

export type ExclusionState = 'enabling' | 'enabled' | 'disabling' | 'disabled';
export type ControlMode = 'monitor' | 'enforce';

export type Tags = Map<string, string>;

export interface ExclusionRecord {
  state: ExclusionState;
  stateMessage?: string;
}

export interface EncryptionControlRecord {
  readonly id: string;
  readonly vpcId: string;
  mode: ControlMode;
  /** Kept as a string: AWS has renamed states before and drift may set anything. */
  state: string;
  stateMessage?: string;
  readonly exclusions: Record<ExclusionName, ExclusionRecord>;
  readonly tags: Tags;
  /** Bumped on every change so a scheduled step can tell it has been superseded. */
  generation: number;
  /** Injected: the next mode transition ends in `<mode>-failed` with this message. */
  failNext?: string;
}

export interface VpcRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly cidrBlock: string;
  readonly isDefault: boolean;
  readonly instanceTenancy: string;
  readonly tags: Tags;
  control?: EncryptionControlRecord;
  /** Kept for ~1 h after deletion, as EC2 does, so DescribeVpcEncryptionControls can show `deleted`. */
  deletedControl?: EncryptionControlRecord;
}

export interface SubnetRecord {
  readonly id: string;
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  /** Local Zone subnets cannot be enforced (no exclusion). */
  readonly localZone: boolean;
  readonly tags: Tags;
}

export type InstanceStateName =
  | 'pending'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'shutting-down'
  | 'terminated';

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface InstanceRecord {
  readonly id: string;
  readonly reservationId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  instanceType: string;
  state: InstanceStateName;
  stateReason?: string;
  readonly imageId: string;
  readonly launchTime: number;
  readonly privateIpAddress: string;
  readonly eniId: string;
  readonly tags: Tags;
  /**
   * Whether the instance's image has ENA enabled (the `EnaSupport` attribute). It belongs to the AMI, not the
   * type: an m4 or t2 launched from a current AMI has it. Nitro types refuse to start without it.
   */
  enaSupport: boolean;
  /** Bumped on every state change so a scheduled step can tell it has been superseded. */
  generation: number;
  terminatedAt?: number;
}

export interface NetworkInterfaceRecord {
  readonly id: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** EC2 `InterfaceType` (`interface`, `lambda`, `gateway_load_balancer`, `network_load_balancer`, …). */
  readonly interfaceType: string;
  readonly description: string;
  readonly requesterManaged: boolean;
  readonly requesterId?: string;
  readonly privateIpAddress: string;
  readonly instanceId?: string;
  readonly tags: Tags;
  /**
   * Whether the resource behind a requester-managed ENI encrypts in transit. `false` makes it a
   * non-excludable blocker (an RDS instance on an old class, an endpoint to a non-AWS service…).
   */
  readonly encryptionSupported?: boolean;
  /** What owns it when not an instance: `lambda`, `network-firewall`, `rds`, … (free text, for descriptions). */
  readonly service?: string;
}

export interface InternetGatewayRecord {
  readonly id: string;
  readonly ownerId: string;
  vpcId?: string;
  readonly tags: Tags;
}

export interface EgressOnlyInternetGatewayRecord {
  readonly id: string;
  vpcId?: string;
  readonly tags: Tags;
}

export interface NatGatewayRecord {
  readonly id: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly connectivityType: 'public' | 'private';
  state: 'pending' | 'available' | 'deleting' | 'deleted' | 'failed';
  readonly createTime: number;
  deleteTime?: number;
  readonly eniId: string;
  readonly privateIpAddress: string;
  readonly tags: Tags;
}

export interface VpnGatewayRecord {
  readonly id: string;
  readonly type: string;
  state: 'pending' | 'available' | 'deleting' | 'deleted';
  vpcId?: string;
  attachmentState?: 'attaching' | 'attached' | 'detaching' | 'detached';
  readonly amazonSideAsn: number;
  readonly tags: Tags;
}

export interface PeeringSide {
  readonly vpcId: string;
  readonly ownerId: string;
  readonly region: string;
  readonly cidrBlock: string;
}

export interface PeeringRecord {
  readonly id: string;
  readonly requester: PeeringSide;
  readonly accepter: PeeringSide;
  status: 'pending-acceptance' | 'active' | 'deleted' | 'rejected' | 'provisioning';
  readonly tags: Tags;
  expirationTime: number;
}

export interface TransitGatewayRecord {
  readonly id: string;
  readonly ownerId: string;
  state: 'pending' | 'available' | 'modifying' | 'deleting' | 'deleted';
  description: string;
  readonly creationTime: number;
  readonly amazonSideAsn: number;
  securityGroupReferencingSupport: 'enable' | 'disable';
  multicastSupport: 'enable' | 'disable';
  dnsSupport: 'enable' | 'disable';
  vpnEcmpSupport: 'enable' | 'disable';
  encryption: { state: 'disabled' | 'enabling' | 'enabled' | 'disabling'; stateMessage?: string };
  generation: number;
  readonly tags: Tags;
}

export type TgwAttachmentResourceType =
  | 'vpc'
  | 'vpn'
  | 'connect'
  | 'peering'
  | 'tgw-peering'
  | 'network-function'
  | 'vpn-concentrator'
  | 'direct-connect-gateway';

export interface TgwAttachmentRecord {
  readonly id: string;
  readonly transitGatewayId: string;
  readonly resourceType: TgwAttachmentResourceType;
  readonly resourceId: string;
  readonly vpcId?: string;
  readonly subnetIds: readonly string[];
  state: 'pending' | 'available' | 'deleting' | 'deleted';
  readonly creationTime: number;
  readonly tags: Tags;
}

export interface FlowLogRecord {
  readonly id: string;
  readonly resourceId: string;
  readonly trafficType: string;
  readonly logDestinationType: string;
  readonly logDestination?: string;
  readonly logGroupName?: string;
  readonly logFormat: string;
  readonly maxAggregationInterval: number;
  readonly creationTime: number;
  readonly tags: Tags;
}

export type AccountControlMode = 'unmanaged' | 'attempt-monitor' | 'attempt-enforce';

export interface AccountControlRecord {
  mode: AccountControlMode;
  state: string;
  managedBy: 'account' | 'declarative-policy';
  readonly exclusions: Record<ExclusionName, ExclusionState>;
  lastUpdate: number;
  generation: number;
}

/** What one VPC contains; maintained by the store on every create/delete. */
export interface VpcContents {
  readonly subnets: Set<string>;
  readonly instances: Set<string>;
  readonly networkInterfaces: Set<string>;
  readonly natGateways: Set<string>;
  readonly internetGateways: Set<string>;
  readonly egressOnlyInternetGateways: Set<string>;
  readonly vpnGateways: Set<string>;
  readonly peerings: Set<string>;
  readonly tgwAttachments: Set<string>;
}

export function emptyContents(): VpcContents {
  return {
    subnets: new Set(),
    instances: new Set(),
    networkInterfaces: new Set(),
    natGateways: new Set(),
    internetGateways: new Set(),
    egressOnlyInternetGateways: new Set(),
    vpnGateways: new Set(),
    peerings: new Set(),
    tgwAttachments: new Set(),
  };
}

export function disabledExclusions(): Record<ExclusionName, ExclusionRecord> {
  return Object.fromEntries(EXCLUSION_NAMES.map((name) => [name, { state: 'disabled' }])) as Record<
    ExclusionName,
    ExclusionRecord
  >;
}
