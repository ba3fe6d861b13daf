/**
 * What a blocker is, and what a person or vecguard can do about it.
 *
 * GetVpcResourcesBlockingEncryptionEnforcement returns `{Id, Type, Description, IsExcludable}` per blocking
 * resource, and AWS does not document the `Type` strings. vecguard therefore keeps `type` as returned and
 * decides the kind from what is stable: the resource-id prefix (`igw-`, `nat-`, `eni-`, …), ARNs, and for
 * ENIs the inventory's `InterfaceType`, description and attachment (docs/design.md §2).
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-encryption-controls.html
 */
import type { Blocker, BlockerKind, ExclusionName, NetworkInterface, RawBlocker } from './model.ts';

/** The exclusion that lets enforce through for a kind; kinds without one must be moved or removed. */
const EXCLUSION_BY_KIND: Readonly<Partial<Record<BlockerKind, ExclusionName>>> = {
  'internet-gateway': 'InternetGateway',
  'egress-only-internet-gateway': 'EgressOnlyInternetGateway',
  'nat-gateway': 'NatGateway',
  'virtual-private-gateway': 'VirtualPrivateGateway',
  'vpc-peering': 'VpcPeering',
  lambda: 'Lambda',
  'vpc-lattice': 'VpcLattice',
  'elastic-file-system': 'ElasticFileSystem',
  'global-accelerator': 'GlobalAccelerator',
  'api-gateway-v2': 'ApiGatewayV2',
};

/** The VPC-level exclusion for a blocker kind, or undefined when AWS offers none. */
export function exclusionFor(kind: BlockerKind): ExclusionName | undefined {
  return EXCLUSION_BY_KIND[kind];
}

/** The blocker kind an exclusion covers (the inverse of `exclusionFor`). */
export function kindForExclusion(exclusion: ExclusionName): BlockerKind {
  const entry = Object.entries(EXCLUSION_BY_KIND).find(([, name]) => name === exclusion);
  // Every exclusion name appears exactly once in EXCLUSION_BY_KIND (asserted by the tests).
  return (entry?.[0] ?? 'other') as BlockerKind;
}

/**
 * What a person must do about each kind, one or two sentences. The planner uses it for manual guidance and
 * the findings for remediation text, so that both say the same thing.
 */
export const BLOCKER_GUIDANCE: Readonly<Record<BlockerKind, string>> = {
  instance:
    'Move the instance to an instance type with NetworkInfo.EncryptionInTransitSupported (Nitro alone is not enough: t3, m5, c5, r5 are not capable); for an Auto Scaling group, fix its launch template or set InstanceRequirements.RequireEncryptionInTransit and refresh the group.',
  'internet-gateway':
    'Enable the InternetGateway exclusion before enforcing (traffic through the gateway stays unencrypted by the VPC), or detach the gateway.',
  'egress-only-internet-gateway':
    'Enable the EgressOnlyInternetGateway exclusion before enforcing, or delete the egress-only internet gateway.',
  'nat-gateway': 'Enable the NatGateway exclusion before enforcing, or delete the NAT gateway.',
  'virtual-private-gateway':
    'Enable the VirtualPrivateGateway exclusion before enforcing, or detach the virtual private gateway (a Transit Gateway with encryption support can replace it).',
  'vpc-peering':
    'Enable the VpcPeering exclusion before enforcing; a same-Region peering whose two VPCs are both enforced is encrypted end to end and no longer needs it.',
  lambda:
    'Enable the Lambda exclusion before enforcing; Lambda functions attached to the VPC otherwise fail with DisallowedByVpcEncryptionControl.',
  'vpc-lattice':
    'Enable the VpcLattice exclusion before enforcing, or remove the VPC Lattice association from the VPC.',
  'elastic-file-system':
    'Enable the ElasticFileSystem exclusion before enforcing, or remove the EFS mount targets from the VPC.',
  'global-accelerator':
    'Enable the GlobalAccelerator exclusion before enforcing, or remove the accelerator endpoint from the VPC.',
  'api-gateway-v2':
    'Enable the ApiGatewayV2 exclusion before enforcing, or remove the API Gateway VPC link from the VPC.',
  'gateway-load-balancer':
    'A Gateway Load Balancer (or its endpoint) cannot be enforced while it is in the VPC: there is no exclusion and no migration; move it to another VPC or keep this VPC in monitor.',
  'network-firewall':
    'An AWS Network Firewall endpoint cannot be enforced while it is in the VPC: there is no exclusion and no migration; move the firewall to another VPC or keep this VPC in monitor.',
  'interface-endpoint':
    'Interface endpoints to services that cannot encrypt in transit (e.g. PrivateLink to non-AWS services) block enforce; remove the endpoint or keep the VPC in monitor.',
  database:
    'RDS/Aurora/DocumentDB: modify to a capable instance class (during a maintenance window); Redshift: restore a snapshot onto capable nodes. Enforce is refused with VpcEncryptionControlViolationException until then.',
  cache:
    'ElastiCache/MemoryDB: move the cluster to a capable node type (modify node type, or create a new cluster and migrate).',
  'network-interface':
    'Find what owns this network interface (its description and requester) and move that workload onto capable instances, or delete the interface if it is unused.',
  other:
    'vecguard does not recognise this resource: check it in the console, move the workload onto encryption-capable infrastructure, or keep the VPC in monitor.',
};

const TGW_ATTACHMENT_GUIDANCE =
  'Enable encryption support on the Transit Gateway (ModifyTransitGateway EncryptionSupport=enable; it can take up to 14 days), or detach the VPC from it.';

/** Guidance for one blocker, naming it. */
export function guidanceFor(blocker: Pick<Blocker, 'id' | 'kind' | 'instanceId'>): string {
  const subject =
    blocker.instanceId && blocker.instanceId !== blocker.id
      ? `${blocker.id} (instance ${blocker.instanceId})`
      : blocker.id;
  // Transit Gateway attachments have no kind of their own (nothing to exclude) but a clear fix.
  const text = blocker.id.startsWith('tgw-attach-')
    ? TGW_ATTACHMENT_GUIDANCE
    : BLOCKER_GUIDANCE[blocker.kind];
  return `${subject}: ${text}`;
}

/** Is this kind something enforce can never accept while it stays in the VPC (no exclusion, no migration)? */
export function hasNoEnforcePath(kind: BlockerKind): boolean {
  return kind === 'gateway-load-balancer' || kind === 'network-firewall' || kind === 'interface-endpoint';
}

/** Resource-id prefixes; a longer prefix comes before any shorter one it starts with (`fsmt-` before `fs-`). */
const ID_PREFIXES: readonly (readonly [string, BlockerKind])[] = [
  ['eigw-', 'egress-only-internet-gateway'],
  ['igw-', 'internet-gateway'],
  ['nat-', 'nat-gateway'],
  ['vgw-', 'virtual-private-gateway'],
  ['pcx-', 'vpc-peering'],
  ['i-', 'instance'],
  // A Transit Gateway attachment has no exclusion; `guidanceFor` names its fix (TGW encryption support).
  ['tgw-attach-', 'other'],
  ['fsmt-', 'elastic-file-system'],
  ['fsap-', 'elastic-file-system'],
  ['fs-', 'elastic-file-system'],
  // VPC Lattice: service network VPC associations, resource gateways, resource configurations.
  ['snva-', 'vpc-lattice'],
  ['rgw-', 'vpc-lattice'],
  ['rcfg-', 'vpc-lattice'],
];

/** ARN service → kind, for blockers AWS reports by ARN rather than by id. */
const ARN_SERVICES: Readonly<Record<string, BlockerKind>> = {
  lambda: 'lambda',
  'vpc-lattice': 'vpc-lattice',
  elasticfilesystem: 'elastic-file-system',
  globalaccelerator: 'global-accelerator',
  apigateway: 'api-gateway-v2',
  'network-firewall': 'network-firewall',
  rds: 'database',
  redshift: 'database',
  'redshift-serverless': 'database',
  elasticache: 'cache',
  memorydb: 'cache',
};

/** Description keywords, first match wins; checked on the ENI's and the blocker's description. */
const DESCRIPTION_RULES: readonly (readonly [RegExp, BlockerKind])[] = [
  [/network\s*firewall/i, 'network-firewall'],
  [/gateway\s*load\s*balancer|\bgwlb\b|elb\s+gwy\//i, 'gateway-load-balancer'],
  [/lattice/i, 'vpc-lattice'],
  [/\bEFS\b|elastic\s*file\s*system|fsmt-/i, 'elastic-file-system'],
  [/\bAWS Lambda\b|\blambda\b/i, 'lambda'],
  [/global\s*accelerator/i, 'global-accelerator'],
  [/api\s*gateway/i, 'api-gateway-v2'],
  [/nat\s*gateway/i, 'nat-gateway'],
  [/RDSNetworkInterface|\bRDS\b|aurora|document\s*db|docdb|neptune|redshift/i, 'database'],
  [/elasticache|memorydb/i, 'cache'],
  [/vpc\s*endpoint|\bvpce-/i, 'interface-endpoint'],
];

/** EC2 `InterfaceType` (normalised: lower case, no `_`/`-`) → kind. Unlisted types fall through. */
const INTERFACE_TYPES: Readonly<Record<string, BlockerKind>> = {
  lambda: 'lambda',
  natgateway: 'nat-gateway',
  gatewayloadbalancer: 'gateway-load-balancer',
  gatewayloadbalancerendpoint: 'gateway-load-balancer',
  efs: 'elastic-file-system',
  globalacceleratormanaged: 'global-accelerator',
  apigatewaymanaged: 'api-gateway-v2',
  vpcendpoint: 'interface-endpoint',
};

function normaliseInterfaceType(type: string): string {
  return type.toLowerCase().replace(/[_-]/g, '');
}

function kindFromDescription(description: string): BlockerKind | undefined {
  return DESCRIPTION_RULES.find(([pattern]) => pattern.test(description))?.[1];
}

function kindFromArn(arn: string): BlockerKind | undefined {
  const service = arn.split(':')[2] ?? '';
  if (service === 'elasticloadbalancing') {
    return /loadbalancer\/gwy\//.test(arn) ? 'gateway-load-balancer' : undefined;
  }
  return ARN_SERVICES[service];
}

/**
 * Kind of a network interface from what the inventory knows about it. Description rules come first because
 * an interface endpoint of a Network Firewall is a `vpc_endpoint` whose description names the firewall.
 */
export function kindOfNetworkInterface(
  eni: Pick<NetworkInterface, 'interfaceType' | 'description' | 'instanceId'>,
): {
  kind: BlockerKind;
  instanceId?: string;
} {
  const byType = INTERFACE_TYPES[normaliseInterfaceType(eni.interfaceType)];
  const byDescription = kindFromDescription(eni.description);
  if (byDescription === 'network-firewall' || byDescription === 'gateway-load-balancer') {
    return { kind: byDescription };
  }
  if (byType) return { kind: byType };
  if (eni.instanceId) return { kind: 'instance', instanceId: eni.instanceId };
  return { kind: byDescription ?? 'network-interface' };
}

function lookup(
  enis: ReadonlyMap<string, NetworkInterface> | readonly NetworkInterface[],
  id: string,
): NetworkInterface | undefined {
  if (Array.isArray(enis))
    return (enis as readonly NetworkInterface[]).find((e) => e.networkInterfaceId === id);
  return (enis as ReadonlyMap<string, NetworkInterface>).get(id);
}

/** Index network interfaces by id, for classifying many blockers. */
export function indexNetworkInterfaces(
  enis: readonly NetworkInterface[],
): ReadonlyMap<string, NetworkInterface> {
  return new Map(enis.map((e) => [e.networkInterfaceId, e]));
}

/**
 * Classify one blocker. `type`, `description` and `isExcludable` are kept as AWS returned them; `kind` is
 * derived from the id (and for ENIs from the inventory), never from `type` alone.
 */
export function classifyBlocker(
  raw: RawBlocker,
  enis: ReadonlyMap<string, NetworkInterface> | readonly NetworkInterface[] = [],
): Blocker {
  const id = raw.id.trim();
  const base: Blocker = { ...raw, kind: 'other' };

  if (id.startsWith('arn:')) {
    return { ...base, kind: kindFromArn(id) ?? kindFromDescription(raw.description) ?? 'other' };
  }
  if (id.startsWith('eni-')) {
    const eni = lookup(enis, id);
    if (eni) {
      const { kind, instanceId } = kindOfNetworkInterface(eni);
      return instanceId ? { ...base, kind, instanceId } : { ...base, kind };
    }
    // Not in the inventory (read at another moment): the blocker's own description is all there is.
    return { ...base, kind: kindFromDescription(raw.description) ?? 'network-interface' };
  }
  if (id.startsWith('vpce-')) {
    const byDescription = kindFromDescription(raw.description);
    const endpointKinds: readonly BlockerKind[] = ['network-firewall', 'gateway-load-balancer'];
    return {
      ...base,
      kind: byDescription && endpointKinds.includes(byDescription) ? byDescription : 'interface-endpoint',
    };
  }
  if (id.startsWith('fs-') && /\bFSx\b/i.test(raw.description)) {
    // FSx file systems share the `fs-` prefix with EFS and have no exclusion.
    return { ...base, kind: 'other' };
  }
  const byPrefix = ID_PREFIXES.find(([prefix]) => id.startsWith(prefix))?.[1];
  if (byPrefix === 'instance') return { ...base, kind: 'instance', instanceId: id };
  if (byPrefix) return { ...base, kind: byPrefix };
  return { ...base, kind: kindFromDescription(raw.description) ?? 'other' };
}
