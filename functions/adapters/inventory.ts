/**
 * Inventory: read one account + Region into an `InventorySnapshot`, with as few EC2 calls as the API allows
 * (every list at its largest page size; blockers only for VPCs in monitor, where they decide the verdict).
 */
import {
  type _InstanceType,
  DescribeAccountVpcEncryptionControlCommand,
  type DescribeAccountVpcEncryptionControlResult,
  DescribeEgressOnlyInternetGatewaysCommand,
  type DescribeEgressOnlyInternetGatewaysResult,
  DescribeFlowLogsCommand,
  type DescribeFlowLogsResult,
  DescribeInstancesCommand,
  type DescribeInstancesResult,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesResult,
  DescribeInternetGatewaysCommand,
  type DescribeInternetGatewaysResult,
  DescribeNatGatewaysCommand,
  type DescribeNatGatewaysResult,
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesResult,
  DescribeTransitGatewayAttachmentsCommand,
  type DescribeTransitGatewayAttachmentsResult,
  DescribeTransitGatewaysCommand,
  type DescribeTransitGatewaysResult,
  DescribeVpcEncryptionControlsCommand,
  type DescribeVpcEncryptionControlsResult,
  DescribeVpcPeeringConnectionsCommand,
  type DescribeVpcPeeringConnectionsResult,
  DescribeVpcsCommand,
  type DescribeVpcsResult,
  DescribeVpnGatewaysCommand,
  type DescribeVpnGatewaysResult,
  GetVpcResourcesBlockingEncryptionEnforcementCommand,
  type GetVpcResourcesBlockingEncryptionEnforcementResult,
  type Tag,
  type VpcEncryptionControl,
} from '@aws-sdk/client-ec2';
import type { z } from 'zod';
import {
  type EncryptionControlSchema,
  EXCLUSION_NAMES,
  type ExclusionStatus,
  type InventorySnapshot,
  type InventorySnapshotInput,
  InventorySnapshotSchema,
  type RawBlocker,
} from '../domain/model.ts';
import type { Ec2Gateway } from './ec2-gateway.ts';
import { allPages } from './paging.ts';

export interface InventoryScope {
  readonly accountId: string;
  readonly region: string;
  /** ISO-8601: when the snapshot is taken (injected so that runs are reproducible). */
  readonly takenAt: string;
  readonly organizationalUnitIds?: readonly string[];
  /** Read only these VPCs (an event names them); absent: every VPC in the Region. */
  readonly vpcIds?: readonly string[];
}

type EncryptionControlInput = z.input<typeof EncryptionControlSchema>;

export function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function controlOf(c: VpcEncryptionControl | undefined): EncryptionControlInput | null {
  if (!c?.VpcEncryptionControlId || !c.Mode) return null;
  const exclusions: Partial<Record<(typeof EXCLUSION_NAMES)[number], ExclusionStatus>> = {};
  for (const name of EXCLUSION_NAMES) {
    const e = c.ResourceExclusions?.[name];
    if (e?.State)
      exclusions[name] = { state: e.State, ...(e.StateMessage ? { stateMessage: e.StateMessage } : {}) };
  }
  return {
    controlId: c.VpcEncryptionControlId,
    mode: c.Mode,
    state: c.State ?? 'unknown',
    ...(c.StateMessage ? { stateMessage: c.StateMessage } : {}),
    exclusions,
  };
}

const vpcFilter = (vpcIds: readonly string[] | undefined, name = 'vpc-id') =>
  vpcIds ? [{ Name: name, Values: [...vpcIds] }] : undefined;

export async function readInventory(ec2: Ec2Gateway, scope: InventoryScope): Promise<InventorySnapshot> {
  const only = scope.vpcIds;
  const [vpcs, controls, account] = await Promise.all([
    allPages(
      (NextToken) =>
        ec2.read<DescribeVpcsResult>(
          new DescribeVpcsCommand(only ? { VpcIds: [...only] } : { MaxResults: 1000, NextToken }),
        ),
      (p) => p.Vpcs,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeVpcEncryptionControlsResult>(
          new DescribeVpcEncryptionControlsCommand(
            only ? { VpcIds: [...only] } : { MaxResults: 1000, NextToken },
          ),
        ),
      (p) => p.VpcEncryptionControls,
    ),
    ec2
      .read<DescribeAccountVpcEncryptionControlResult>(new DescribeAccountVpcEncryptionControlCommand({}))
      .then((r) => r.AccountVpcEncryptionControl),
  ]);
  const controlByVpc = new Map(controls.filter((c) => c.VpcId).map((c) => [c.VpcId as string, c]));
  // DescribeVpcs may carry the control itself; DescribeVpcEncryptionControls is the fuller record when both exist.
  const vpcControl = (vpcId: string, fromVpc: VpcEncryptionControl | undefined) =>
    controlOf(controlByVpc.get(vpcId) ?? fromVpc);

  // Blockers decide between READY_TO_ENFORCE and BLOCKED, which only exists for a VPC in monitor. They need
  // only the VPCs and their controls, and they are the calls that wait on EC2's bucket (one per VPC in
  // monitor): start them now, so that the other lists are read while they wait.
  const monitored = vpcs.filter((v) => {
    const c = vpcControl(v.VpcId ?? '', v.EncryptionControl);
    return c !== null && c.mode === 'monitor';
  });
  const instancesRead = allPages(
    (NextToken) =>
      ec2.read<DescribeInstancesResult>(
        new DescribeInstancesCommand({ MaxResults: 1000, NextToken, Filters: vpcFilter(only) }),
      ),
    (p) => p.Reservations?.flatMap((r) => r.Instances ?? []),
  );
  // Instance types: every type that can encrypt in transit (the candidates for a move) plus the types in use
  // that are not among them.
  const capableRead = allPages(
    (NextToken) =>
      ec2.read<DescribeInstanceTypesResult>(
        new DescribeInstanceTypesCommand({
          MaxResults: 100,
          NextToken,
          Filters: [{ Name: 'network-info.encryption-in-transit-supported', Values: ['true'] }],
        }),
      ),
    (p) => p.InstanceTypes,
  );
  const readBlockers = (list: typeof vpcs) =>
    Promise.all(
      list.map(async (v) => {
        const vpcId = v.VpcId as string;
        const raw = await allPages(
          (NextToken) =>
            ec2.read<GetVpcResourcesBlockingEncryptionEnforcementResult>(
              new GetVpcResourcesBlockingEncryptionEnforcementCommand({
                VpcId: vpcId,
                MaxResults: 1000,
                NextToken,
              }),
            ),
          (p) => p.NonCompliantResources,
        );
        const blockers: RawBlocker[] = raw
          .filter((r) => r.Id)
          .map((r) => ({
            id: r.Id as string,
            type: r.Type ?? '',
            description: r.Description ?? '',
            isExcludable: r.IsExcludable ?? false,
          }));
        return [vpcId, blockers] as const;
      }),
    );
  // The monitored VPCs' blockers go first: EC2 paces them, so they bound the sweep. An enforced VPC cannot
  // gain a non-capable instance through EC2's own checks, but one launched around them (or retyped) breaks
  // enforcement: once the instances are known, read the blockers of the enforced VPCs holding a type not
  // known to be capable (usually none, so no extra calls).
  const enforcedSuspects = Promise.all([instancesRead, capableRead]).then(([instances, capable]) => {
    const capableTypes = new Set(capable.map((t) => t.InstanceType as string | undefined));
    const suspect = new Set(
      instances
        .filter((i) => !['terminated', 'shutting-down'].includes(i.State?.Name ?? ''))
        .filter((i) => i.InstanceType && !capableTypes.has(i.InstanceType))
        .map((i) => i.VpcId),
    );
    return vpcs.filter((v) => {
      const c = vpcControl(v.VpcId ?? '', v.EncryptionControl);
      return c !== null && c.mode === 'enforce' && suspect.has(v.VpcId);
    });
  });
  const blockersRead = Promise.all([readBlockers(monitored), enforcedSuspects.then(readBlockers)]).then(
    ([first, second]) => [...first, ...second],
  );
  const typesRead = Promise.all([instancesRead, capableRead]).then(async ([instances, capable]) => {
    const known = new Set(capable.map((t) => t.InstanceType as string | undefined));
    const inUse = [
      ...new Set(
        instances
          .map((i) => i.InstanceType as string | undefined)
          .filter((t): t is string => !!t && !known.has(t)),
      ),
    ].sort();
    const inUsePages = await Promise.all(
      chunk(inUse, 100).map((types) =>
        allPages(
          (NextToken) =>
            ec2.read<DescribeInstanceTypesResult>(
              new DescribeInstanceTypesCommand({ InstanceTypes: types as _InstanceType[], NextToken }),
            ),
          (p) => p.InstanceTypes,
        ),
      ),
    );
    return [...capable, ...inUsePages.flat()];
  });
  const [
    blockerLists,
    instances,
    enis,
    tgws,
    tgwAttachments,
    peerings,
    igws,
    eigws,
    nats,
    vgws,
    flowLogs,
    typePages,
  ] = await Promise.all([
    blockersRead,
    instancesRead,
    allPages(
      (NextToken) =>
        ec2.read<DescribeNetworkInterfacesResult>(
          new DescribeNetworkInterfacesCommand({ MaxResults: 1000, NextToken, Filters: vpcFilter(only) }),
        ),
      (p) => p.NetworkInterfaces,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeTransitGatewaysResult>(
          new DescribeTransitGatewaysCommand({ MaxResults: 1000, NextToken }),
        ),
      (p) => p.TransitGateways,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeTransitGatewayAttachmentsResult>(
          new DescribeTransitGatewayAttachmentsCommand({ MaxResults: 1000, NextToken }),
        ),
      (p) => p.TransitGatewayAttachments,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeVpcPeeringConnectionsResult>(
          new DescribeVpcPeeringConnectionsCommand({ MaxResults: 1000, NextToken }),
        ),
      (p) => p.VpcPeeringConnections,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeInternetGatewaysResult>(
          new DescribeInternetGatewaysCommand({
            MaxResults: 1000,
            NextToken,
            Filters: vpcFilter(only, 'attachment.vpc-id'),
          }),
        ),
      (p) => p.InternetGateways,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeEgressOnlyInternetGatewaysResult>(
          new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 255, NextToken }),
        ),
      (p) => p.EgressOnlyInternetGateways,
    ),
    allPages(
      (NextToken) =>
        ec2.read<DescribeNatGatewaysResult>(
          new DescribeNatGatewaysCommand({ MaxResults: 1000, NextToken, Filter: vpcFilter(only) }),
        ),
      (p) => p.NatGateways,
    ),
    // DescribeVpnGateways is not paginated.
    ec2
      .read<DescribeVpnGatewaysResult>(
        new DescribeVpnGatewaysCommand({ Filters: vpcFilter(only, 'attachment.vpc-id') }),
      )
      .then((r) => r.VpnGateways ?? []),
    allPages(
      (NextToken) =>
        ec2.read<DescribeFlowLogsResult>(
          new DescribeFlowLogsCommand({
            MaxResults: 1000,
            NextToken,
            Filter: vpcFilter(only, 'resource-id'),
          }),
        ),
      (p) => p.FlowLogs,
    ),
    typesRead,
  ]);
  const typeInfo = new Map(typePages.map((t) => [t.InstanceType as string, t]));

  const blockersByVpc = new Map(blockerLists);
  const vpcIds = new Set(vpcs.map((v) => v.VpcId));

  const snapshot: InventorySnapshotInput = {
    accountId: scope.accountId,
    region: scope.region,
    takenAt: scope.takenAt,
    organizationalUnitIds: [...(scope.organizationalUnitIds ?? [])],
    accountControl: account
      ? { mode: account.Mode ?? 'unmanaged', managedBy: account.ManagedBy ?? 'account', state: account.State }
      : null,
    vpcs: vpcs
      .filter((v) => v.VpcId)
      .map((v) => ({
        vpcId: v.VpcId as string,
        cidrBlock: v.CidrBlock,
        isDefault: v.IsDefault ?? false,
        tags: tagsOf(v.Tags),
        control: vpcControl(v.VpcId as string, v.EncryptionControl),
        blockers: blockersByVpc.get(v.VpcId as string) ?? [],
      })),
    instances: instances
      .filter((i) => i.InstanceId && i.VpcId && i.InstanceType)
      .map((i) => {
        const tags = tagsOf(i.Tags);
        return {
          instanceId: i.InstanceId as string,
          instanceType: i.InstanceType as string,
          vpcId: i.VpcId as string,
          subnetId: i.SubnetId,
          state: i.State?.Name ?? 'unknown',
          tags,
          autoScalingGroupName: tags['aws:autoscaling:groupName'],
          networkInterfaceIds: (i.NetworkInterfaces ?? []).flatMap((n) =>
            n.NetworkInterfaceId ? [n.NetworkInterfaceId] : [],
          ),
        };
      }),
    networkInterfaces: enis
      .filter((n) => n.NetworkInterfaceId && n.VpcId)
      .map((n) => ({
        networkInterfaceId: n.NetworkInterfaceId as string,
        vpcId: n.VpcId as string,
        interfaceType: n.InterfaceType ?? 'interface',
        requesterManaged: n.RequesterManaged ?? false,
        description: n.Description ?? '',
        instanceId: n.Attachment?.InstanceId,
      })),
    instanceTypes: [...typeInfo.values()]
      .filter((t) => t.InstanceType && t.VCpuInfo?.DefaultVCpus && t.MemoryInfo?.SizeInMiB)
      .map((t) => ({
        instanceType: t.InstanceType as string,
        vcpus: t.VCpuInfo?.DefaultVCpus as number,
        memoryMiB: t.MemoryInfo?.SizeInMiB as number,
        architectures: t.ProcessorInfo?.SupportedArchitectures?.length
          ? [...t.ProcessorInfo.SupportedArchitectures]
          : ['x86_64'],
        hypervisor: t.Hypervisor ?? 'nitro',
        currentGeneration: t.CurrentGeneration ?? true,
        encryptionInTransitSupported: t.NetworkInfo?.EncryptionInTransitSupported ?? false,
      })),
    transitGateways: tgws
      .filter((t) => t.TransitGatewayId && t.State !== 'deleted')
      // A scope narrowed to some VPCs sees only the Transit Gateways attached to them.
      .filter(
        (t) =>
          !only ||
          tgwAttachments.some(
            (a) =>
              a.TransitGatewayId === t.TransitGatewayId &&
              a.ResourceType === 'vpc' &&
              vpcIds.has(a.ResourceId),
          ),
      )
      .map((t) => ({
        transitGatewayId: t.TransitGatewayId as string,
        state: t.State ?? 'available',
        tags: tagsOf(t.Tags),
        encryptionSupport: t.Options?.EncryptionSupport?.EncryptionState ?? 'disabled',
        encryptionSupportMessage: t.Options?.EncryptionSupport?.StateMessage,
        securityGroupReferencingSupport: t.Options?.SecurityGroupReferencingSupport === 'enable',
        multicastSupport: t.Options?.MulticastSupport === 'enable',
        attachments: tgwAttachments
          .filter(
            (a) =>
              a.TransitGatewayId === t.TransitGatewayId &&
              a.TransitGatewayAttachmentId &&
              a.State !== 'deleted',
          )
          .map((a) => ({
            attachmentId: a.TransitGatewayAttachmentId as string,
            resourceType: a.ResourceType ?? 'unknown',
            resourceId: a.ResourceId,
            state: a.State ?? 'available',
          })),
      })),
    peeringConnections: peerings
      .filter((p) => p.VpcPeeringConnectionId && p.RequesterVpcInfo?.VpcId && p.AccepterVpcInfo?.VpcId)
      .filter((p) => !only || vpcIds.has(p.RequesterVpcInfo?.VpcId) || vpcIds.has(p.AccepterVpcInfo?.VpcId))
      .map((p) => ({
        peeringConnectionId: p.VpcPeeringConnectionId as string,
        status: p.Status?.Code ?? 'active',
        requesterVpcId: p.RequesterVpcInfo?.VpcId as string,
        requesterOwnerId: p.RequesterVpcInfo?.OwnerId,
        requesterRegion: p.RequesterVpcInfo?.Region,
        accepterVpcId: p.AccepterVpcInfo?.VpcId as string,
        accepterOwnerId: p.AccepterVpcInfo?.OwnerId,
        accepterRegion: p.AccepterVpcInfo?.Region,
        tags: tagsOf(p.Tags),
      })),
    gateways: [
      ...igws.flatMap((g) =>
        (g.Attachments ?? [])
          .filter((a) => a.VpcId)
          .map((a) => ({
            gatewayId: g.InternetGatewayId ?? '',
            kind: 'internet-gateway' as const,
            vpcId: a.VpcId as string,
            state: a.State ?? 'available',
          })),
      ),
      ...eigws.flatMap((g) =>
        (g.Attachments ?? [])
          .filter((a) => a.VpcId && (!only || vpcIds.has(a.VpcId)))
          .map((a) => ({
            gatewayId: g.EgressOnlyInternetGatewayId ?? '',
            kind: 'egress-only-internet-gateway' as const,
            vpcId: a.VpcId as string,
            state: a.State ?? 'attached',
          })),
      ),
      ...nats
        .filter((n) => n.NatGatewayId && n.VpcId && n.State !== 'deleted')
        .map((n) => ({
          gatewayId: n.NatGatewayId as string,
          kind: 'nat-gateway' as const,
          vpcId: n.VpcId as string,
          state: n.State ?? 'available',
        })),
      ...vgws.flatMap((g) =>
        (g.VpcAttachments ?? [])
          .filter((a) => a.VpcId && a.State !== 'detached')
          .map((a) => ({
            gatewayId: g.VpnGatewayId ?? '',
            kind: 'virtual-private-gateway' as const,
            vpcId: a.VpcId as string,
            state: a.State ?? 'attached',
          })),
      ),
    ].filter((g) => g.gatewayId !== ''),
    flowLogs: flowLogs
      .filter((f) => f.FlowLogId && f.ResourceId)
      .map((f) => ({
        flowLogId: f.FlowLogId as string,
        resourceId: f.ResourceId as string,
        logFormat: f.LogFormat,
        destinationType: f.LogDestinationType ?? 'cloud-watch-logs',
      })),
  };
  return InventorySnapshotSchema.parse(snapshot);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
