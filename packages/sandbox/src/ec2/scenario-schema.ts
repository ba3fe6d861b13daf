/**
 * A scenario: the EC2 estate the sandbox starts with, as plain data meant to be written by hand (YAML or
 * JSON). Resources are referred to by **name**; ids are derived from account, Region and names, so the
 * same scenario always yields the same ids (`Ec2Emulator.loadScenario` returns the name → id map).
 *
 * ```yaml
 * accounts:
 *   - id: "222222222222"
 *     regions:
 *       - name: us-east-1
 *         vpcs:
 *           - name: payments
 *             encryptionControl: { mode: monitor }
 *             internetGateway: true
 *             instances: [{ name: api, type: m5.large, count: 2 }]
 * ```
 */
import { z } from 'zod';
import { EXCLUSION_NAMES } from './model.ts';

const Name = z.string().min(1).max(128);
const Cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'a CIDR block such as 10.0.0.0/16');
const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit account id');
const Tags = z.record(z.string(), z.string()).default({});
const Exclusion = z.enum(EXCLUSION_NAMES);

export const ScenarioSubnetSchema = z.strictObject({
  name: Name,
  cidr: Cidr.optional(),
  /** Availability Zone; default `<region>a`. */
  az: z.string().optional(),
  /** A Local Zone subnet: a non-excludable blocker. */
  localZone: z.boolean().default(false),
  tags: Tags,
});

export const ScenarioInstanceSchema = z.strictObject({
  name: Name,
  type: z.string().min(1),
  /** Subnet name; default the VPC's first subnet. */
  subnet: Name.optional(),
  state: z.enum(['running', 'stopped']).default('running'),
  /** Launch this many (names get `-1`, `-2`, … when > 1). */
  count: z.number().int().min(1).max(500).default(1),
  /** Whether the image has ENA enabled (false: an old AMI; a move to a Nitro type is refused). */
  enaSupport: z.boolean().default(true),
  tags: Tags,
});

export const ScenarioNetworkInterfaceSchema = z.strictObject({
  name: Name,
  /** EC2 InterfaceType: `lambda`, `gateway_load_balancer`, `gateway_load_balancer_endpoint`, `network_load_balancer`,
   *  `interface` (VPC endpoints, RDS…), `vpc_lattice`, `efs`, `api_gateway_managed`, `global_accelerator_managed`, … */
  interfaceType: z.string().min(1),
  subnet: Name.optional(),
  description: z.string().default(''),
  /** Owning service, free text (`lambda`, `rds`, `network-firewall`, …); `network-firewall` is non-excludable. */
  service: z.string().optional(),
  requesterId: z.string().optional(),
  /** `false` makes a requester-managed ENI a non-excludable blocker (e.g. RDS on a non-capable class). */
  encryptionSupported: z.boolean().optional(),
  tags: Tags,
});

export const ScenarioEncryptionControlSchema = z.strictObject({
  mode: z.enum(['monitor', 'enforce']),
  /** Any state string (drift scenarios may start mid-transition or failed). Default `available`. */
  state: z.string().default('available'),
  stateMessage: z.string().optional(),
  /** Exclusions that are `enabled`. */
  exclusions: z.array(Exclusion).default([]),
  tags: Tags,
});

export const ScenarioFlowLogSchema = z.strictObject({
  name: Name,
  logFormat: z.string().optional(),
  trafficType: z.enum(['ACCEPT', 'REJECT', 'ALL']).default('ALL'),
  destinationType: z.enum(['cloud-watch-logs', 's3', 'kinesis-data-firehose']).default('cloud-watch-logs'),
  destination: z.string().optional(),
  tags: Tags,
});

export const ScenarioVpcSchema = z.strictObject({
  /** Unique within account + Region; also the `Name` tag unless `tags.Name` is given. */
  name: Name,
  cidr: Cidr.default('10.0.0.0/16'),
  tags: Tags,
  encryptionControl: ScenarioEncryptionControlSchema.optional(),
  /** Default: one subnet named `main`. */
  subnets: z.array(ScenarioSubnetSchema).optional(),
  instances: z.array(ScenarioInstanceSchema).default([]),
  networkInterfaces: z.array(ScenarioNetworkInterfaceSchema).default([]),
  internetGateway: z.boolean().default(false),
  egressOnlyInternetGateway: z.boolean().default(false),
  /** NAT gateways by name (in the first subnet unless `subnet` is given). */
  natGateways: z.array(z.strictObject({ name: Name, subnet: Name.optional(), tags: Tags })).default([]),
  vpnGateway: z.boolean().default(false),
  flowLogs: z.array(ScenarioFlowLogSchema).default([]),
});

export const ScenarioTgwAttachmentSchema = z.strictObject({
  name: Name,
  type: z.enum([
    'vpc',
    'vpn',
    'connect',
    'peering',
    'tgw-peering',
    'network-function',
    'vpn-concentrator',
    'direct-connect-gateway',
  ]),
  /** VPC name, for `vpc` attachments. */
  vpc: Name.optional(),
});

export const ScenarioTransitGatewaySchema = z.strictObject({
  name: Name,
  encryption: z.enum(['disabled', 'enabling', 'enabled', 'disabling']).default('disabled'),
  securityGroupReferencing: z.boolean().default(false),
  multicast: z.boolean().default(false),
  attachments: z.array(ScenarioTgwAttachmentSchema).default([]),
  tags: Tags,
});

const PeeringSide = z.strictObject({
  vpc: Name,
  /** Default: the account the peering is listed under. */
  account: AccountId.optional(),
  /** Default: the Region the peering is listed under. */
  region: z.string().optional(),
});

export const ScenarioPeeringSchema = z.strictObject({
  name: Name,
  requester: PeeringSide,
  accepter: PeeringSide,
  status: z.enum(['active', 'pending-acceptance']).default('active'),
  tags: Tags,
});

export const ScenarioAccountControlSchema = z.strictObject({
  mode: z.enum(['unmanaged', 'attempt-monitor', 'attempt-enforce']).default('unmanaged'),
  managedBy: z.enum(['account', 'declarative-policy']).default('account'),
  exclusions: z.array(Exclusion).default([]),
});

export const ScenarioRegionSchema = z.strictObject({
  name: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a Region name such as us-east-1'),
  accountControl: ScenarioAccountControlSchema.optional(),
  vpcs: z.array(ScenarioVpcSchema).default([]),
  transitGateways: z.array(ScenarioTransitGatewaySchema).default([]),
  /** Peerings whose requester side is in this account + Region (the other side may be anywhere). */
  peerings: z.array(ScenarioPeeringSchema).default([]),
});

export const ScenarioAccountSchema = z.strictObject({
  id: AccountId,
  name: z.string().optional(),
  /** An access key the sandbox registers for this account (besides `AKIDSANDBOX<account id>`). */
  accessKeyId: z.string().min(16).optional(),
  regions: z.array(ScenarioRegionSchema).default([]),
});

export const ScenarioSchema = z.strictObject({
  description: z.string().optional(),
  accounts: z.array(ScenarioAccountSchema).default([]),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ScenarioVpc = z.infer<typeof ScenarioVpcSchema>;
