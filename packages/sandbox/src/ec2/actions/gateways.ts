/** Internet, egress-only, NAT and virtual private gateways, and VPC peering. */
import type {
  AcceptVpcPeeringConnectionRequest,
  AcceptVpcPeeringConnectionResult,
  AttachInternetGatewayRequest,
  AttachmentStatus,
  AttachVpnGatewayRequest,
  AttachVpnGatewayResult,
  CreateEgressOnlyInternetGatewayRequest,
  CreateEgressOnlyInternetGatewayResult,
  CreateInternetGatewayRequest,
  CreateInternetGatewayResult,
  CreateNatGatewayRequest,
  CreateNatGatewayResult,
  CreateVpcPeeringConnectionRequest,
  CreateVpcPeeringConnectionResult,
  CreateVpnGatewayRequest,
  CreateVpnGatewayResult,
  DeleteEgressOnlyInternetGatewayRequest,
  DeleteEgressOnlyInternetGatewayResult,
  DeleteInternetGatewayRequest,
  DeleteNatGatewayRequest,
  DeleteNatGatewayResult,
  DeleteVpcPeeringConnectionRequest,
  DeleteVpcPeeringConnectionResult,
  DeleteVpnGatewayRequest,
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult,
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult,
  DescribeNatGatewaysRequest,
  DescribeNatGatewaysResult,
  DescribeVpcPeeringConnectionsRequest,
  DescribeVpcPeeringConnectionsResult,
  DescribeVpnGatewaysRequest,
  DescribeVpnGatewaysResult,
  DetachInternetGatewayRequest,
  DetachVpnGatewayRequest,
  EgressOnlyInternetGateway,
  InternetGateway,
  NatGateway,
  VpcPeeringConnection,
  VpnGateway,
} from '@aws-sdk/client-ec2';
import { type ActionContext, action, findIn, findVpc, tagList, tagsFromSpecifications } from '../context.ts';
import { requireExclusionIfEnforced } from '../encryption.ts';
import { Ec2Error, required } from '../errors.ts';
import { type FilterSpec, paginate, STANDARD_BOUNDS, selectResources } from '../listing.ts';
import type {
  EgressOnlyInternetGatewayRecord,
  InternetGatewayRecord,
  NatGatewayRecord,
  PeeringRecord,
  VpnGatewayRecord,
} from '../model.ts';

const PEERING_EXPIRY_MS = 7 * 24 * 3_600_000;

function igwView(igw: InternetGatewayRecord): InternetGateway {
  return {
    InternetGatewayId: igw.id,
    OwnerId: igw.ownerId,
    // EC2 reports an attached internet gateway as `available`, a value the SDK's AttachmentStatus type lacks.
    Attachments:
      igw.vpcId === undefined ? [] : [{ State: 'available' as string as AttachmentStatus, VpcId: igw.vpcId }],
    Tags: tagList(igw.tags),
  };
}

function eigwView(eigw: EgressOnlyInternetGatewayRecord): EgressOnlyInternetGateway {
  return {
    EgressOnlyInternetGatewayId: eigw.id,
    Attachments: eigw.vpcId === undefined ? [] : [{ State: 'attached', VpcId: eigw.vpcId }],
    Tags: tagList(eigw.tags),
  };
}

function natView(nat: NatGatewayRecord): NatGateway {
  return {
    NatGatewayId: nat.id,
    VpcId: nat.vpcId,
    SubnetId: nat.subnetId,
    State: nat.state,
    ConnectivityType: nat.connectivityType,
    CreateTime: new Date(nat.createTime),
    ...(nat.deleteTime === undefined ? {} : { DeleteTime: new Date(nat.deleteTime) }),
    NatGatewayAddresses: [
      { NetworkInterfaceId: nat.eniId, PrivateIp: nat.privateIpAddress, IsPrimary: true },
    ],
    Tags: tagList(nat.tags),
  };
}

function vgwView(vgw: VpnGatewayRecord): VpnGateway {
  return {
    VpnGatewayId: vgw.id,
    State: vgw.state,
    Type: 'ipsec.1',
    AmazonSideAsn: vgw.amazonSideAsn,
    VpcAttachments:
      vgw.vpcId === undefined || vgw.attachmentState === undefined
        ? []
        : [{ VpcId: vgw.vpcId, State: vgw.attachmentState }],
    Tags: tagList(vgw.tags),
  };
}

function peeringView(peering: PeeringRecord): VpcPeeringConnection {
  const side = (s: PeeringRecord['requester']) => ({
    VpcId: s.vpcId,
    OwnerId: s.ownerId,
    Region: s.region,
    CidrBlock: s.cidrBlock,
  });
  const messages: Record<PeeringRecord['status'], string> = {
    'pending-acceptance': `Pending Acceptance by ${peering.accepter.ownerId}`,
    active: 'Active',
    deleted: 'Deleted',
    rejected: 'Rejected',
    provisioning: 'Provisioning',
  };
  return {
    VpcPeeringConnectionId: peering.id,
    RequesterVpcInfo: side(peering.requester),
    AccepterVpcInfo: side(peering.accepter),
    Status: { Code: peering.status, Message: messages[peering.status] },
    ...(peering.status === 'pending-acceptance' ? { ExpirationTime: new Date(peering.expirationTime) } : {}),
    Tags: tagList(peering.tags),
  };
}

const IGW_FILTERS: FilterSpec<InternetGatewayRecord> = {
  fields: {
    'internet-gateway-id': (g) => g.id,
    'attachment.vpc-id': (g) => g.vpcId,
    'attachment.state': (g) => (g.vpcId === undefined ? undefined : 'available'),
    'owner-id': (g) => g.ownerId,
  },
  tags: (g) => g.tags,
};

const EIGW_FILTERS: FilterSpec<EgressOnlyInternetGatewayRecord> = {
  fields: { 'egress-only-internet-gateway-id': (g) => g.id, 'attachment.vpc-id': (g) => g.vpcId },
  tags: (g) => g.tags,
};

const NAT_FILTERS: FilterSpec<NatGatewayRecord> = {
  fields: {
    'nat-gateway-id': (n) => n.id,
    'vpc-id': (n) => n.vpcId,
    'subnet-id': (n) => n.subnetId,
    state: (n) => n.state,
  },
  tags: (n) => n.tags,
};

const VGW_FILTERS: FilterSpec<VpnGatewayRecord> = {
  fields: {
    'vpn-gateway-id': (g) => g.id,
    'attachment.vpc-id': (g) => g.vpcId,
    'attachment.state': (g) => g.attachmentState,
    state: (g) => g.state,
    type: (g) => g.type,
  },
  tags: (g) => g.tags,
};

const PEERING_FILTERS: FilterSpec<PeeringRecord> = {
  fields: {
    'vpc-peering-connection-id': (p) => p.id,
    'requester-vpc-info.vpc-id': (p) => p.requester.vpcId,
    'requester-vpc-info.owner-id': (p) => p.requester.ownerId,
    'accepter-vpc-info.vpc-id': (p) => p.accepter.vpcId,
    'accepter-vpc-info.owner-id': (p) => p.accepter.ownerId,
    'status-code': (p) => p.status,
  },
  tags: (p) => p.tags,
};

function findIgw(ctx: ActionContext, id: string | undefined): InternetGatewayRecord {
  return findIn(ctx.state.internetGateways, id, 'InvalidInternetGatewayID.NotFound', 'internet gateway ID');
}

function findVgw(ctx: ActionContext, id: string | undefined): VpnGatewayRecord {
  return findIn(ctx.state.vpnGateways, id, 'InvalidVpnGatewayID.NotFound', 'VPN gateway ID');
}

/** A peering the caller can see: its account owns one side in the addressed Region. */
function visiblePeering(ctx: ActionContext, peering: PeeringRecord): boolean {
  return [peering.requester, peering.accepter].some(
    (s) => s.ownerId === ctx.accountId && s.region === ctx.region,
  );
}

function findPeering(ctx: ActionContext, id: string | undefined): PeeringRecord {
  const peering = findIn(
    ctx.store.peerings,
    id,
    'InvalidVpcPeeringConnectionID.NotFound',
    'VPC peering connection ID',
  );
  if (!visiblePeering(ctx, peering)) {
    throw new Ec2Error(
      'InvalidVpcPeeringConnectionID.NotFound',
      `The VPC peering connection ID '${id}' does not exist`,
    );
  }
  return peering;
}

export const gatewayActions = {
  CreateInternetGateway: action<CreateInternetGatewayRequest, CreateInternetGatewayResult>(
    true,
    (ctx, input) => {
      const tags = tagsFromSpecifications(input.TagSpecifications, 'internet-gateway');
      ctx.commit();
      return { InternetGateway: igwView(ctx.resources.internetGateway(ctx.state, { tags })) };
    },
  ),

  AttachInternetGateway: action<AttachInternetGatewayRequest, object>(true, (ctx, input) => {
    const igw = findIgw(ctx, input.InternetGatewayId);
    const vpc = findVpc(ctx, input.VpcId);
    if (igw.vpcId !== undefined) {
      throw new Ec2Error(
        'Resource.AlreadyAssociated',
        `resource ${igw.id} is already attached to network ${igw.vpcId}`,
      );
    }
    if (ctx.state.contentsOf(vpc.id).internetGateways.size > 0) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Network ${vpc.id} already has an internet gateway attached`,
      );
    }
    requireExclusionIfEnforced(vpc, 'InternetGateway', `Internet gateway ${igw.id}`);
    ctx.commit();
    ctx.resources.attachInternetGateway(ctx.state, igw, vpc);
    return {};
  }),

  DetachInternetGateway: action<DetachInternetGatewayRequest, object>(true, (ctx, input) => {
    const igw = findIgw(ctx, input.InternetGatewayId);
    const vpc = findVpc(ctx, input.VpcId);
    if (igw.vpcId !== vpc.id) {
      throw new Ec2Error('Gateway.NotAttached', `resource ${igw.id} is not attached to network ${vpc.id}`);
    }
    ctx.commit();
    ctx.resources.detachInternetGateway(ctx.state, igw);
    return {};
  }),

  DescribeInternetGateways: action<DescribeInternetGatewaysRequest, DescribeInternetGatewaysResult>(
    false,
    (ctx, input) => {
      const items = selectResources({
        ids: input.InternetGatewayIds,
        find: (id) => findIgw(ctx, id),
        all: () => ctx.state.internetGateways.values(),
        filters: input.Filters,
        spec: IGW_FILTERS,
      });
      const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeInternetGateways');
      return { InternetGateways: page.items.map(igwView), NextToken: page.nextToken };
    },
  ),

  DeleteInternetGateway: action<DeleteInternetGatewayRequest, object>(true, (ctx, input) => {
    const igw = findIgw(ctx, input.InternetGatewayId);
    if (igw.vpcId !== undefined) {
      throw new Ec2Error(
        'DependencyViolation',
        `The internetGateway '${igw.id}' has dependencies and cannot be deleted.`,
      );
    }
    ctx.commit();
    ctx.state.internetGateways.delete(igw.id);
    return {};
  }),

  CreateEgressOnlyInternetGateway: action<
    CreateEgressOnlyInternetGatewayRequest,
    CreateEgressOnlyInternetGatewayResult
  >(true, (ctx, input) => {
    const vpc = findVpc(ctx, input.VpcId);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'egress-only-internet-gateway');
    requireExclusionIfEnforced(vpc, 'EgressOnlyInternetGateway', 'An egress-only internet gateway');
    ctx.commit();
    const eigw = ctx.resources.egressOnlyInternetGateway(ctx.state, vpc, { tags });
    return { EgressOnlyInternetGateway: eigwView(eigw), ClientToken: input.ClientToken };
  }),

  DescribeEgressOnlyInternetGateways: action<
    DescribeEgressOnlyInternetGatewaysRequest,
    DescribeEgressOnlyInternetGatewaysResult
  >(false, (ctx, input) => {
    const items = selectResources({
      ids: input.EgressOnlyInternetGatewayIds,
      find: (id) =>
        findIn(ctx.state.egressOnlyInternetGateways, id, 'InvalidGatewayID.NotFound', 'gateway ID'),
      all: () => ctx.state.egressOnlyInternetGateways.values(),
      filters: input.Filters,
      spec: EIGW_FILTERS,
    });
    const page = paginate(items, input, { min: 5, max: 255 }, 'DescribeEgressOnlyInternetGateways');
    return { EgressOnlyInternetGateways: page.items.map(eigwView), NextToken: page.nextToken };
  }),

  DeleteEgressOnlyInternetGateway: action<
    DeleteEgressOnlyInternetGatewayRequest,
    DeleteEgressOnlyInternetGatewayResult
  >(true, (ctx, input) => {
    const eigw = findIn(
      ctx.state.egressOnlyInternetGateways,
      input.EgressOnlyInternetGatewayId,
      'InvalidGatewayID.NotFound',
      'gateway ID',
    );
    ctx.commit();
    ctx.resources.removeEgressOnlyInternetGateway(ctx.state, eigw);
    return { ReturnCode: true };
  }),

  CreateNatGateway: action<CreateNatGatewayRequest, CreateNatGatewayResult>(true, (ctx, input) => {
    const subnet = findIn(
      ctx.state.subnets,
      required(input.SubnetId, 'SubnetId'),
      'InvalidSubnetID.NotFound',
      'subnet ID',
    );
    const vpc = findVpc(ctx, subnet.vpcId);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'natgateway');
    requireExclusionIfEnforced(vpc, 'NatGateway', 'A NAT gateway');
    ctx.commit();
    const nat = ctx.resources.natGateway(ctx.state, vpc, subnet, {
      connectivityType: input.ConnectivityType === 'private' ? 'private' : 'public',
      state: 'pending',
      tags,
      createTime: ctx.now,
    });
    ctx.store.schedule(ctx.now + ctx.store.durations.natGatewayMs, () => {
      if (nat.state === 'pending') {
        nat.state = 'available';
      }
    });
    return { NatGateway: natView(nat), ClientToken: input.ClientToken };
  }),

  DescribeNatGateways: action<DescribeNatGatewaysRequest, DescribeNatGatewaysResult>(false, (ctx, input) => {
    const items = selectResources({
      ids: input.NatGatewayIds,
      find: (id) => findIn(ctx.state.natGateways, id, 'NatGatewayNotFound', 'NAT gateway'),
      all: () => ctx.state.natGateways.values(),
      filters: input.Filter,
      spec: NAT_FILTERS,
    });
    const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeNatGateways');
    return { NatGateways: page.items.map(natView), NextToken: page.nextToken };
  }),

  DeleteNatGateway: action<DeleteNatGatewayRequest, DeleteNatGatewayResult>(true, (ctx, input) => {
    const nat = findIn(ctx.state.natGateways, input.NatGatewayId, 'NatGatewayNotFound', 'NAT gateway');
    ctx.commit();
    if (nat.state !== 'deleted' && nat.state !== 'deleting') {
      nat.state = 'deleting';
      ctx.store.schedule(ctx.now + ctx.store.durations.natGatewayMs, (at) =>
        ctx.resources.natGatewayDeleted(ctx.state, nat, at),
      );
    }
    return { NatGatewayId: nat.id };
  }),

  CreateVpnGateway: action<CreateVpnGatewayRequest, CreateVpnGatewayResult>(true, (ctx, input) => {
    if (required(input.Type, 'Type') !== 'ipsec.1') {
      throw new Ec2Error('InvalidParameterValue', `Invalid value '${input.Type}' for Type.`);
    }
    const tags = tagsFromSpecifications(input.TagSpecifications, 'vpn-gateway');
    ctx.commit();
    const vgw = ctx.resources.vpnGateway(ctx.state, {
      tags,
      ...(input.AmazonSideAsn === undefined ? {} : { amazonSideAsn: input.AmazonSideAsn }),
    });
    return { VpnGateway: vgwView(vgw) };
  }),

  AttachVpnGateway: action<AttachVpnGatewayRequest, AttachVpnGatewayResult>(true, (ctx, input) => {
    const vgw = findVgw(ctx, input.VpnGatewayId);
    const vpc = findVpc(ctx, input.VpcId);
    if (vgw.vpcId !== undefined && vgw.attachmentState !== 'detached') {
      throw new Ec2Error(
        'VpnGatewayAttachmentLimitExceeded',
        `The VPN gateway ${vgw.id} is already attached to ${vgw.vpcId}`,
      );
    }
    requireExclusionIfEnforced(vpc, 'VirtualPrivateGateway', `Virtual private gateway ${vgw.id}`);
    ctx.commit();
    ctx.resources.attachVpnGateway(ctx.state, vgw, vpc, 'attaching');
    ctx.store.schedule(ctx.now + ctx.store.durations.vpnGatewayMs, () => {
      if (vgw.attachmentState === 'attaching') {
        vgw.attachmentState = 'attached';
      }
    });
    return { VpcAttachment: { VpcId: vpc.id, State: 'attaching' } };
  }),

  DetachVpnGateway: action<DetachVpnGatewayRequest, object>(true, (ctx, input) => {
    const vgw = findVgw(ctx, input.VpnGatewayId);
    const vpc = findVpc(ctx, input.VpcId);
    if (vgw.vpcId !== vpc.id || vgw.attachmentState === 'detached') {
      throw new Ec2Error(
        'InvalidVpnGatewayAttachment.NotFound',
        `The attachment with VPN gateway ${vgw.id} and VPC ${vpc.id} does not exist`,
      );
    }
    ctx.commit();
    ctx.resources.detachVpnGateway(ctx.state, vgw);
    return {};
  }),

  DescribeVpnGateways: action<DescribeVpnGatewaysRequest, DescribeVpnGatewaysResult>(false, (ctx, input) => {
    const items = selectResources({
      ids: input.VpnGatewayIds,
      find: (id) => findVgw(ctx, id),
      all: () => ctx.state.vpnGateways.values(),
      filters: input.Filters,
      spec: VGW_FILTERS,
    });
    return { VpnGateways: items.map(vgwView) };
  }),

  DeleteVpnGateway: action<DeleteVpnGatewayRequest, object>(true, (ctx, input) => {
    const vgw = findVgw(ctx, input.VpnGatewayId);
    if (vgw.vpcId !== undefined && vgw.attachmentState !== 'detached') {
      throw new Ec2Error(
        'IncorrectState',
        `The VPN gateway ${vgw.id} is attached to ${vgw.vpcId}; detach it first`,
      );
    }
    ctx.commit();
    vgw.state = 'deleted';
    ctx.state.vpnGateways.delete(vgw.id);
    return {};
  }),

  CreateVpcPeeringConnection: action<CreateVpcPeeringConnectionRequest, CreateVpcPeeringConnectionResult>(
    true,
    (ctx, input) => {
      const vpc = findVpc(ctx, input.VpcId);
      const peerVpcId = required(input.PeerVpcId, 'PeerVpcId');
      const peerOwner = input.PeerOwnerId ?? ctx.accountId;
      const peerRegion = input.PeerRegion ?? ctx.region;
      const peerState = ctx.store.homeOf(peerVpcId);
      const peerVpc = peerState?.vpcs.get(peerVpcId);
      if (
        peerState === undefined ||
        peerVpc === undefined ||
        peerState.accountId !== peerOwner ||
        peerState.region !== peerRegion
      ) {
        throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${peerVpcId}' does not exist`);
      }
      if (peerVpc.id === vpc.id) {
        throw new Ec2Error('InvalidParameterValue', 'A VPC cannot be peered with itself');
      }
      requireExclusionIfEnforced(vpc, 'VpcPeering', 'A VPC peering connection');
      const tags = tagsFromSpecifications(input.TagSpecifications, 'vpc-peering-connection');
      ctx.commit();
      const peering = ctx.resources.peering(vpc, ctx.state, peerVpc, peerState, {
        status: 'pending-acceptance',
        tags,
        expirationTime: ctx.now + PEERING_EXPIRY_MS,
      });
      return { VpcPeeringConnection: peeringView(peering) };
    },
  ),

  AcceptVpcPeeringConnection: action<AcceptVpcPeeringConnectionRequest, AcceptVpcPeeringConnectionResult>(
    true,
    (ctx, input) => {
      const peering = findPeering(ctx, input.VpcPeeringConnectionId);
      if (peering.accepter.ownerId !== ctx.accountId || peering.accepter.region !== ctx.region) {
        throw new Ec2Error(
          'OperationNotPermitted',
          `User ${ctx.accountId} cannot accept peering ${peering.id}`,
        );
      }
      if (peering.status !== 'pending-acceptance') {
        throw new Ec2Error(
          'InvalidStateTransition',
          `Invalid state transition for pcx ${peering.id}, attempted to transition from ${peering.status} to active`,
        );
      }
      const accepterVpc = ctx.state.vpcs.get(peering.accepter.vpcId);
      if (accepterVpc !== undefined) {
        requireExclusionIfEnforced(accepterVpc, 'VpcPeering', 'A VPC peering connection');
      }
      ctx.commit();
      peering.status = 'active';
      return { VpcPeeringConnection: peeringView(peering) };
    },
  ),

  DescribeVpcPeeringConnections: action<
    DescribeVpcPeeringConnectionsRequest,
    DescribeVpcPeeringConnectionsResult
  >(false, (ctx, input) => {
    const items = selectResources({
      ids: input.VpcPeeringConnectionIds,
      find: (id) => findPeering(ctx, id),
      all: () => [...ctx.store.peerings.values()].filter((p) => visiblePeering(ctx, p)),
      filters: input.Filters,
      spec: PEERING_FILTERS,
    });
    const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeVpcPeeringConnections');
    return { VpcPeeringConnections: page.items.map(peeringView), NextToken: page.nextToken };
  }),

  DeleteVpcPeeringConnection: action<DeleteVpcPeeringConnectionRequest, DeleteVpcPeeringConnectionResult>(
    true,
    (ctx, input) => {
      const peering = findPeering(ctx, input.VpcPeeringConnectionId);
      ctx.commit();
      ctx.resources.peeringDeleted(peering);
      return { Return: true };
    },
  ),
};
