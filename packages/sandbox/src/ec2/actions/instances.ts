/** Instances, instance types and network interfaces. */
import type {
  DescribeInstancesRequest,
  DescribeInstancesResult,
  DescribeInstanceTypesRequest,
  DescribeInstanceTypesResult,
  DescribeNetworkInterfacesRequest,
  DescribeNetworkInterfacesResult,
  Instance,
  InstanceStateChange,
  InstanceTypeInfo,
  ModifyInstanceAttributeRequest,
  NetworkInterface,
  Reservation,
  RunInstancesRequest,
  StartInstancesRequest,
  StartInstancesResult,
  StopInstancesRequest,
  StopInstancesResult,
  TerminateInstancesRequest,
  TerminateInstancesResult,
} from '@aws-sdk/client-ec2';
import { INSTANCE_TYPES, type InstanceTypeSpec } from '../catalogue.ts';
import { type ActionContext, action, findIn, tagList, tagsFromSpecifications } from '../context.ts';
import { requireCapableIfEnforced } from '../encryption.ts';
import { Ec2Error, invalidParameter, required } from '../errors.ts';
import {
  compileFilters,
  type FilterSpec,
  matchesAll,
  paginate,
  STANDARD_BOUNDS,
  vpcIdsFromFilters,
} from '../listing.ts';
import {
  INSTANCE_STATE_CODES,
  type InstanceRecord,
  type InstanceStateName,
  type NetworkInterfaceRecord,
} from '../model.ts';

function stateOf(name: InstanceStateName): { Code: number; Name: InstanceStateName } {
  return { Code: INSTANCE_STATE_CODES[name], Name: name };
}

function checkInstanceType(instanceType: string): InstanceTypeSpec {
  const spec = INSTANCE_TYPES.get(instanceType);
  if (spec === undefined) {
    throw invalidParameter(`Invalid value '${instanceType}' for InstanceType.`);
  }
  return spec;
}

function findInstance(ctx: ActionContext, id: string): InstanceRecord {
  return findIn(ctx.state.instances, id, 'InvalidInstanceID.NotFound', 'instance ID');
}

function instanceView(ctx: ActionContext, instance: InstanceRecord): Instance {
  const spec = INSTANCE_TYPES.get(instance.instanceType);
  const eni = ctx.state.networkInterfaces.get(instance.eniId);
  return {
    InstanceId: instance.id,
    ImageId: instance.imageId,
    InstanceType: instance.instanceType as Instance['InstanceType'],
    State: stateOf(instance.state),
    ...(instance.stateReason === undefined ? {} : { StateTransitionReason: instance.stateReason }),
    LaunchTime: new Date(instance.launchTime),
    Placement: {
      AvailabilityZone: ctx.state.subnets.get(instance.subnetId)?.availabilityZone ?? `${ctx.region}a`,
      Tenancy: 'default',
    },
    VpcId: instance.state === 'terminated' ? undefined : instance.vpcId,
    SubnetId: instance.state === 'terminated' ? undefined : instance.subnetId,
    PrivateIpAddress: instance.state === 'terminated' ? undefined : instance.privateIpAddress,
    Architecture: spec?.architectures.includes('arm64') ? 'arm64' : 'x86_64',
    // EC2 reports `xen` here for Nitro instances too; DescribeInstanceTypes has the real hypervisor.
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceType: 'ebs',
    EnaSupport: instance.enaSupport,
    Tags: tagList(instance.tags),
    NetworkInterfaces:
      eni === undefined
        ? undefined
        : [
            {
              NetworkInterfaceId: eni.id,
              SubnetId: eni.subnetId,
              VpcId: eni.vpcId,
              PrivateIpAddress: eni.privateIpAddress,
              Status: 'in-use',
              InterfaceType: 'interface',
              Attachment: {
                AttachmentId: `eni-attach-${eni.id.slice(4)}`,
                DeviceIndex: 0,
                Status: 'attached',
                DeleteOnTermination: true,
              },
            },
          ],
  };
}

const INSTANCE_FILTERS: FilterSpec<InstanceRecord> = {
  fields: {
    'instance-id': (i) => i.id,
    'vpc-id': (i) => (i.state === 'terminated' ? undefined : i.vpcId),
    'subnet-id': (i) => (i.state === 'terminated' ? undefined : i.subnetId),
    'instance-state-name': (i) => i.state,
    'instance-state-code': (i) => String(INSTANCE_STATE_CODES[i.state]),
    'instance-type': (i) => i.instanceType,
    'image-id': (i) => i.imageId,
    'reservation-id': (i) => i.reservationId,
    'network-interface.network-interface-id': (i) => (i.state === 'terminated' ? undefined : i.eniId),
    'private-ip-address': (i) => i.privateIpAddress,
  },
  tags: (i) => i.tags,
};

/** Schedules the end of an instance state change unless a newer change supersedes it. */
function transition(
  ctx: ActionContext,
  instance: InstanceRecord,
  next: InstanceStateName,
  ms: number,
  done?: (at: number) => void,
): void {
  instance.generation += 1;
  const generation = instance.generation;
  ctx.store.schedule(ctx.now + ms, (at) => {
    if (instance.generation === generation) {
      instance.state = next;
      done?.(at);
    }
  });
}

function change(instance: InstanceRecord, previous: InstanceStateName): InstanceStateChange {
  return { InstanceId: instance.id, PreviousState: stateOf(previous), CurrentState: stateOf(instance.state) };
}

export const instanceActions = {
  RunInstances: action<RunInstancesRequest, Reservation>(true, (ctx, input) => {
    const minCount = required(input.MinCount, 'MinCount');
    const maxCount = required(input.MaxCount, 'MaxCount');
    if (minCount < 1 || maxCount < minCount || maxCount > 100) {
      throw invalidParameter('MinCount must be at least 1 and MaxCount between MinCount and 100');
    }
    const subnetId = input.SubnetId ?? input.NetworkInterfaces?.[0]?.SubnetId;
    if (subnetId === undefined) {
      throw new Ec2Error(
        'VPCIdNotSpecified',
        'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.',
      );
    }
    const subnet = findIn(ctx.state.subnets, subnetId, 'InvalidSubnetID.NotFound', 'subnet ID');
    const vpc = ctx.state.vpcs.get(subnet.vpcId);
    const instanceType = required(input.InstanceType as string | undefined, 'InstanceType');
    checkInstanceType(instanceType);
    if (vpc === undefined) {
      throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${subnet.vpcId}' does not exist`);
    }
    requireCapableIfEnforced(vpc, instanceType);
    const tags = tagsFromSpecifications(
      input.TagSpecifications?.filter((s) => s.ResourceType === undefined || s.ResourceType === 'instance'),
      'instance',
    );
    ctx.commit();
    const reservationId = ctx.store.newId('r');
    const instances: Instance[] = [];
    for (let n = 0; n < maxCount; n++) {
      const instance = ctx.resources.instance(ctx.state, vpc, subnet, {
        reservationId,
        instanceType,
        imageId: input.ImageId ?? 'ami-0sandbox000000000',
        state: 'pending',
        tags: new Map(tags),
        launchTime: ctx.now,
      });
      transition(ctx, instance, 'running', ctx.store.durations.instancePendingMs);
      instances.push(instanceView(ctx, instance));
    }
    return { ReservationId: reservationId, OwnerId: ctx.accountId, Instances: instances, Groups: [] };
  }),

  DescribeInstances: action<DescribeInstancesRequest, DescribeInstancesResult>(false, (ctx, input) => {
    if (input.InstanceIds !== undefined && input.InstanceIds.length > 0 && input.MaxResults !== undefined) {
      throw new Ec2Error(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    const matchers = compileFilters(input.Filters, INSTANCE_FILTERS);
    let candidates: InstanceRecord[];
    const vpcIds = vpcIdsFromFilters(input.Filters);
    if (input.InstanceIds !== undefined && input.InstanceIds.length > 0) {
      candidates = input.InstanceIds.map((id) => findInstance(ctx, id));
    } else if (vpcIds !== undefined) {
      candidates = vpcIds.flatMap((vpcId) =>
        [...(ctx.state.contents.get(vpcId)?.instances ?? [])].map(
          (id) => ctx.state.instances.get(id) as InstanceRecord,
        ),
      );
    } else {
      candidates = [...ctx.state.instances.values()];
    }
    const page = paginate(
      candidates.filter((i) => matchesAll(i, matchers)),
      input,
      STANDARD_BOUNDS,
      'DescribeInstances',
    );
    const reservations = new Map<string, Reservation>();
    for (const instance of page.items) {
      let reservation = reservations.get(instance.reservationId);
      if (reservation === undefined) {
        reservation = {
          ReservationId: instance.reservationId,
          OwnerId: ctx.accountId,
          Groups: [],
          Instances: [],
        };
        reservations.set(instance.reservationId, reservation);
      }
      reservation.Instances?.push(instanceView(ctx, instance));
    }
    return { Reservations: [...reservations.values()], NextToken: page.nextToken };
  }),

  StopInstances: action<StopInstancesRequest, StopInstancesResult>(true, (ctx, input) => {
    const instances = required(input.InstanceIds, 'InstanceId').map((id) => findInstance(ctx, id));
    for (const instance of instances) {
      if (instance.state === 'terminated' || instance.state === 'shutting-down') {
        throw new Ec2Error(
          'IncorrectInstanceState',
          `The instance '${instance.id}' is not in a state from which it can be stopped.`,
        );
      }
    }
    ctx.commit();
    return {
      StoppingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous === 'pending' || previous === 'running') {
          instance.state = 'stopping';
          instance.stateReason = `User initiated (${new Date(ctx.now).toISOString()})`;
          transition(ctx, instance, 'stopped', ctx.store.durations.instanceStopMs);
        }
        return change(instance, previous);
      }),
    };
  }),

  StartInstances: action<StartInstancesRequest, StartInstancesResult>(true, (ctx, input) => {
    const instances = required(input.InstanceIds, 'InstanceId').map((id) => findInstance(ctx, id));
    for (const instance of instances) {
      if (!['stopped', 'running', 'pending'].includes(instance.state)) {
        throw new Ec2Error(
          'IncorrectInstanceState',
          `The instance '${instance.id}' is not in a state from which it can be started.`,
        );
      }
    }
    ctx.commit();
    return {
      StartingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous === 'stopped') {
          instance.state = 'pending';
          instance.stateReason = undefined;
          transition(ctx, instance, 'running', ctx.store.durations.instancePendingMs);
        }
        return change(instance, previous);
      }),
    };
  }),

  TerminateInstances: action<TerminateInstancesRequest, TerminateInstancesResult>(true, (ctx, input) => {
    const instances = required(input.InstanceIds, 'InstanceId').map((id) => findInstance(ctx, id));
    ctx.commit();
    return {
      TerminatingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous !== 'terminated' && previous !== 'shutting-down') {
          instance.state = 'shutting-down';
          transition(ctx, instance, 'terminated', ctx.store.durations.instanceTerminateMs, (at) =>
            ctx.resources.terminated(ctx.state, instance, at),
          );
        }
        return change(instance, previous);
      }),
    };
  }),

  ModifyInstanceAttribute: action<ModifyInstanceAttributeRequest, object>(true, (ctx, input) => {
    const instance = findInstance(ctx, required(input.InstanceId, 'InstanceId'));
    const newType =
      input.InstanceType?.Value ?? (input.Attribute === 'instanceType' ? input.Value : undefined);
    if (newType !== undefined) {
      checkInstanceType(newType);
      if (instance.state !== 'stopped') {
        throw new Ec2Error(
          'IncorrectInstanceState',
          `The instance '${instance.id}' is not in the 'stopped' state.`,
        );
      }
      // EC2 refuses a Nitro type for an instance whose image is not enabled for ENA.
      if (INSTANCE_TYPES.get(newType)?.hypervisor === 'nitro' && !instance.enaSupport) {
        throw new Ec2Error(
          'InvalidParameterCombination',
          `Enhanced networking with the Elastic Network Adapter (ENA) is required for the '${newType}' instance type. Ensure that your instance '${instance.id}' is enabled for ENA.`,
        );
      }
      const vpc = ctx.state.vpcs.get(instance.vpcId);
      if (vpc !== undefined) {
        requireCapableIfEnforced(vpc, newType);
      }
    }
    ctx.commit();
    if (newType !== undefined) {
      instance.instanceType = newType;
    }
    return {};
  }),

  DescribeInstanceTypes: action<DescribeInstanceTypesRequest, DescribeInstanceTypesResult>(
    false,
    (ctx, input) => {
      const matchers = compileFilters(input.Filters, INSTANCE_TYPE_FILTERS);
      const candidates =
        input.InstanceTypes !== undefined && input.InstanceTypes.length > 0
          ? input.InstanceTypes.map((t) => {
              const spec = INSTANCE_TYPES.get(t);
              if (spec === undefined) {
                throw new Ec2Error(
                  'InvalidInstanceType',
                  `The following supplied instance types do not exist: [${t}]`,
                );
              }
              return spec;
            })
          : [...INSTANCE_TYPES.values()];
      const page = paginate(
        candidates.filter((t) => matchesAll(t, matchers)),
        input,
        { min: 5, max: 100, defaultSize: 100 },
        `DescribeInstanceTypes|${ctx.region}`,
      );
      return { InstanceTypes: page.items.map(instanceTypeView), NextToken: page.nextToken };
    },
  ),

  DescribeNetworkInterfaces: action<DescribeNetworkInterfacesRequest, DescribeNetworkInterfacesResult>(
    false,
    (ctx, input) => {
      const matchers = compileFilters(input.Filters, ENI_FILTERS);
      const vpcIds = vpcIdsFromFilters(input.Filters);
      let candidates: NetworkInterfaceRecord[];
      if (input.NetworkInterfaceIds !== undefined && input.NetworkInterfaceIds.length > 0) {
        candidates = input.NetworkInterfaceIds.map((id) =>
          findIn(
            ctx.state.networkInterfaces,
            id,
            'InvalidNetworkInterfaceID.NotFound',
            'network interface ID',
          ),
        );
      } else if (vpcIds !== undefined) {
        candidates = vpcIds.flatMap((vpcId) =>
          [...(ctx.state.contents.get(vpcId)?.networkInterfaces ?? [])].map(
            (id) => ctx.state.networkInterfaces.get(id) as NetworkInterfaceRecord,
          ),
        );
      } else {
        candidates = [...ctx.state.networkInterfaces.values()];
      }
      const page = paginate(
        candidates.filter((e) => matchesAll(e, matchers)),
        input,
        STANDARD_BOUNDS,
        'DescribeNetworkInterfaces',
      );
      return { NetworkInterfaces: page.items.map((e) => eniView(ctx, e)), NextToken: page.nextToken };
    },
  ),
};

const INSTANCE_TYPE_FILTERS: FilterSpec<InstanceTypeSpec> = {
  fields: {
    'instance-type': (t) => t.instanceType,
    'network-info.encryption-in-transit-supported': (t) => String(t.encryptionInTransitSupported),
    hypervisor: (t) => t.hypervisor,
    'current-generation': (t) => String(t.currentGeneration),
    'processor-info.supported-architecture': (t) => t.architectures,
    'vcpu-info.default-vcpus': (t) => String(t.vcpus),
    'memory-info.size-in-mib': (t) => String(t.memoryMiB),
    'burstable-performance-supported': (t) => String(t.burstable),
  },
};

function instanceTypeView(spec: InstanceTypeSpec): InstanceTypeInfo {
  return {
    InstanceType: spec.instanceType as InstanceTypeInfo['InstanceType'],
    CurrentGeneration: spec.currentGeneration,
    Hypervisor: spec.hypervisor,
    BareMetal: false,
    BurstablePerformanceSupported: spec.burstable,
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedVirtualizationTypes: ['hvm'],
    ProcessorInfo: { SupportedArchitectures: [...spec.architectures] },
    VCpuInfo: { DefaultVCpus: spec.vcpus },
    MemoryInfo: { SizeInMiB: spec.memoryMiB },
    NetworkInfo: {
      NetworkPerformance: spec.networkPerformance,
      EnaSupport: spec.hypervisor === 'nitro' ? 'required' : 'unsupported',
      EncryptionInTransitSupported: spec.encryptionInTransitSupported,
      MaximumNetworkInterfaces: Math.max(2, Math.min(15, spec.vcpus)),
    },
    SupportedInRegion: true,
  };
}

const ENI_FILTERS: FilterSpec<NetworkInterfaceRecord> = {
  fields: {
    'network-interface-id': (e) => e.id,
    'vpc-id': (e) => e.vpcId,
    'subnet-id': (e) => e.subnetId,
    'interface-type': (e) => e.interfaceType,
    'requester-managed': (e) => String(e.requesterManaged),
    'requester-id': (e) => e.requesterId,
    'attachment.instance-id': (e) => e.instanceId,
    description: (e) => e.description,
    status: () => 'in-use',
    'private-ip-address': (e) => e.privateIpAddress,
  },
  tags: (e) => e.tags,
};

function eniView(ctx: ActionContext, eni: NetworkInterfaceRecord): NetworkInterface {
  return {
    NetworkInterfaceId: eni.id,
    VpcId: eni.vpcId,
    SubnetId: eni.subnetId,
    AvailabilityZone: ctx.state.subnets.get(eni.subnetId)?.availabilityZone ?? `${ctx.region}a`,
    Description: eni.description,
    InterfaceType: eni.interfaceType as NetworkInterface['InterfaceType'],
    RequesterManaged: eni.requesterManaged,
    ...(eni.requesterId === undefined ? {} : { RequesterId: eni.requesterId }),
    Status: 'in-use',
    OwnerId: ctx.accountId,
    PrivateIpAddress: eni.privateIpAddress,
    SourceDestCheck: true,
    ...(eni.instanceId === undefined
      ? {}
      : {
          Attachment: {
            AttachmentId: `eni-attach-${eni.id.slice(4)}`,
            InstanceId: eni.instanceId,
            InstanceOwnerId: ctx.accountId,
            DeviceIndex: 0,
            Status: 'attached',
            DeleteOnTermination: true,
          },
        }),
    TagSet: tagList(eni.tags),
  };
}
