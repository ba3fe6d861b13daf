/**
 * Inventory: read one account + Region into an `InventorySnapshot`, with as few EC2 calls as the API allows
 * (every list at its largest page size; blockers only for VPCs in monitor, where they decide the verdict).
 *
 * One reader per kind of resource, each a small function over the EC2 gateway that returns its part of the
 * snapshot; `readInventory` composes them. The order in which it starts them is part of the contract: the
 * blocker calls, which EC2 paces, go out as early as their inputs allow (test/adapters/inventory.test.ts,
 * bench/sweep.ts counts the calls).
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
  type Instance,
  type InstanceTypeInfo,
  type Tag,
  type Vpc,
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

/** A filter narrowing a list to the scope's VPCs; none when the scope is the whole Region. */
const vpcFilter = (vpcIds: readonly string[] | undefined, name = 'vpc-id') =>
  vpcIds ? [{ Name: name, Values: [...vpcIds] }] : undefined;

/** The VPC ids a narrowed scope names; absent: every VPC in the Region. */
type ScopeVpcIds = readonly string[] | undefined;

interface VpcsAndControls {
  readonly vpcs: Vpc[];
  readonly account: DescribeAccountVpcEncryptionControlResult['AccountVpcEncryptionControl'];
  readonly controlOfVpc: (vpc: Vpc) => EncryptionControlInput | null;
}

/** Values one EC2 filter takes at most (EC2 API Reference, "Filter": up to 200 values per filter). */
const FILTER_VALUES_MAX = 200;

/**
 * Every page of `read`, over the VPCs of `only` by the `vpc-id` filter (chunked), or over the whole Region.
 * A filter, not `VpcIds`: a VPC an event named may be gone by now, and naming it in `VpcIds` fails the whole
 * call with InvalidVpcID.NotFound (the CLI's vpc-exists waiter waits on exactly that error); a filter simply
 * matches nothing, so the other VPCs are still read.
 */
async function pagesOver<Page extends { NextToken?: string | undefined }, Item>(
  only: ScopeVpcIds,
  read: (request: {
    Filters?: { Name: string; Values: string[] }[];
    MaxResults: number;
    NextToken: string | undefined;
  }) => Promise<Page>,
  itemsOf: (page: Page) => readonly Item[] | undefined,
): Promise<Item[]> {
  if (!only) return allPages((NextToken) => read({ MaxResults: 1000, NextToken }), itemsOf);
  const items: Item[] = [];
  for (let i = 0; i < only.length; i += FILTER_VALUES_MAX) {
    const Values = only.slice(i, i + FILTER_VALUES_MAX);
    items.push(
      ...(await allPages(
        (NextToken) => read({ Filters: [{ Name: 'vpc-id', Values }], MaxResults: 1000, NextToken }),
        itemsOf,
      )),
    );
  }
  return items;
}

/** The VPCs, their encryption controls and the account-level control, read together. */
async function readVpcsAndControls(ec2: Ec2Gateway, only: ScopeVpcIds): Promise<VpcsAndControls> {
  const [vpcs, controls, account] = await Promise.all([
    pagesOver(
      only,
      (request) => ec2.read<DescribeVpcsResult>(new DescribeVpcsCommand(request)),
      (p) => p.Vpcs,
    ),
    pagesOver(
      only,
      (request) =>
        ec2.read<DescribeVpcEncryptionControlsResult>(new DescribeVpcEncryptionControlsCommand(request)),
      (p) => p.VpcEncryptionControls,
    ),
    ec2
      .read<DescribeAccountVpcEncryptionControlResult>(new DescribeAccountVpcEncryptionControlCommand({}))
      .then((r) => r.AccountVpcEncryptionControl),
  ]);
  const controlByVpc = new Map(controls.filter((c) => c.VpcId).map((c) => [c.VpcId as string, c]));
  return {
    vpcs,
    account,
    // DescribeVpcs may carry the control itself; DescribeVpcEncryptionControls is the fuller record when both exist.
    controlOfVpc: (vpc) => controlOf(controlByVpc.get(vpc.VpcId ?? '') ?? vpc.EncryptionControl),
  };
}

function readInstances(ec2: Ec2Gateway, only: ScopeVpcIds): Promise<Instance[]> {
  return allPages(
    (NextToken) =>
      ec2.read<DescribeInstancesResult>(
        new DescribeInstancesCommand({ MaxResults: 1000, NextToken, Filters: vpcFilter(only) }),
      ),
    (p) => p.Reservations?.flatMap((r) => r.Instances ?? []),
  );
}

/** Every type that can encrypt in transit: the candidates for a move (docs/design.md §2, "capable"). */
function readCapableTypes(ec2: Ec2Gateway): Promise<InstanceTypeInfo[]> {
  return allPages(
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
}

/** The capable types plus the types in use that are not among them (usually none: no extra call). */
async function readInstanceTypes(
  ec2: Ec2Gateway,
  instances: readonly Instance[],
  capable: readonly InstanceTypeInfo[],
): Promise<InstanceTypeInfo[]> {
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
}

/** GetVpcResourcesBlockingEncryptionEnforcement for each VPC, all at once (EC2's bucket paces them). */
function readBlockers(ec2: Ec2Gateway, vpcs: readonly Vpc[]): Promise<(readonly [string, RawBlocker[]])[]> {
  return Promise.all(
    vpcs.map(async (v) => {
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
}

/**
 * The enforced VPCs worth asking for blockers. An enforced VPC cannot gain a non-capable instance through
 * EC2's own checks, but one launched around them (or retyped) breaks enforcement: the suspects are the
 * enforced VPCs holding a live instance of a type not known to be capable (usually none).
 */
function enforcedSuspects(
  { vpcs, controlOfVpc }: VpcsAndControls,
  instances: readonly Instance[],
  capable: readonly InstanceTypeInfo[],
): Vpc[] {
  const capableTypes = new Set(capable.map((t) => t.InstanceType as string | undefined));
  const suspect = new Set(
    instances
      .filter((i) => !['terminated', 'shutting-down'].includes(i.State?.Name ?? ''))
      .filter((i) => i.InstanceType && !capableTypes.has(i.InstanceType))
      .map((i) => i.VpcId),
  );
  return vpcs.filter((v) => controlOfVpc(v)?.mode === 'enforce' && suspect.has(v.VpcId));
}

function readNetworkInterfaces(
  ec2: Ec2Gateway,
  only: ScopeVpcIds,
): Promise<InventorySnapshotInput['networkInterfaces']> {
  return allPages(
    (NextToken) =>
      ec2.read<DescribeNetworkInterfacesResult>(
        new DescribeNetworkInterfacesCommand({ MaxResults: 1000, NextToken, Filters: vpcFilter(only) }),
      ),
    (p) => p.NetworkInterfaces,
  ).then((enis) =>
    enis
      .filter((n) => n.NetworkInterfaceId && n.VpcId)
      .map((n) => ({
        networkInterfaceId: n.NetworkInterfaceId as string,
        vpcId: n.VpcId as string,
        interfaceType: n.InterfaceType ?? 'interface',
        requesterManaged: n.RequesterManaged ?? false,
        description: n.Description ?? '',
        instanceId: n.Attachment?.InstanceId,
      })),
  );
}

/** Transit Gateways with their attachments; a scope narrowed to some VPCs sees only those attached to them. */
function readTransitGateways(
  ec2: Ec2Gateway,
  only: ScopeVpcIds,
  vpcIds: ReadonlySet<string | undefined>,
): Promise<InventorySnapshotInput['transitGateways']> {
  return Promise.all([
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
  ]).then(([tgws, tgwAttachments]) =>
    tgws
      .filter((t) => t.TransitGatewayId && t.State !== 'deleted')
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
  );
}

/** Peerings (DescribeVpcPeeringConnections has no VPC filter: a narrowed scope keeps those touching its VPCs). */
function readPeerings(
  ec2: Ec2Gateway,
  only: ScopeVpcIds,
  vpcIds: ReadonlySet<string | undefined>,
): Promise<InventorySnapshotInput['peeringConnections']> {
  return allPages(
    (NextToken) =>
      ec2.read<DescribeVpcPeeringConnectionsResult>(
        new DescribeVpcPeeringConnectionsCommand({ MaxResults: 1000, NextToken }),
      ),
    (p) => p.VpcPeeringConnections,
  ).then((peerings) =>
    peerings
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
  );
}

/** Internet, egress-only, NAT and virtual private gateways, one entry per VPC attachment. */
function readGateways(
  ec2: Ec2Gateway,
  only: ScopeVpcIds,
  vpcIds: ReadonlySet<string | undefined>,
): Promise<InventorySnapshotInput['gateways']> {
  return Promise.all([
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
    // DescribeEgressOnlyInternetGateways has no VPC filter: a narrowed scope drops the other VPCs' below.
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
  ]).then(([igws, eigws, nats, vgws]) =>
    [
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
  );
}

function readFlowLogs(ec2: Ec2Gateway, only: ScopeVpcIds): Promise<InventorySnapshotInput['flowLogs']> {
  return allPages(
    (NextToken) =>
      ec2.read<DescribeFlowLogsResult>(
        new DescribeFlowLogsCommand({
          MaxResults: 1000,
          NextToken,
          Filter: vpcFilter(only, 'resource-id'),
        }),
      ),
    (p) => p.FlowLogs,
  ).then((flowLogs) =>
    flowLogs
      .filter((f) => f.FlowLogId && f.ResourceId)
      .map((f) => ({
        flowLogId: f.FlowLogId as string,
        resourceId: f.ResourceId as string,
        logFormat: f.LogFormat,
        destinationType: f.LogDestinationType ?? 'cloud-watch-logs',
      })),
  );
}

function instancesOf(instances: readonly Instance[]): InventorySnapshotInput['instances'] {
  return instances
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
    });
}

function instanceTypesOf(types: readonly InstanceTypeInfo[]): InventorySnapshotInput['instanceTypes'] {
  // One entry per type: the capable list and the in-use list could both describe one.
  const byType = new Map(types.map((t) => [t.InstanceType as string, t]));
  return [...byType.values()]
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
    }));
}

export async function readInventory(ec2: Ec2Gateway, scope: InventoryScope): Promise<InventorySnapshot> {
  const only = scope.vpcIds;
  const known = await readVpcsAndControls(ec2, only);
  const { vpcs, account, controlOfVpc } = known;
  const vpcIds = new Set(vpcs.map((v) => v.VpcId));

  // Blockers decide between READY_TO_ENFORCE and BLOCKED, which only exists for a VPC in monitor. They need
  // only the VPCs and their controls, and they are the calls that wait on EC2's bucket (one per VPC in
  // monitor): start them now, so that the other lists are read while they wait.
  const monitored = vpcs.filter((v) => controlOfVpc(v)?.mode === 'monitor');
  const instancesRead = readInstances(ec2, only);
  const capableRead = readCapableTypes(ec2);
  // Once the instances are known, the enforced VPCs holding a type not known to be capable are read too.
  const blockersRead = Promise.all([
    readBlockers(ec2, monitored),
    Promise.all([instancesRead, capableRead])
      .then(([instances, capable]) => enforcedSuspects(known, instances, capable))
      .then((suspects) => readBlockers(ec2, suspects)),
  ]).then(([first, second]) => [...first, ...second]);
  const typesRead = Promise.all([instancesRead, capableRead]).then(([instances, capable]) =>
    readInstanceTypes(ec2, instances, capable),
  );
  const [
    blockerLists,
    instances,
    networkInterfaces,
    transitGateways,
    peeringConnections,
    gateways,
    flowLogs,
    types,
  ] = await Promise.all([
    blockersRead,
    instancesRead,
    readNetworkInterfaces(ec2, only),
    readTransitGateways(ec2, only, vpcIds),
    readPeerings(ec2, only, vpcIds),
    readGateways(ec2, only, vpcIds),
    readFlowLogs(ec2, only),
    typesRead,
  ]);
  const blockersByVpc = new Map(blockerLists);

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
        control: controlOfVpc(v),
        blockers: blockersByVpc.get(v.VpcId as string) ?? [],
      })),
    instances: instancesOf(instances),
    networkInterfaces,
    instanceTypes: instanceTypesOf(types),
    transitGateways,
    peeringConnections,
    gateways,
    flowLogs,
  };
  return InventorySnapshotSchema.parse(snapshot);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
