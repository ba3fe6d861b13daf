/** VPCs, subnets and tags. */
import type {
  CreateSubnetRequest,
  CreateSubnetResult,
  CreateTagsRequest,
  CreateVpcRequest,
  CreateVpcResult,
  DeleteSubnetRequest,
  DeleteTagsRequest,
  DeleteVpcRequest,
  DescribeSubnetsRequest,
  DescribeSubnetsResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  Subnet,
  Vpc,
} from '@aws-sdk/client-ec2';
import { type ActionContext, action, findIn, findVpc, tagList, tagsFromSpecifications } from '../context.ts';
import { Ec2Error, invalidParameter, required } from '../errors.ts';
import { compileFilters, type FilterSpec, matchesAll, paginate, STANDARD_BOUNDS } from '../listing.ts';
import type { ExclusionName, SubnetRecord, Tags, VpcRecord } from '../model.ts';
import { controlView } from '../views.ts';

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function checkCidr(cidr: string, min: number, max: number): void {
  const match = CIDR.exec(cidr);
  const prefix = Number(match?.[5]);
  if (!match || match.slice(1, 5).some((o) => Number(o) > 255) || prefix < min || prefix > max) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  }
}

export function vpcView(vpc: VpcRecord): Vpc {
  return {
    VpcId: vpc.id,
    OwnerId: vpc.ownerId,
    State: 'available',
    CidrBlock: vpc.cidrBlock,
    CidrBlockAssociationSet: [
      {
        AssociationId: `vpc-cidr-assoc-${vpc.id.slice(4)}`,
        CidrBlock: vpc.cidrBlock,
        CidrBlockState: { State: 'associated' },
      },
    ],
    DhcpOptionsId: 'dopt-00000000000000000',
    InstanceTenancy: vpc.instanceTenancy as Vpc['InstanceTenancy'],
    IsDefault: vpc.isDefault,
    Tags: tagList(vpc.tags),
    ...(vpc.control === undefined ? {} : { EncryptionControl: controlView(vpc.control) }),
  };
}

const VPC_FILTERS: FilterSpec<VpcRecord> = {
  fields: {
    'vpc-id': (v) => v.id,
    cidr: (v) => v.cidrBlock,
    'cidr-block-association.cidr-block': (v) => v.cidrBlock,
    'owner-id': (v) => v.ownerId,
    'is-default': (v) => String(v.isDefault),
    state: () => 'available',
  },
  tags: (v) => v.tags,
};

const EXCLUSION_INPUTS: readonly [string, ExclusionName][] = [
  ['InternetGatewayExclusion', 'InternetGateway'],
  ['EgressOnlyInternetGatewayExclusion', 'EgressOnlyInternetGateway'],
  ['NatGatewayExclusion', 'NatGateway'],
  ['VirtualPrivateGatewayExclusion', 'VirtualPrivateGateway'],
  ['VpcPeeringExclusion', 'VpcPeering'],
  ['LambdaExclusion', 'Lambda'],
  ['VpcLatticeExclusion', 'VpcLattice'],
  ['ElasticFileSystemExclusion', 'ElasticFileSystem'],
  ['GlobalAcceleratorExclusion', 'GlobalAccelerator'],
  ['ApiGatewayV2Exclusion', 'ApiGatewayV2'],
];

/** `XExclusion: enable|disable` members of a request → exclusion switches. */
export function exclusionSwitches(input: Record<string, unknown>): Partial<Record<ExclusionName, boolean>> {
  const switches: Partial<Record<ExclusionName, boolean>> = {};
  for (const [member, name] of EXCLUSION_INPUTS) {
    const value = input[member];
    if (value === undefined) {
      continue;
    }
    if (value !== 'enable' && value !== 'disable') {
      throw invalidParameter(
        `Value (${String(value)}) for parameter ${member} is invalid. Expected enable or disable.`,
      );
    }
    switches[name] = value === 'enable';
  }
  return switches;
}

export const vpcActions = {
  CreateVpc: action<CreateVpcRequest, CreateVpcResult>(true, (ctx, input) => {
    const cidrBlock = required(input.CidrBlock, 'CidrBlock');
    checkCidr(cidrBlock, 16, 28);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'vpc');
    const requested = input.VpcEncryptionControl;
    if (requested !== undefined && requested.Mode !== 'monitor' && requested.Mode !== 'enforce') {
      throw invalidParameter(
        `Value (${String(requested.Mode)}) for parameter VpcEncryptionControl.Mode is invalid.`,
      );
    }
    const exclusions =
      requested === undefined ? {} : exclusionSwitches(requested as unknown as Record<string, unknown>);
    ctx.commit();
    const vpc = ctx.resources.vpc(ctx.state, {
      cidrBlock,
      tags,
      tenancy: input.InstanceTenancy ?? 'default',
    });
    const accountMode = ctx.state.account.mode;
    const mode =
      requested?.Mode ??
      (accountMode === 'attempt-enforce'
        ? 'enforce'
        : accountMode === 'attempt-monitor'
          ? 'monitor'
          : undefined);
    if (mode !== undefined) {
      ctx.controls.create(ctx.state, vpc, { mode, tags: new Map(), fromCreateVpc: true, exclusions });
    }
    return { Vpc: vpcView(vpc) };
  }),

  DescribeVpcs: action<DescribeVpcsRequest, DescribeVpcsResult>(false, (ctx, input) => {
    const matchers = compileFilters(input.Filters, VPC_FILTERS);
    const ids = input.VpcIds;
    let candidates: VpcRecord[];
    if (ids !== undefined && ids.length > 0) {
      candidates = ids.map((id) => findVpc(ctx, id));
    } else {
      candidates = [...ctx.state.vpcs.values()];
    }
    const page = paginate(
      candidates.filter((v) => matchesAll(v, matchers)),
      input,
      STANDARD_BOUNDS,
      'DescribeVpcs',
    );
    return { Vpcs: page.items.map(vpcView), NextToken: page.nextToken };
  }),

  DeleteVpc: action<DeleteVpcRequest, object>(true, (ctx, input) => {
    const vpc = findVpc(ctx, input.VpcId);
    const contents = ctx.state.contentsOf(vpc.id);
    const liveInstances = [...contents.instances].filter(
      (id) => ctx.state.instances.get(id)?.state !== 'terminated',
    );
    if (
      contents.subnets.size > 0 ||
      liveInstances.length > 0 ||
      contents.internetGateways.size > 0 ||
      contents.egressOnlyInternetGateways.size > 0 ||
      contents.natGateways.size > 0 ||
      contents.vpnGateways.size > 0
    ) {
      throw new Ec2Error(
        'DependencyViolation',
        `The vpc '${vpc.id}' has dependencies and cannot be deleted.`,
      );
    }
    ctx.commit();
    if (vpc.control !== undefined) {
      ctx.state.controls.delete(vpc.control.id);
    }
    ctx.store.removeVpc(ctx.state, vpc.id);
    return {};
  }),

  CreateSubnet: action<CreateSubnetRequest, CreateSubnetResult>(true, (ctx, input) => {
    const vpc = findVpc(ctx, input.VpcId);
    const cidrBlock = required(input.CidrBlock, 'CidrBlock');
    checkCidr(cidrBlock, 16, 28);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'subnet');
    ctx.commit();
    const subnet = ctx.resources.subnet(ctx.state, vpc, {
      cidrBlock,
      availabilityZone: input.AvailabilityZone ?? `${ctx.region}a`,
      tags,
    });
    return { Subnet: subnetView(ctx, subnet) };
  }),

  DescribeSubnets: action<DescribeSubnetsRequest, DescribeSubnetsResult>(false, (ctx, input) => {
    const matchers = compileFilters(input.Filters, SUBNET_FILTERS);
    const candidates =
      input.SubnetIds !== undefined && input.SubnetIds.length > 0
        ? input.SubnetIds.map((id) => findIn(ctx.state.subnets, id, 'InvalidSubnetID.NotFound', 'subnet ID'))
        : [...ctx.state.subnets.values()];
    const page = paginate(
      candidates.filter((s) => matchesAll(s, matchers)),
      input,
      STANDARD_BOUNDS,
      'DescribeSubnets',
    );
    return { Subnets: page.items.map((s) => subnetView(ctx, s)), NextToken: page.nextToken };
  }),

  DeleteSubnet: action<DeleteSubnetRequest, object>(true, (ctx, input) => {
    const subnet = findIn(ctx.state.subnets, input.SubnetId, 'InvalidSubnetID.NotFound', 'subnet ID');
    const inUse = [...ctx.state.contentsOf(subnet.vpcId).networkInterfaces].some(
      (id) => ctx.state.networkInterfaces.get(id)?.subnetId === subnet.id,
    );
    if (inUse) {
      throw new Ec2Error(
        'DependencyViolation',
        `The subnet '${subnet.id}' has dependencies and cannot be deleted.`,
      );
    }
    ctx.commit();
    ctx.state.subnets.delete(subnet.id);
    ctx.state.contents.get(subnet.vpcId)?.subnets.delete(subnet.id);
    return {};
  }),

  CreateTags: action<CreateTagsRequest, object>(true, (ctx, input) => {
    const resources = required(input.Resources, 'ResourceId').map((id) => taggable(ctx, id));
    const tags = required(input.Tags, 'Tag');
    ctx.commit();
    for (const target of resources) {
      for (const tag of tags) {
        target.set(required(tag.Key, 'Tag.Key'), tag.Value ?? '');
      }
    }
    return {};
  }),

  DeleteTags: action<DeleteTagsRequest, object>(true, (ctx, input) => {
    const resources = required(input.Resources, 'ResourceId').map((id) => taggable(ctx, id));
    ctx.commit();
    for (const target of resources) {
      if (input.Tags === undefined || input.Tags.length === 0) {
        target.clear();
        continue;
      }
      for (const tag of input.Tags) {
        // A tag with a value only deletes when the value matches, as in EC2.
        if (tag.Key !== undefined && (tag.Value === undefined || target.get(tag.Key) === tag.Value)) {
          target.delete(tag.Key);
        }
      }
    }
    return {};
  }),
};

const SUBNET_FILTERS: FilterSpec<SubnetRecord> = {
  fields: {
    'subnet-id': (s) => s.id,
    'vpc-id': (s) => s.vpcId,
    'availability-zone': (s) => s.availabilityZone,
    'cidr-block': (s) => s.cidrBlock,
    state: () => 'available',
  },
  tags: (s) => s.tags,
};

function subnetView(ctx: ActionContext, subnet: SubnetRecord): Subnet {
  return {
    SubnetId: subnet.id,
    VpcId: subnet.vpcId,
    CidrBlock: subnet.cidrBlock,
    AvailabilityZone: subnet.availabilityZone,
    State: 'available',
    OwnerId: ctx.accountId,
    AvailableIpAddressCount: 251,
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    SubnetArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:subnet/${subnet.id}`,
    Tags: tagList(subnet.tags),
  };
}

/** The tag map of any taggable resource in the caller's Region, by id prefix. */
function taggable(ctx: ActionContext, id: string): Tags {
  const s = ctx.state;
  const prefix = id.slice(0, id.lastIndexOf('-'));
  const lookups: Record<string, [ReadonlyMap<string, { tags: Tags }>, string]> = {
    vpc: [s.vpcs, 'InvalidVpcID.NotFound'],
    subnet: [s.subnets, 'InvalidSubnetID.NotFound'],
    i: [s.instances, 'InvalidInstanceID.NotFound'],
    eni: [s.networkInterfaces, 'InvalidNetworkInterfaceID.NotFound'],
    igw: [s.internetGateways, 'InvalidInternetGatewayID.NotFound'],
    eigw: [s.egressOnlyInternetGateways, 'InvalidGatewayID.NotFound'],
    nat: [s.natGateways, 'NatGatewayNotFound'],
    vgw: [s.vpnGateways, 'InvalidVpnGatewayID.NotFound'],
    tgw: [s.transitGateways, 'InvalidTransitGatewayID.NotFound'],
    'tgw-attach': [s.tgwAttachments, 'InvalidTransitGatewayAttachmentID.NotFound'],
    fl: [s.flowLogs, 'InvalidFlowLogId.NotFound'],
    pcx: [ctx.store.peerings, 'InvalidVpcPeeringConnectionID.NotFound'],
  };
  if (prefix === 'vpcec') {
    const vpcId = s.controls.get(id);
    const control = vpcId === undefined ? undefined : s.vpcs.get(vpcId)?.control;
    if (control === undefined) {
      throw new Ec2Error(
        'InvalidVpcEncryptionControlId.NotFound',
        `The VPC encryption control ID '${id}' does not exist`,
      );
    }
    return control.tags;
  }
  const lookup = lookups[prefix];
  if (lookup === undefined) {
    throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  }
  const found = lookup[0].get(id);
  if (found === undefined) {
    throw new Ec2Error(lookup[1], `The ID '${id}' does not exist`);
  }
  return found.tags;
}
