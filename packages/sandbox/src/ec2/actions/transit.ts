/** Transit gateways (with encryption support), their attachments, and flow logs. */
import type {
  CreateFlowLogsRequest,
  CreateFlowLogsResult,
  CreateTransitGatewayRequest,
  CreateTransitGatewayResult,
  CreateTransitGatewayVpcAttachmentRequest,
  CreateTransitGatewayVpcAttachmentResult,
  DeleteFlowLogsRequest,
  DeleteFlowLogsResult,
  DeleteTransitGatewayRequest,
  DeleteTransitGatewayResult,
  DeleteTransitGatewayVpcAttachmentRequest,
  DeleteTransitGatewayVpcAttachmentResult,
  DescribeFlowLogsRequest,
  DescribeFlowLogsResult,
  DescribeTransitGatewayAttachmentsRequest,
  DescribeTransitGatewayAttachmentsResult,
  DescribeTransitGatewaysRequest,
  DescribeTransitGatewaysResult,
  DescribeTransitGatewayVpcAttachmentsRequest,
  DescribeTransitGatewayVpcAttachmentsResult,
  FlowLog,
  ModifyTransitGatewayRequest,
  ModifyTransitGatewayResult,
  TransitGateway,
  TransitGatewayAttachment,
  TransitGatewayVpcAttachment,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { type ActionContext, action, findIn, findVpc, tagList, tagsFromSpecifications } from '../context.ts';
import { Ec2Error, incorrectState, invalidParameter, required } from '../errors.ts';
import { type FilterSpec, type Page, paginate, STANDARD_BOUNDS, selectResources } from '../listing.ts';
import type { FlowLogRecord, TgwAttachmentRecord, TransitGatewayRecord } from '../model.ts';

function tgwView(ctx: ActionContext, tgw: TransitGatewayRecord): TransitGateway {
  return {
    TransitGatewayId: tgw.id,
    TransitGatewayArn: `arn:aws:ec2:${ctx.region}:${tgw.ownerId}:transit-gateway/${tgw.id}`,
    State: tgw.state,
    OwnerId: tgw.ownerId,
    Description: tgw.description,
    CreationTime: new Date(tgw.creationTime),
    Options: {
      AmazonSideAsn: tgw.amazonSideAsn,
      AutoAcceptSharedAttachments: 'disable',
      DefaultRouteTableAssociation: 'enable',
      DefaultRouteTablePropagation: 'enable',
      VpnEcmpSupport: tgw.vpnEcmpSupport,
      DnsSupport: tgw.dnsSupport,
      SecurityGroupReferencingSupport: tgw.securityGroupReferencingSupport,
      MulticastSupport: tgw.multicastSupport,
      EncryptionSupport: {
        EncryptionState: tgw.encryption.state,
        ...(tgw.encryption.stateMessage === undefined ? {} : { StateMessage: tgw.encryption.stateMessage }),
      },
    },
    Tags: tagList(tgw.tags),
  };
}

function vpcAttachmentView(ctx: ActionContext, a: TgwAttachmentRecord): TransitGatewayVpcAttachment {
  return {
    TransitGatewayAttachmentId: a.id,
    TransitGatewayId: a.transitGatewayId,
    VpcId: a.vpcId,
    VpcOwnerId: ctx.accountId,
    State: a.state,
    SubnetIds: [...a.subnetIds],
    CreationTime: new Date(a.creationTime),
    Tags: tagList(a.tags),
  };
}

function attachmentView(ctx: ActionContext, a: TgwAttachmentRecord): TransitGatewayAttachment {
  return {
    TransitGatewayAttachmentId: a.id,
    TransitGatewayId: a.transitGatewayId,
    TransitGatewayOwnerId: ctx.accountId,
    ResourceOwnerId: ctx.accountId,
    ResourceType: a.resourceType,
    ResourceId: a.resourceId,
    State: a.state,
    CreationTime: new Date(a.creationTime),
    Tags: tagList(a.tags),
  };
}

const TGW_FILTERS: FilterSpec<TransitGatewayRecord> = {
  fields: {
    'transit-gateway-id': (t) => t.id,
    state: (t) => t.state,
    'owner-id': (t) => t.ownerId,
    'options.encryption-support.encryption-state': (t) => t.encryption.state,
  },
  tags: (t) => t.tags,
};

const ATTACHMENT_FILTERS: FilterSpec<TgwAttachmentRecord> = {
  fields: {
    'transit-gateway-attachment-id': (a) => a.id,
    'transit-gateway-id': (a) => a.transitGatewayId,
    'vpc-id': (a) => a.vpcId,
    'resource-type': (a) => a.resourceType,
    'resource-id': (a) => a.resourceId,
    state: (a) => a.state,
  },
  tags: (a) => a.tags,
};

/** Attachment types that forbid TGW encryption support (Encryption Support for AWS Transit Gateway). */
const ENCRYPTION_INCOMPATIBLE_ATTACHMENTS = new Set([
  'connect',
  'peering',
  'tgw-peering',
  'network-function',
  'vpn-concentrator',
]);

function findTgw(ctx: ActionContext, id: string | undefined): TransitGatewayRecord {
  return findIn(ctx.state.transitGateways, id, 'InvalidTransitGatewayID.NotFound', 'transit gateway ID');
}

function findAttachment(ctx: ActionContext, id: string | undefined): TgwAttachmentRecord {
  return findIn(
    ctx.state.tgwAttachments,
    id,
    'InvalidTransitGatewayAttachmentID.NotFound',
    'transit gateway attachment ID',
  );
}

/** One page of the attachments a Describe…Attachments call asks for: by id, or those of `all`, then filtered. */
function attachmentPage(
  ctx: ActionContext,
  input: DescribeTransitGatewayAttachmentsRequest | DescribeTransitGatewayVpcAttachmentsRequest,
  all: () => Iterable<TgwAttachmentRecord>,
  action: string,
): Page<TgwAttachmentRecord> {
  const items = selectResources({
    ids: input.TransitGatewayAttachmentIds,
    find: (id) => findAttachment(ctx, id),
    all,
    filters: input.Filters,
    spec: ATTACHMENT_FILTERS,
  });
  return paginate(items, input, STANDARD_BOUNDS, action);
}

function liveAttachments(ctx: ActionContext, tgwId: string): TgwAttachmentRecord[] {
  return [...ctx.state.tgwAttachments.values()].filter(
    (a) => a.transitGatewayId === tgwId && a.state !== 'deleted',
  );
}

/** The documented preconditions of `EncryptionSupport=enable`; empty when they hold. */
export function encryptionPreconditionViolations(
  ctx: ActionContext,
  tgw: TransitGatewayRecord,
  after: { sgReferencing: string; multicast: string },
): string[] {
  const violations: string[] = [];
  if (after.sgReferencing === 'enable') {
    violations.push('security group referencing support is enabled');
  }
  if (after.multicast === 'enable') {
    violations.push('multicast support is enabled');
  }
  for (const attachment of liveAttachments(ctx, tgw.id)) {
    if (ENCRYPTION_INCOMPATIBLE_ATTACHMENTS.has(attachment.resourceType)) {
      violations.push(`attachment ${attachment.id} is of type ${attachment.resourceType}`);
    }
  }
  return violations;
}

/** The version-2 fields: the default format, in AWS's order. */
const VERSION_2_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/** Flow log fields (versions 2–8 and `encryption-status`), https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html */
const FLOW_LOG_FIELDS = new Set([
  ...VERSION_2_FIELDS,
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
  'reject-reason',
  'resource-id',
  'encryption-status',
]);

/** The default (version 2) format, written as AWS writes it: `${version} ${account-id} …`. */
export const DEFAULT_FLOW_LOG_FORMAT = VERSION_2_FIELDS.map((field) => `$\{${field}}`).join(' ');

export function checkLogFormat(format: string): void {
  const fields = [...format.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? '');
  const unknown = fields.filter((f) => !FLOW_LOG_FIELDS.has(f));
  if (fields.length === 0 || unknown.length > 0) {
    throw new Ec2Error(
      'InvalidParameter',
      `Unknown fields provided: ${unknown.join(', ') || '(none given)'}`,
    );
  }
}

function flowLogView(flowLog: FlowLogRecord): FlowLog {
  return {
    FlowLogId: flowLog.id,
    ResourceId: flowLog.resourceId,
    TrafficType: flowLog.trafficType as FlowLog['TrafficType'],
    LogDestinationType: flowLog.logDestinationType as FlowLog['LogDestinationType'],
    ...(flowLog.logDestination === undefined ? {} : { LogDestination: flowLog.logDestination }),
    ...(flowLog.logGroupName === undefined ? {} : { LogGroupName: flowLog.logGroupName }),
    LogFormat: flowLog.logFormat,
    MaxAggregationInterval: flowLog.maxAggregationInterval,
    CreationTime: new Date(flowLog.creationTime),
    DeliverLogsStatus: 'SUCCESS',
    FlowLogStatus: 'ACTIVE',
    Tags: tagList(flowLog.tags),
  };
}

const FLOW_LOG_FILTERS: FilterSpec<FlowLogRecord> = {
  fields: {
    'flow-log-id': (f) => f.id,
    'resource-id': (f) => f.resourceId,
    'log-destination-type': (f) => f.logDestinationType,
    'traffic-type': (f) => f.trafficType,
    'deliver-log-status': () => 'SUCCESS',
    'log-group-name': (f) => f.logGroupName,
  },
  tags: (f) => f.tags,
};

function resourceExists(ctx: ActionContext, resourceType: string, id: string): boolean {
  switch (resourceType) {
    case 'VPC':
      return ctx.state.vpcs.has(id);
    case 'Subnet':
      return ctx.state.subnets.has(id);
    case 'NetworkInterface':
      return ctx.state.networkInterfaces.has(id);
    case 'TransitGateway':
      return ctx.state.transitGateways.has(id);
    case 'TransitGatewayAttachment':
      return ctx.state.tgwAttachments.has(id);
    default:
      return false;
  }
}

export const transitActions = {
  CreateTransitGateway: action<CreateTransitGatewayRequest, CreateTransitGatewayResult>(
    true,
    (ctx, input) => {
      const tags = tagsFromSpecifications(input.TagSpecifications, 'transit-gateway');
      const options = input.Options ?? {};
      ctx.commit();
      const tgw = ctx.resources.transitGateway(ctx.state, {
        state: 'pending',
        description: input.Description ?? '',
        creationTime: ctx.now,
        ...(options.AmazonSideAsn === undefined ? {} : { amazonSideAsn: options.AmazonSideAsn }),
        securityGroupReferencingSupport:
          options.SecurityGroupReferencingSupport === 'enable' ? 'enable' : 'disable',
        multicastSupport: options.MulticastSupport === 'enable' ? 'enable' : 'disable',
        dnsSupport: options.DnsSupport === 'disable' ? 'disable' : 'enable',
        vpnEcmpSupport: options.VpnEcmpSupport === 'disable' ? 'disable' : 'enable',
        tags,
      });
      ctx.store.schedule(ctx.now + ctx.store.durations.transitGatewayMs, () => {
        if (tgw.state === 'pending') {
          tgw.state = 'available';
        }
      });
      return { TransitGateway: tgwView(ctx, tgw) };
    },
  ),

  DescribeTransitGateways: action<DescribeTransitGatewaysRequest, DescribeTransitGatewaysResult>(
    false,
    (ctx, input) => {
      const items = selectResources({
        ids: input.TransitGatewayIds,
        find: (id) => findTgw(ctx, id),
        all: () => ctx.state.transitGateways.values(),
        filters: input.Filters,
        spec: TGW_FILTERS,
      });
      const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeTransitGateways');
      return { TransitGateways: page.items.map((t) => tgwView(ctx, t)), NextToken: page.nextToken };
    },
  ),

  ModifyTransitGateway: action<ModifyTransitGatewayRequest, ModifyTransitGatewayResult>(
    true,
    (ctx, input) => {
      const tgw = findTgw(ctx, input.TransitGatewayId);
      const options = input.Options ?? {};
      if (tgw.state !== 'available') {
        throw incorrectState(`Transit gateway ${tgw.id} is in state ${tgw.state}`);
      }
      const encryption = options.EncryptionSupport;
      if (encryption !== undefined && encryption !== 'enable' && encryption !== 'disable') {
        throw invalidParameter(`Value (${String(encryption)}) for parameter EncryptionSupport is invalid.`);
      }
      if (
        encryption !== undefined &&
        (tgw.encryption.state === 'enabling' || tgw.encryption.state === 'disabling')
      ) {
        throw incorrectState(
          `Encryption support of ${tgw.id} is ${tgw.encryption.state}; wait for it to finish`,
        );
      }
      const sgReferencing = options.SecurityGroupReferencingSupport ?? tgw.securityGroupReferencingSupport;
      if (encryption === 'enable' && tgw.encryption.state !== 'enabled') {
        const violations = encryptionPreconditionViolations(ctx, tgw, {
          sgReferencing,
          multicast: tgw.multicastSupport,
        });
        if (violations.length > 0) {
          throw incorrectState(`Encryption support cannot be enabled on ${tgw.id}: ${violations.join('; ')}`);
        }
      }
      ctx.commit();
      if (input.Description !== undefined) {
        tgw.description = input.Description;
      }
      tgw.securityGroupReferencingSupport = sgReferencing === 'enable' ? 'enable' : 'disable';
      if (options.DnsSupport !== undefined) {
        tgw.dnsSupport = options.DnsSupport === 'enable' ? 'enable' : 'disable';
      }
      if (options.VpnEcmpSupport !== undefined) {
        tgw.vpnEcmpSupport = options.VpnEcmpSupport === 'enable' ? 'enable' : 'disable';
      }
      const target = encryption === 'enable' ? 'enabled' : encryption === 'disable' ? 'disabled' : undefined;
      if (target !== undefined && tgw.encryption.state !== target) {
        tgw.generation += 1;
        const generation = tgw.generation;
        tgw.encryption = { state: target === 'enabled' ? 'enabling' : 'disabling' };
        ctx.store.schedule(ctx.now + ctx.store.durations.tgwEncryptionMs, () => {
          if (tgw.generation === generation) {
            tgw.encryption = { state: target };
          }
        });
      }
      return { TransitGateway: tgwView(ctx, tgw) };
    },
  ),

  DeleteTransitGateway: action<DeleteTransitGatewayRequest, DeleteTransitGatewayResult>(
    true,
    (ctx, input) => {
      const tgw = findTgw(ctx, input.TransitGatewayId);
      if (liveAttachments(ctx, tgw.id).length > 0) {
        throw incorrectState(`Transit gateway ${tgw.id} has non-deleted attachments`);
      }
      ctx.commit();
      tgw.state = 'deleting';
      ctx.store.schedule(ctx.now + ctx.store.durations.transitGatewayMs, () => {
        tgw.state = 'deleted';
      });
      return { TransitGateway: tgwView(ctx, tgw) };
    },
  ),

  CreateTransitGatewayVpcAttachment: action<
    CreateTransitGatewayVpcAttachmentRequest,
    CreateTransitGatewayVpcAttachmentResult
  >(true, (ctx, input) => {
    const tgw = findTgw(ctx, input.TransitGatewayId);
    const vpc = findVpc(ctx, input.VpcId);
    const subnetIds = required(input.SubnetIds, 'SubnetIds');
    for (const subnetId of subnetIds) {
      const subnet = findIn(ctx.state.subnets, subnetId, 'InvalidSubnetID.NotFound', 'subnet ID');
      if (subnet.vpcId !== vpc.id) {
        throw invalidParameter(`Subnet ${subnetId} does not belong to ${vpc.id}`);
      }
    }
    if (tgw.state !== 'available') {
      throw incorrectState(`Transit gateway ${tgw.id} is in state ${tgw.state}`);
    }
    const tags = tagsFromSpecifications(input.TagSpecifications, 'transit-gateway-attachment');
    ctx.commit();
    const attachment = ctx.resources.tgwAttachment(ctx.state, {
      transitGatewayId: tgw.id,
      resourceType: 'vpc',
      resourceId: vpc.id,
      vpcId: vpc.id,
      subnetIds,
      state: 'pending',
      creationTime: ctx.now,
      tags,
    });
    ctx.store.schedule(ctx.now + ctx.store.durations.tgwAttachmentMs, () => {
      if (attachment.state === 'pending') {
        attachment.state = 'available';
      }
    });
    return { TransitGatewayVpcAttachment: vpcAttachmentView(ctx, attachment) };
  }),

  DescribeTransitGatewayVpcAttachments: action<
    DescribeTransitGatewayVpcAttachmentsRequest,
    DescribeTransitGatewayVpcAttachmentsResult
  >(false, (ctx, input) => {
    const page = attachmentPage(
      ctx,
      input,
      () => [...ctx.state.tgwAttachments.values()].filter((a) => a.resourceType === 'vpc'),
      'DescribeTransitGatewayVpcAttachments',
    );
    return {
      TransitGatewayVpcAttachments: page.items.map((a) => vpcAttachmentView(ctx, a)),
      NextToken: page.nextToken,
    };
  }),

  DescribeTransitGatewayAttachments: action<
    DescribeTransitGatewayAttachmentsRequest,
    DescribeTransitGatewayAttachmentsResult
  >(false, (ctx, input) => {
    const page = attachmentPage(
      ctx,
      input,
      () => ctx.state.tgwAttachments.values(),
      'DescribeTransitGatewayAttachments',
    );
    return {
      TransitGatewayAttachments: page.items.map((a) => attachmentView(ctx, a)),
      NextToken: page.nextToken,
    };
  }),

  DeleteTransitGatewayVpcAttachment: action<
    DeleteTransitGatewayVpcAttachmentRequest,
    DeleteTransitGatewayVpcAttachmentResult
  >(true, (ctx, input) => {
    const attachment = findAttachment(ctx, input.TransitGatewayAttachmentId);
    ctx.commit();
    attachment.state = 'deleted';
    if (attachment.vpcId !== undefined) {
      ctx.state.contents.get(attachment.vpcId)?.tgwAttachments.delete(attachment.id);
    }
    return { TransitGatewayVpcAttachment: vpcAttachmentView(ctx, attachment) };
  }),

  CreateFlowLogs: action<CreateFlowLogsRequest, CreateFlowLogsResult>(true, (ctx, input) => {
    const resourceIds = required(input.ResourceIds, 'ResourceId');
    const resourceType = required(input.ResourceType as string | undefined, 'ResourceType');
    const logFormat = input.LogFormat ?? DEFAULT_FLOW_LOG_FORMAT;
    checkLogFormat(logFormat);
    const destinationType = input.LogDestinationType ?? 'cloud-watch-logs';
    if (
      destinationType === 'cloud-watch-logs' &&
      input.LogGroupName === undefined &&
      input.LogDestination === undefined
    ) {
      throw new Ec2Error(
        'MissingParameter',
        'LogDestination or LogGroupName is required for cloud-watch-logs',
      );
    }
    if (destinationType !== 'cloud-watch-logs' && input.LogDestination === undefined) {
      throw new Ec2Error('MissingParameter', `LogDestination is required for ${destinationType}`);
    }
    const interval = input.MaxAggregationInterval ?? 600;
    if (interval !== 60 && interval !== 600) {
      throw invalidParameter('MaxAggregationInterval must be 60 or 600');
    }
    const tags = tagsFromSpecifications(input.TagSpecifications, 'vpc-flow-log');
    ctx.commit();
    const flowLogIds: string[] = [];
    const unsuccessful: UnsuccessfulItem[] = [];
    for (const resourceId of resourceIds) {
      if (!resourceExists(ctx, resourceType, resourceId)) {
        unsuccessful.push({
          ResourceId: resourceId,
          Error: {
            Code: 'InvalidParameterValue',
            Message: `The ${resourceType} '${resourceId}' does not exist`,
          },
        });
        continue;
      }
      const flowLog: FlowLogRecord = {
        id: ctx.store.newId('fl'),
        resourceId,
        trafficType: input.TrafficType ?? 'ALL',
        logDestinationType: destinationType,
        ...(input.LogDestination === undefined ? {} : { logDestination: input.LogDestination }),
        ...(input.LogGroupName === undefined ? {} : { logGroupName: input.LogGroupName }),
        logFormat,
        maxAggregationInterval: interval,
        creationTime: ctx.now,
        tags: new Map(tags),
      };
      ctx.state.flowLogs.set(flowLog.id, flowLog);
      flowLogIds.push(flowLog.id);
    }
    return { FlowLogIds: flowLogIds, Unsuccessful: unsuccessful, ClientToken: input.ClientToken };
  }),

  DescribeFlowLogs: action<DescribeFlowLogsRequest, DescribeFlowLogsResult>(false, (ctx, input) => {
    const items = selectResources({
      ids: input.FlowLogIds,
      find: (id) => findIn(ctx.state.flowLogs, id, 'InvalidFlowLogId.NotFound', 'flow log ID'),
      all: () => ctx.state.flowLogs.values(),
      filters: input.Filter,
      spec: FLOW_LOG_FILTERS,
    });
    const page = paginate(items, input, STANDARD_BOUNDS, 'DescribeFlowLogs');
    return { FlowLogs: page.items.map(flowLogView), NextToken: page.nextToken };
  }),

  DeleteFlowLogs: action<DeleteFlowLogsRequest, DeleteFlowLogsResult>(true, (ctx, input) => {
    const ids = required(input.FlowLogIds, 'FlowLogId');
    ctx.commit();
    const unsuccessful: UnsuccessfulItem[] = [];
    for (const id of ids) {
      if (!ctx.state.flowLogs.delete(id)) {
        unsuccessful.push({
          ResourceId: id,
          Error: { Code: 'InvalidFlowLogId.NotFound', Message: `Flow log ${id} does not exist` },
        });
      }
    }
    return { Unsuccessful: unsuccessful };
  }),
};
