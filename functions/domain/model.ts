/**
 * The inventory model: what vecguard knows about one account + Region at one moment.
 *
 * Shapes follow the EC2 API (DescribeVpcs, DescribeVpcEncryptionControls,
 * GetVpcResourcesBlockingEncryptionEnforcement, DescribeInstanceTypes, …) but in vecguard's own words and
 * camelCase, so the domain never depends on an SDK. State strings are deliberately open (`z.string()`):
 * AWS has renamed states before (`modify-in-progress` in early docs) and a security tool must keep
 * working, and say "unknown", when it meets one it has not seen.
 */
import { z } from 'zod';

/** The ten VPC-level exclusions (EC2 API, SDK 3.1169). Key names as in `VpcEncryptionControlExclusions`. */
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
export const ExclusionNameSchema = z.enum(EXCLUSION_NAMES);
export type ExclusionName = z.infer<typeof ExclusionNameSchema>;

export const ControlModeSchema = z.enum(['monitor', 'enforce']);
export type ControlMode = z.infer<typeof ControlModeSchema>;

/** Control states the SDK documents. Anything else is kept verbatim and treated as "in transition". */
export const CONTROL_STATES = [
  'creating',
  'available',
  'monitor-in-progress',
  'enforce-in-progress',
  'monitor-failed',
  'enforce-failed',
  'deleting',
  'deleted',
  'delete-failed',
] as const;
export type KnownControlState = (typeof CONTROL_STATES)[number];

export const EXCLUSION_STATES = ['enabling', 'enabled', 'disabling', 'disabled'] as const;

export const TagsSchema = z.record(z.string(), z.string());
export type Tags = z.infer<typeof TagsSchema>;

export const ExclusionStatusSchema = z.object({
  state: z.string().min(1),
  stateMessage: z.string().optional(),
});
export type ExclusionStatus = z.infer<typeof ExclusionStatusSchema>;

export const EncryptionControlSchema = z.object({
  controlId: z.string().min(1),
  mode: ControlModeSchema,
  state: z.string().min(1),
  stateMessage: z.string().optional(),
  exclusions: z.partialRecord(ExclusionNameSchema, ExclusionStatusSchema).default({}),
});
export type EncryptionControl = z.infer<typeof EncryptionControlSchema>;

/**
 * What a blocker is, derived from its resource id and description (see `classifyBlocker`): AWS does not
 * document the `Type` strings of GetVpcResourcesBlockingEncryptionEnforcement, so vecguard keeps them as
 * returned and never branches on them.
 */
export const BLOCKER_KINDS = [
  'instance',
  'internet-gateway',
  'egress-only-internet-gateway',
  'nat-gateway',
  'virtual-private-gateway',
  'vpc-peering',
  'lambda',
  'vpc-lattice',
  'elastic-file-system',
  'global-accelerator',
  'api-gateway-v2',
  'gateway-load-balancer',
  'network-firewall',
  'interface-endpoint',
  'database',
  'cache',
  'network-interface',
  'other',
] as const;
export const BlockerKindSchema = z.enum(BLOCKER_KINDS);
export type BlockerKind = z.infer<typeof BlockerKindSchema>;

/** A resource that blocks enforce, as GetVpcResourcesBlockingEncryptionEnforcement returns it. */
export const RawBlockerSchema = z.object({
  id: z.string().min(1),
  type: z.string().default(''),
  description: z.string().default(''),
  isExcludable: z.boolean(),
});
export type RawBlocker = z.infer<typeof RawBlockerSchema>;

export const BlockerSchema = RawBlockerSchema.extend({
  kind: BlockerKindSchema,
  /** The instance behind an ENI blocker, when the inventory knows it. */
  instanceId: z.string().optional(),
});
export type Blocker = z.infer<typeof BlockerSchema>;

export const VpcSchema = z.object({
  vpcId: z.string().min(1),
  cidrBlock: z.string().optional(),
  isDefault: z.boolean().default(false),
  tags: TagsSchema.default({}),
  /** null: the VPC has no encryption control at all (UNMONITORED). */
  control: EncryptionControlSchema.nullable(),
  /** Blockers as last read; only meaningful once a control exists. */
  blockers: z.array(RawBlockerSchema).default([]),
});
export type Vpc = z.infer<typeof VpcSchema>;

export const InstanceSchema = z.object({
  instanceId: z.string().min(1),
  instanceType: z.string().min(1),
  vpcId: z.string().min(1),
  subnetId: z.string().optional(),
  /** pending | running | stopping | stopped | shutting-down | terminated (kept open). */
  state: z.string().min(1),
  tags: TagsSchema.default({}),
  /** From the `aws:autoscaling:groupName` tag: ASG members are never stopped by vecguard. */
  autoScalingGroupName: z.string().optional(),
  networkInterfaceIds: z.array(z.string()).default([]),
});
export type Instance = z.infer<typeof InstanceSchema>;

export const NetworkInterfaceSchema = z.object({
  networkInterfaceId: z.string().min(1),
  vpcId: z.string().min(1),
  /** EC2 `InterfaceType`: interface, lambda, nat_gateway, network_load_balancer, gateway_load_balancer, … */
  interfaceType: z.string().default('interface'),
  requesterManaged: z.boolean().default(false),
  description: z.string().default(''),
  instanceId: z.string().optional(),
});
export type NetworkInterface = z.infer<typeof NetworkInterfaceSchema>;

export const InstanceTypeInfoSchema = z.object({
  instanceType: z.string().min(1),
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  /** e.g. x86_64, arm64, i386 */
  architectures: z.array(z.string()).min(1),
  /** nitro | xen | (unknown strings kept) */
  hypervisor: z.string().default('nitro'),
  currentGeneration: z.boolean().default(true),
  /** `NetworkInfo.EncryptionInTransitSupported`: the only test of "capable" (Nitro alone is not enough). */
  encryptionInTransitSupported: z.boolean(),
});
export type InstanceTypeInfo = z.infer<typeof InstanceTypeInfoSchema>;

export const TransitGatewayAttachmentSchema = z.object({
  attachmentId: z.string().min(1),
  /** vpc | vpn | connect | peering | direct-connect-gateway | network-function | … */
  resourceType: z.string().min(1),
  resourceId: z.string().optional(),
  state: z.string().default('available'),
});
export type TransitGatewayAttachment = z.infer<typeof TransitGatewayAttachmentSchema>;

export const TransitGatewaySchema = z.object({
  transitGatewayId: z.string().min(1),
  state: z.string().default('available'),
  tags: TagsSchema.default({}),
  /** `Options.EncryptionSupport.EncryptionState`: disabled | enabling | enabled | disabling (kept open; `enable`/`disable` tolerated). */
  encryptionSupport: z.string().default('disabled'),
  encryptionSupportMessage: z.string().optional(),
  securityGroupReferencingSupport: z.boolean().default(false),
  multicastSupport: z.boolean().default(false),
  attachments: z.array(TransitGatewayAttachmentSchema).default([]),
});
export type TransitGateway = z.infer<typeof TransitGatewaySchema>;

export const PeeringConnectionSchema = z.object({
  peeringConnectionId: z.string().min(1),
  status: z.string().default('active'),
  requesterVpcId: z.string().min(1),
  requesterOwnerId: z.string().optional(),
  requesterRegion: z.string().optional(),
  accepterVpcId: z.string().min(1),
  accepterOwnerId: z.string().optional(),
  accepterRegion: z.string().optional(),
  tags: TagsSchema.default({}),
});
export type PeeringConnection = z.infer<typeof PeeringConnectionSchema>;

export const FlowLogSchema = z.object({
  flowLogId: z.string().min(1),
  resourceId: z.string().min(1),
  /** Custom format string, e.g. `${version} ${srcaddr} … ${encryption-status}`; absent = default format. */
  logFormat: z.string().optional(),
  destinationType: z.string().default('cloud-watch-logs'),
});
export type FlowLog = z.infer<typeof FlowLogSchema>;

export const GATEWAY_KINDS = [
  'internet-gateway',
  'egress-only-internet-gateway',
  'nat-gateway',
  'virtual-private-gateway',
] as const;

/**
 * Gateways attached to a VPC. Read from inventory so that the exclusions a VPC needs can be known without
 * relying on how (or whether) AWS lists an excluded gateway as a blocker.
 */
export const GatewaySchema = z.object({
  gatewayId: z.string().min(1),
  kind: z.enum(GATEWAY_KINDS),
  vpcId: z.string().min(1),
  state: z.string().default('available'),
});
export type Gateway = z.infer<typeof GatewaySchema>;

export const AccountControlSchema = z.object({
  /** unmanaged | attempt-monitor | attempt-enforce (kept open) */
  mode: z.string().default('unmanaged'),
  /** account | declarative-policy: a declarative policy wins, and vecguard reports instead of fighting it. */
  managedBy: z.string().default('account'),
  state: z.string().optional(),
});
export type AccountControl = z.infer<typeof AccountControlSchema>;

export const AccountIdSchema = z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits');
export const RegionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'a Region looks like us-east-1');

/** Everything vecguard reads about one account + Region in one inventory pass. */
export const InventorySnapshotSchema = z.object({
  accountId: AccountIdSchema,
  region: RegionSchema,
  /** ISO-8601; the snapshot's clock, used as `UpdatedAt` for findings so that output is deterministic. */
  takenAt: z.iso.datetime(),
  /**
   * The account's parent chain in AWS Organizations — its OUs nearest first, then the root
   * (functions/domain/organization.ts `parentChain`) — when the run was given one; empty otherwise.
   */
  organizationalUnitIds: z.array(z.string()).default([]),
  accountControl: AccountControlSchema.nullable().default(null),
  vpcs: z.array(VpcSchema).default([]),
  instances: z.array(InstanceSchema).default([]),
  networkInterfaces: z.array(NetworkInterfaceSchema).default([]),
  instanceTypes: z.array(InstanceTypeInfoSchema).default([]),
  transitGateways: z.array(TransitGatewaySchema).default([]),
  peeringConnections: z.array(PeeringConnectionSchema).default([]),
  gateways: z.array(GatewaySchema).default([]),
  flowLogs: z.array(FlowLogSchema).default([]),
});
export type InventorySnapshot = z.infer<typeof InventorySnapshotSchema>;
export type InventorySnapshotInput = z.input<typeof InventorySnapshotSchema>;

/** The tag that opts a VPC out of vecguard entirely. */
export const IGNORE_TAG = 'vecguard:ignore';
/** The tag that asks for a mode for one VPC (`enforce` | `monitor` | `ignore`). */
export const MODE_TAG = 'vecguard:mode';

export function vpcName(vpc: Pick<Vpc, 'vpcId' | 'tags'>): string {
  return vpc.tags.Name ?? vpc.vpcId;
}
