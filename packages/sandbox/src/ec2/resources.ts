/**
 * Creating and removing resources while keeping the per-VPC index right. Used by the API handlers (after
 * they validated and committed), by the scenario loader and by drift injection, so all three produce the
 * same state.
 */
import { privateIp } from './context.ts';
import type {
  EgressOnlyInternetGatewayRecord,
  InstanceRecord,
  InstanceStateName,
  InternetGatewayRecord,
  NatGatewayRecord,
  NetworkInterfaceRecord,
  PeeringRecord,
  SubnetRecord,
  Tags,
  TgwAttachmentRecord,
  TgwAttachmentResourceType,
  TransitGatewayRecord,
  VpcRecord,
  VpnGatewayRecord,
} from './model.ts';
import type { Ec2Store, RegionState } from './store.ts';

export class Resources {
  private readonly store: Ec2Store;
  private readonly ipCounters = new Map<string, number>();

  constructor(store: Ec2Store) {
    this.store = store;
  }

  private nextIp(vpc: VpcRecord): string {
    const n = (this.ipCounters.get(vpc.id) ?? 0) + 1;
    this.ipCounters.set(vpc.id, n);
    return privateIp(vpc.cidrBlock, n);
  }

  vpc(
    state: RegionState,
    input: { id?: string; cidrBlock: string; tags: Tags; isDefault?: boolean; tenancy?: string },
  ): VpcRecord {
    const vpc: VpcRecord = {
      id: input.id ?? this.store.newId('vpc'),
      ownerId: state.accountId,
      cidrBlock: input.cidrBlock,
      isDefault: input.isDefault ?? false,
      instanceTenancy: input.tenancy ?? 'default',
      tags: input.tags,
    };
    this.store.addVpc(state, vpc);
    return vpc;
  }

  subnet(
    state: RegionState,
    vpc: VpcRecord,
    input: { id?: string; cidrBlock: string; availabilityZone: string; localZone?: boolean; tags: Tags },
  ): SubnetRecord {
    const subnet: SubnetRecord = {
      id: input.id ?? this.store.newId('subnet'),
      vpcId: vpc.id,
      cidrBlock: input.cidrBlock,
      availabilityZone: input.availabilityZone,
      localZone: input.localZone ?? false,
      tags: input.tags,
    };
    state.subnets.set(subnet.id, subnet);
    state.contentsOf(vpc.id).subnets.add(subnet.id);
    return subnet;
  }

  networkInterface(
    state: RegionState,
    vpc: VpcRecord,
    subnet: SubnetRecord,
    input: Omit<NetworkInterfaceRecord, 'id' | 'vpcId' | 'subnetId' | 'privateIpAddress'> & { id?: string },
  ): NetworkInterfaceRecord {
    const { id, ...rest } = input;
    const eni: NetworkInterfaceRecord = {
      ...rest,
      id: id ?? this.store.newId('eni'),
      vpcId: vpc.id,
      subnetId: subnet.id,
      privateIpAddress: this.nextIp(vpc),
    };
    state.networkInterfaces.set(eni.id, eni);
    state.contentsOf(vpc.id).networkInterfaces.add(eni.id);
    return eni;
  }

  removeNetworkInterface(state: RegionState, eniId: string): void {
    const eni = state.networkInterfaces.get(eniId);
    if (eni !== undefined) {
      state.networkInterfaces.delete(eniId);
      state.contents.get(eni.vpcId)?.networkInterfaces.delete(eniId);
    }
  }

  instance(
    state: RegionState,
    vpc: VpcRecord,
    subnet: SubnetRecord,
    input: {
      id?: string;
      eniId?: string;
      reservationId: string;
      instanceType: string;
      imageId: string;
      state: InstanceStateName;
      tags: Tags;
      launchTime: number;
      /** Default true: current AMIs ship ENA drivers. */
      enaSupport?: boolean;
    },
  ): InstanceRecord {
    const id = input.id ?? this.store.newId('i');
    const eni = this.networkInterface(state, vpc, subnet, {
      ...(input.eniId === undefined ? {} : { id: input.eniId }),
      interfaceType: 'interface',
      description: '',
      requesterManaged: false,
      instanceId: id,
      tags: new Map(),
    });
    const instance: InstanceRecord = {
      id,
      reservationId: input.reservationId,
      vpcId: vpc.id,
      subnetId: subnet.id,
      instanceType: input.instanceType,
      state: input.state,
      imageId: input.imageId,
      launchTime: input.launchTime,
      privateIpAddress: eni.privateIpAddress,
      eniId: eni.id,
      tags: input.tags,
      enaSupport: input.enaSupport ?? true,
      generation: 0,
    };
    state.instances.set(id, instance);
    state.contentsOf(vpc.id).instances.add(id);
    return instance;
  }

  /** A terminated instance stays visible (as in EC2) but loses its network interface. */
  terminated(state: RegionState, instance: InstanceRecord, at: number): void {
    instance.state = 'terminated';
    instance.terminatedAt = at;
    this.removeNetworkInterface(state, instance.eniId);
  }

  internetGateway(state: RegionState, input: { id?: string; tags: Tags }): InternetGatewayRecord {
    const igw: InternetGatewayRecord = {
      id: input.id ?? this.store.newId('igw'),
      ownerId: state.accountId,
      tags: input.tags,
    };
    state.internetGateways.set(igw.id, igw);
    return igw;
  }

  attachInternetGateway(state: RegionState, igw: InternetGatewayRecord, vpc: VpcRecord): void {
    igw.vpcId = vpc.id;
    state.contentsOf(vpc.id).internetGateways.add(igw.id);
  }

  detachInternetGateway(state: RegionState, igw: InternetGatewayRecord): void {
    if (igw.vpcId !== undefined) {
      state.contents.get(igw.vpcId)?.internetGateways.delete(igw.id);
      igw.vpcId = undefined;
    }
  }

  egressOnlyInternetGateway(
    state: RegionState,
    vpc: VpcRecord,
    input: { id?: string; tags: Tags },
  ): EgressOnlyInternetGatewayRecord {
    const eigw: EgressOnlyInternetGatewayRecord = {
      id: input.id ?? this.store.newId('eigw'),
      vpcId: vpc.id,
      tags: input.tags,
    };
    state.egressOnlyInternetGateways.set(eigw.id, eigw);
    state.contentsOf(vpc.id).egressOnlyInternetGateways.add(eigw.id);
    return eigw;
  }

  removeEgressOnlyInternetGateway(state: RegionState, eigw: EgressOnlyInternetGatewayRecord): void {
    state.egressOnlyInternetGateways.delete(eigw.id);
    if (eigw.vpcId !== undefined) {
      state.contents.get(eigw.vpcId)?.egressOnlyInternetGateways.delete(eigw.id);
    }
  }

  natGateway(
    state: RegionState,
    vpc: VpcRecord,
    subnet: SubnetRecord,
    input: {
      id?: string;
      connectivityType: 'public' | 'private';
      state: NatGatewayRecord['state'];
      tags: Tags;
      createTime: number;
    },
  ): NatGatewayRecord {
    const id = input.id ?? this.store.newId('nat');
    const eni = this.networkInterface(state, vpc, subnet, {
      interfaceType: 'nat_gateway',
      description: `Interface for NAT Gateway ${id}`,
      requesterManaged: true,
      requesterId: 'amazon-nat-gateway',
      tags: new Map(),
    });
    const nat: NatGatewayRecord = {
      id,
      vpcId: vpc.id,
      subnetId: subnet.id,
      connectivityType: input.connectivityType,
      state: input.state,
      createTime: input.createTime,
      eniId: eni.id,
      privateIpAddress: eni.privateIpAddress,
      tags: input.tags,
    };
    state.natGateways.set(id, nat);
    state.contentsOf(vpc.id).natGateways.add(id);
    return nat;
  }

  natGatewayDeleted(state: RegionState, nat: NatGatewayRecord, at: number): void {
    nat.state = 'deleted';
    nat.deleteTime = at;
    state.contents.get(nat.vpcId)?.natGateways.delete(nat.id);
    this.removeNetworkInterface(state, nat.eniId);
  }

  vpnGateway(
    state: RegionState,
    input: { id?: string; amazonSideAsn?: number; tags: Tags },
  ): VpnGatewayRecord {
    const vgw: VpnGatewayRecord = {
      id: input.id ?? this.store.newId('vgw'),
      type: 'ipsec.1',
      state: 'available',
      amazonSideAsn: input.amazonSideAsn ?? 64512,
      tags: input.tags,
    };
    state.vpnGateways.set(vgw.id, vgw);
    return vgw;
  }

  attachVpnGateway(
    state: RegionState,
    vgw: VpnGatewayRecord,
    vpc: VpcRecord,
    attachment: 'attaching' | 'attached',
  ): void {
    vgw.vpcId = vpc.id;
    vgw.attachmentState = attachment;
    state.contentsOf(vpc.id).vpnGateways.add(vgw.id);
  }

  detachVpnGateway(state: RegionState, vgw: VpnGatewayRecord): void {
    if (vgw.vpcId !== undefined) {
      state.contents.get(vgw.vpcId)?.vpnGateways.delete(vgw.id);
    }
    vgw.attachmentState = 'detached';
  }

  peering(
    requester: VpcRecord,
    requesterState: RegionState,
    accepter: VpcRecord,
    accepterState: RegionState,
    input: {
      id?: string;
      status: PeeringRecord['status'];
      tags: Tags;
      expirationTime: number;
    },
  ): PeeringRecord {
    const peering: PeeringRecord = {
      id: input.id ?? this.store.newId('pcx'),
      requester: {
        vpcId: requester.id,
        ownerId: requesterState.accountId,
        region: requesterState.region,
        cidrBlock: requester.cidrBlock,
      },
      accepter: {
        vpcId: accepter.id,
        ownerId: accepterState.accountId,
        region: accepterState.region,
        cidrBlock: accepter.cidrBlock,
      },
      status: input.status,
      tags: input.tags,
      expirationTime: input.expirationTime,
    };
    this.store.peerings.set(peering.id, peering);
    requesterState.contentsOf(requester.id).peerings.add(peering.id);
    accepterState.contentsOf(accepter.id).peerings.add(peering.id);
    return peering;
  }

  peeringDeleted(peering: PeeringRecord): void {
    peering.status = 'deleted';
    for (const side of [peering.requester, peering.accepter]) {
      this.store.homeOf(side.vpcId)?.contents.get(side.vpcId)?.peerings.delete(peering.id);
    }
  }

  transitGateway(
    state: RegionState,
    input: Partial<Omit<TransitGatewayRecord, 'id' | 'ownerId' | 'tags' | 'generation'>> & {
      id?: string;
      tags: Tags;
      creationTime: number;
    },
  ): TransitGatewayRecord {
    const tgw: TransitGatewayRecord = {
      id: input.id ?? this.store.newId('tgw'),
      ownerId: state.accountId,
      state: input.state ?? 'available',
      description: input.description ?? '',
      creationTime: input.creationTime,
      amazonSideAsn: input.amazonSideAsn ?? 64512,
      securityGroupReferencingSupport: input.securityGroupReferencingSupport ?? 'disable',
      multicastSupport: input.multicastSupport ?? 'disable',
      dnsSupport: input.dnsSupport ?? 'enable',
      vpnEcmpSupport: input.vpnEcmpSupport ?? 'enable',
      encryption: input.encryption ?? { state: 'disabled' },
      generation: 0,
      tags: input.tags,
    };
    state.transitGateways.set(tgw.id, tgw);
    return tgw;
  }

  tgwAttachment(
    state: RegionState,
    input: {
      id?: string;
      transitGatewayId: string;
      resourceType: TgwAttachmentResourceType;
      resourceId: string;
      vpcId?: string;
      subnetIds?: readonly string[];
      state: TgwAttachmentRecord['state'];
      creationTime: number;
      tags: Tags;
    },
  ): TgwAttachmentRecord {
    const attachment: TgwAttachmentRecord = {
      id: input.id ?? this.store.newId('tgw-attach'),
      transitGatewayId: input.transitGatewayId,
      resourceType: input.resourceType,
      resourceId: input.resourceId,
      ...(input.vpcId === undefined ? {} : { vpcId: input.vpcId }),
      subnetIds: input.subnetIds ?? [],
      state: input.state,
      creationTime: input.creationTime,
      tags: input.tags,
    };
    state.tgwAttachments.set(attachment.id, attachment);
    if (input.vpcId !== undefined) {
      state.contentsOf(input.vpcId).tgwAttachments.add(attachment.id);
    }
    return attachment;
  }
}
