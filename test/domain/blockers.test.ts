import { describe, expect, it } from 'vitest';
import {
  BLOCKER_GUIDANCE,
  classifyBlocker,
  exclusionFor,
  guidanceFor,
  hasNoEnforcePath,
  indexNetworkInterfaces,
  kindForExclusion,
} from '../../functions/domain/blockers.ts';
import {
  BLOCKER_KINDS,
  type BlockerKind,
  EXCLUSION_NAMES,
  type NetworkInterface,
  NetworkInterfaceSchema,
} from '../../functions/domain/model.ts';
import { blocker, eni } from './fixtures.ts';

const VPC = 'vpc-0a';

function inventoryEni(id: string, init: Partial<NetworkInterface> = {}): NetworkInterface {
  return NetworkInterfaceSchema.parse(eni(id, VPC, init));
}

/** One case per way of recognising a kind; together they must reach every kind. */
const CASES: readonly {
  name: string;
  id: string;
  description?: string;
  eni?: Partial<NetworkInterface>;
  kind: BlockerKind;
  instanceId?: string;
}[] = [
  { name: 'an internet gateway by igw-', id: 'igw-0a1b', kind: 'internet-gateway' },
  { name: 'an egress-only internet gateway by eigw-', id: 'eigw-0a1b', kind: 'egress-only-internet-gateway' },
  { name: 'a NAT gateway by nat-', id: 'nat-0a1b', kind: 'nat-gateway' },
  { name: 'a virtual private gateway by vgw-', id: 'vgw-0a1b', kind: 'virtual-private-gateway' },
  { name: 'a peering by pcx-', id: 'pcx-0a1b', kind: 'vpc-peering' },
  { name: 'an instance by i-, with its id', id: 'i-0a1b', kind: 'instance', instanceId: 'i-0a1b' },
  { name: 'an EFS file system by fs-', id: 'fs-0a1b', kind: 'elastic-file-system' },
  { name: 'an EFS mount target by fsmt-', id: 'fsmt-0a1b', kind: 'elastic-file-system' },
  { name: 'a VPC Lattice association by snva-', id: 'snva-0a1b', kind: 'vpc-lattice' },
  { name: 'a Transit Gateway attachment as other', id: 'tgw-attach-0a1b', kind: 'other' },
  {
    name: 'an FSx file system (fs-, FSx) as other',
    id: 'fs-0a1b',
    description: 'Amazon FSx for Lustre',
    kind: 'other',
  },
  { name: 'an interface endpoint by vpce-', id: 'vpce-0a1b', kind: 'interface-endpoint' },
  {
    name: 'a Network Firewall endpoint (vpce- + description)',
    id: 'vpce-0a1b',
    description: 'AWS Network Firewall endpoint',
    kind: 'network-firewall',
  },
  {
    name: 'a GWLB endpoint (vpce- + description)',
    id: 'vpce-0a1b',
    description: 'Gateway Load Balancer endpoint',
    kind: 'gateway-load-balancer',
  },
  {
    name: 'a Lambda function by ARN',
    id: 'arn:aws:lambda:eu-west-1:111122223333:function:orders',
    kind: 'lambda',
  },
  {
    name: 'a Gateway Load Balancer by ARN',
    id: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/gwy/inspect/0a1b',
    kind: 'gateway-load-balancer',
  },
  {
    name: 'an application load balancer by ARN as other',
    id: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/0a1b',
    kind: 'other',
  },
  { name: 'an RDS instance by ARN', id: 'arn:aws:rds:eu-west-1:111122223333:db:orders', kind: 'database' },
  {
    name: 'a Global Accelerator by ARN',
    id: 'arn:aws:globalaccelerator::111122223333:accelerator/0a1b',
    kind: 'global-accelerator',
  },
  {
    name: 'an API Gateway VPC link by ARN',
    id: 'arn:aws:apigateway:eu-west-1::/vpclinks/0a1b',
    kind: 'api-gateway-v2',
  },
  { name: 'an unknown id prefix as other', id: 'xyz-0a1b', kind: 'other' },
  {
    name: 'an unknown id prefix by its description',
    id: 'cluster-0a1b',
    description: 'ElastiCache my-cache-001',
    kind: 'cache',
  },
  {
    name: 'a GWLB ENI by interfaceType gateway_load_balancer',
    id: 'eni-01',
    eni: { interfaceType: 'gateway_load_balancer' },
    kind: 'gateway-load-balancer',
  },
  {
    name: 'a GWLB endpoint ENI by interfaceType gateway_load_balancer_endpoint',
    id: 'eni-02',
    eni: { interfaceType: 'gateway_load_balancer_endpoint' },
    kind: 'gateway-load-balancer',
  },
  {
    name: 'a Lambda ENI by interfaceType lambda',
    id: 'eni-03',
    eni: { interfaceType: 'lambda' },
    kind: 'lambda',
  },
  {
    name: 'a NAT gateway ENI by interfaceType nat_gateway',
    id: 'eni-04',
    eni: { interfaceType: 'nat_gateway' },
    kind: 'nat-gateway',
  },
  {
    name: 'a NAT gateway ENI by the SDK spelling natGateway',
    id: 'eni-05',
    eni: { interfaceType: 'natGateway' },
    kind: 'nat-gateway',
  },
  {
    name: 'an instance ENI, with the instance id from the inventory',
    id: 'eni-06',
    eni: { interfaceType: 'interface', instanceId: 'i-0c0ffee' },
    kind: 'instance',
    instanceId: 'i-0c0ffee',
  },
  {
    name: 'an RDS ENI by its RDSNetworkInterface description',
    id: 'eni-07',
    eni: { interfaceType: 'interface', requesterManaged: true, description: 'RDSNetworkInterface' },
    kind: 'database',
  },
  {
    name: 'an ElastiCache ENI by description',
    id: 'eni-08',
    eni: { description: 'ElastiCache orders-cache-0001-001' },
    kind: 'cache',
  },
  {
    name: 'a Network Firewall ENI (vpc_endpoint) by description',
    id: 'eni-09',
    eni: { interfaceType: 'vpc_endpoint', description: 'VPC Endpoint for Network Firewall fw-prod' },
    kind: 'network-firewall',
  },
  {
    name: 'an interface endpoint ENI by interfaceType vpc_endpoint',
    id: 'eni-10',
    eni: { interfaceType: 'vpc_endpoint', description: 'VPC Endpoint Interface vpce-0a1b' },
    kind: 'interface-endpoint',
  },
  {
    name: 'an EFS ENI by interfaceType efs',
    id: 'eni-11',
    eni: { interfaceType: 'efs' },
    kind: 'elastic-file-system',
  },
  {
    name: 'an EFS mount target ENI by description',
    id: 'eni-12',
    eni: { description: 'EFS mount target for fs-0a1b (fsmt-0a1b)' },
    kind: 'elastic-file-system',
  },
  {
    name: 'a VPC Lattice ENI by description',
    id: 'eni-13',
    eni: { description: 'VPC Lattice resource gateway rgw-0a1b' },
    kind: 'vpc-lattice',
  },
  {
    name: 'a Global Accelerator ENI by interfaceType',
    id: 'eni-14',
    eni: { interfaceType: 'global_accelerator_managed' },
    kind: 'global-accelerator',
  },
  {
    name: 'an API Gateway ENI by interfaceType',
    id: 'eni-15',
    eni: { interfaceType: 'api_gateway_managed' },
    kind: 'api-gateway-v2',
  },
  {
    name: 'an ENI nobody explains as network-interface',
    id: 'eni-16',
    eni: { interfaceType: 'interface', description: 'Primary network interface' },
    kind: 'network-interface',
  },
  {
    name: 'a detached ENI of a new interface type as network-interface',
    id: 'eni-17',
    eni: { interfaceType: 'quantum_link' },
    kind: 'network-interface',
  },
  {
    name: 'an ENI missing from the inventory by the blocker description',
    id: 'eni-99',
    description: 'RDSNetworkInterface',
    kind: 'database',
  },
  {
    name: 'an ENI missing from the inventory without a description',
    id: 'eni-98',
    kind: 'network-interface',
  },
];

describe('classifyBlocker', () => {
  const enis = CASES.filter((c) => c.eni).map((c) => inventoryEni(c.id, c.eni));

  it.each(CASES)('recognises $name', (c) => {
    const raw = blocker(c.id, { description: c.description ?? '', type: 'WhateverAwsSays' });
    const classified = classifyBlocker(raw, enis);
    expect(classified.kind).toBe(c.kind);
    expect(classified.instanceId).toBe(c.instanceId);
  });

  it('reaches every blocker kind from some case', () => {
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(BLOCKER_KINDS));
  });

  it('keeps type, description and isExcludable exactly as AWS returned them', () => {
    const raw = blocker('igw-0a1b', { type: 'InternetGateway', description: 'igw', isExcludable: false });
    expect(classifyBlocker(raw, [])).toEqual({ ...raw, kind: 'internet-gateway' });
  });

  it('never derives the kind from the undocumented Type string alone', () => {
    const raw = blocker('xyz-0a1b', { type: 'InternetGateway', isExcludable: true });
    expect(classifyBlocker(raw, []).kind).toBe('other');
  });

  it('accepts the inventory as an array or as an index by id, with the same result', () => {
    const list = [inventoryEni('eni-0a', { interfaceType: 'lambda' })];
    const raw = blocker('eni-0a');
    expect(classifyBlocker(raw, indexNetworkInterfaces(list))).toEqual(classifyBlocker(raw, list));
    expect(classifyBlocker(raw, list).kind).toBe('lambda');
  });

  it('prefers a Network Firewall description over the ENI type', () => {
    const list = [
      inventoryEni('eni-0a', { interfaceType: 'lambda', description: 'Network Firewall endpoint' }),
    ];
    expect(classifyBlocker(blocker('eni-0a'), list).kind).toBe('network-firewall');
  });
});

describe('exclusionFor', () => {
  it.each([
    ['internet-gateway', 'InternetGateway'],
    ['egress-only-internet-gateway', 'EgressOnlyInternetGateway'],
    ['nat-gateway', 'NatGateway'],
    ['virtual-private-gateway', 'VirtualPrivateGateway'],
    ['vpc-peering', 'VpcPeering'],
    ['lambda', 'Lambda'],
    ['vpc-lattice', 'VpcLattice'],
    ['elastic-file-system', 'ElasticFileSystem'],
    ['global-accelerator', 'GlobalAccelerator'],
    ['api-gateway-v2', 'ApiGatewayV2'],
  ] as const)('maps %s to the %s exclusion', (kind, exclusion) => {
    expect(exclusionFor(kind)).toBe(exclusion);
    expect(kindForExclusion(exclusion)).toBe(kind);
  });

  it.each([
    'instance',
    'gateway-load-balancer',
    'network-firewall',
    'interface-endpoint',
    'database',
    'cache',
    'network-interface',
    'other',
  ] as const)('offers no exclusion for %s', (kind) => {
    expect(exclusionFor(kind)).toBeUndefined();
  });

  it('covers each of the ten exclusions with exactly one kind', () => {
    const covered = BLOCKER_KINDS.map(exclusionFor).filter((e) => e !== undefined);
    expect([...covered].sort()).toEqual([...EXCLUSION_NAMES].sort());
  });
});

describe('guidance', () => {
  it('has a sentence for every kind', () => {
    for (const kind of BLOCKER_KINDS) expect(BLOCKER_GUIDANCE[kind].length).toBeGreaterThan(20);
  });

  it('tells a person that GWLB and Network Firewall cannot be enforced while they stay in the VPC', () => {
    expect(BLOCKER_GUIDANCE['gateway-load-balancer']).toMatch(/cannot be enforced while it is in the VPC/);
    expect(BLOCKER_GUIDANCE['network-firewall']).toMatch(/keep this VPC in monitor/);
    expect(hasNoEnforcePath('gateway-load-balancer')).toBe(true);
    expect(hasNoEnforcePath('network-firewall')).toBe(true);
    expect(hasNoEnforcePath('instance')).toBe(false);
  });

  it('tells a person how to move an RDS database', () => {
    expect(BLOCKER_GUIDANCE.database).toMatch(/RDS.*capable instance class/);
  });

  it('names the blocker and the instance behind an ENI', () => {
    expect(guidanceFor({ id: 'eni-0a', kind: 'instance', instanceId: 'i-0b' })).toMatch(
      /^eni-0a \(instance i-0b\): Move the instance/,
    );
    expect(guidanceFor({ id: 'i-0b', kind: 'instance', instanceId: 'i-0b' })).toMatch(/^i-0b: Move/);
  });

  it('points a Transit Gateway attachment at TGW encryption support', () => {
    expect(guidanceFor({ id: 'tgw-attach-0a', kind: 'other' })).toMatch(/EncryptionSupport=enable/);
  });
});
