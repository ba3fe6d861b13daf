/**
 * The audit: one verdict per VPC (docs/design.md §4), plus Transit Gateways and peerings, from one inventory
 * snapshot and the policy. Pure and deterministic: the same snapshot, policy and history give the same
 * report whatever the order of the snapshot's arrays, so findings and plans built on it are stable.
 *
 * Everything about the control is asynchronous and its state strings are open: a state vecguard does not
 * know is reported as TRANSITIONING (wait and look again), never thrown on and never guessed to be settled.
 *
 * This file gathers what the audit knows about each VPC; the verdict itself is decided by the rule table of
 * audit-rules.ts, one pure rule per verdict case.
 */
import { decideVerdict, type ExclusionAnalysis, enabledExclusions, listIds, norm } from './audit-rules.ts';
import { classifyBlocker, exclusionFor, indexNetworkInterfaces, kindOfNetworkInterface } from './blockers.ts';
import {
  type Blocker,
  type EncryptionControl,
  EXCLUSION_NAMES,
  type ExclusionName,
  type InventorySnapshot,
  MODE_TAG,
  type NetworkInterface,
  type PeeringConnection,
  type TransitGateway,
  type Vpc,
  vpcName,
} from './model.ts';
import { DesiredModeSchema, type Policy, type ResolvedVpcPolicy, resolveVpcPolicy } from './policy.ts';
import type {
  AuditReport,
  PeeringVerdict,
  TransitGatewayVerdict,
  VerdictHistory,
  VpcVerdict,
} from './verdict.ts';

export { enabledExclusions } from './audit-rules.ts';

/** Gateway states in which the gateway no longer carries traffic for the VPC. */
const GONE_STATES: ReadonlySet<string> = new Set(['deleted', 'deleting', 'detached', 'detaching', 'failed']);
/** Transit Gateway attachment states that no longer count. */
const GONE_ATTACHMENT_STATES: ReadonlySet<string> = new Set([
  'deleted',
  'deleting',
  'failed',
  'failing',
  'rejected',
  'rejecting',
]);
/**
 * Attachment types with which ModifyTransitGateway EncryptionSupport=enable is refused (docs/design.md §2:
 * Connect, peering, Network Firewall (`network-function`), VPN Concentrator).
 */
const TGW_INCOMPATIBLE_ATTACHMENTS: Readonly<Record<string, string>> = {
  connect: 'Connect',
  peering: 'peering',
  'tgw-peering': 'peering',
  'network-function': 'Network Firewall (network-function)',
  'vpn-concentrator': 'VPN Concentrator',
};
/** Kinds of network interface that need their exclusion whether or not AWS lists them as blockers. */
const ENI_EXCLUSION_KINDS = new Set([
  'lambda',
  'vpc-lattice',
  'elastic-file-system',
  'global-accelerator',
  'api-gateway-v2',
  'nat-gateway',
]);
function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(byString);
}

function sortedExclusions(names: Iterable<ExclusionName>): ExclusionName[] {
  const set = new Set(names);
  return EXCLUSION_NAMES.filter((n) => set.has(n));
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Is the control settled in `mode` (state available)? */
function isSettledIn(control: EncryptionControl | null | undefined, mode: 'monitor' | 'enforce'): boolean {
  return control?.mode === mode && norm(control.state) === 'available';
}

/** Everything the per-VPC audit looks up, indexed once. */
interface AuditContext {
  readonly snapshot: InventorySnapshot;
  readonly managedElsewhere: boolean;
  readonly vpcById: ReadonlyMap<string, Vpc>;
  readonly resolved: ReadonlyMap<string, ResolvedVpcPolicy>;
  /** Network interfaces by VPC, then by id: a blocker is an interface of the VPC it blocks. */
  readonly enisInVpc: ReadonlyMap<string, ReadonlyMap<string, NetworkInterface>>;
  readonly enisByVpc: ReadonlyMap<string, NetworkInterface[]>;
  readonly gatewaysByVpc: ReadonlyMap<string, InventorySnapshot['gateways']>;
  readonly peeringById: ReadonlyMap<string, PeeringConnection>;
  readonly activePeeringsByVpc: ReadonlyMap<string, PeeringConnection[]>;
}

function buildContext(snapshot: InventorySnapshot, policy: Policy): AuditContext {
  const managedElsewhere = norm(snapshot.accountControl?.managedBy ?? '') === 'declarative-policy';
  const vpcById = new Map(snapshot.vpcs.map((v) => [v.vpcId, v]));
  const resolved = new Map(
    snapshot.vpcs.map((v) => [
      v.vpcId,
      resolveVpcPolicy(policy, {
        accountId: snapshot.accountId,
        region: snapshot.region,
        organizationalUnitIds: snapshot.organizationalUnitIds,
        tags: v.tags,
      }),
    ]),
  );
  const enisByVpc = new Map<string, NetworkInterface[]>();
  for (const eni of snapshot.networkInterfaces) pushTo(enisByVpc, eni.vpcId, eni);
  const gatewaysByVpc = new Map<string, InventorySnapshot['gateways']>();
  for (const gw of snapshot.gateways) {
    if (!GONE_STATES.has(norm(gw.state))) pushTo(gatewaysByVpc, gw.vpcId, gw);
  }
  const activePeeringsByVpc = new Map<string, PeeringConnection[]>();
  for (const pcx of snapshot.peeringConnections) {
    if (norm(pcx.status) !== 'active') continue;
    pushTo(activePeeringsByVpc, pcx.requesterVpcId, pcx);
    if (pcx.accepterVpcId !== pcx.requesterVpcId) pushTo(activePeeringsByVpc, pcx.accepterVpcId, pcx);
  }
  return {
    snapshot,
    managedElsewhere,
    vpcById,
    resolved,
    enisInVpc: new Map([...enisByVpc].map(([vpcId, enis]) => [vpcId, indexNetworkInterfaces(enis)])),
    enisByVpc,
    gatewaysByVpc,
    peeringById: new Map(snapshot.peeringConnections.map((p) => [p.peeringConnectionId, p])),
    activePeeringsByVpc,
  };
}

/** The other side of a peering, seen from `vpcId`. */
function peerOf(pcx: PeeringConnection, vpcId: string): { vpcId: string; region: string | undefined } {
  return pcx.requesterVpcId === vpcId
    ? { vpcId: pcx.accepterVpcId, region: pcx.accepterRegion }
    : { vpcId: pcx.requesterVpcId, region: pcx.requesterRegion };
}

/** The peer is a VPC of this snapshot (same account) in the snapshot's Region. */
function peerInSnapshot(ctx: AuditContext, pcx: PeeringConnection, vpcId: string): Vpc | undefined {
  const peer = peerOf(pcx, vpcId);
  if (peer.vpcId === vpcId) return undefined;
  if (peer.region !== undefined && peer.region !== ctx.snapshot.region) return undefined;
  return ctx.vpcById.get(peer.vpcId);
}

/** Traffic over the peering is encrypted end to end from this side: the peer is a same-Region VPC in enforce. */
function peeringEncryptedFrom(ctx: AuditContext, pcx: PeeringConnection, vpcId: string): boolean {
  return isSettledIn(peerInSnapshot(ctx, pcx, vpcId)?.control, 'enforce');
}

/**
 * A VpcPeering exclusion is acceptable for a while, whatever the policy says, when the peer is a same-Region
 * VPC of this snapshot that the policy also wants in enforce: once both are enforced the peering is encrypted
 * end to end and the exclusion can go.
 */
function peeringIsTemporary(ctx: AuditContext, pcx: PeeringConnection, vpcId: string): boolean {
  const peer = peerInSnapshot(ctx, pcx, vpcId);
  return peer !== undefined && ctx.resolved.get(peer.vpcId)?.mode === 'enforce';
}

function analyseExclusions(
  ctx: AuditContext,
  vpc: Vpc,
  blockers: readonly Blocker[],
  resolved: ResolvedVpcPolicy,
): ExclusionAnalysis {
  const needed = new Set<ExclusionName>();
  // AWS may or may not keep listing a resource once its exclusion is on: read the inventory as well.
  for (const b of blockers) {
    const exclusion = b.isExcludable ? exclusionFor(b.kind) : undefined;
    if (exclusion) needed.add(exclusion);
  }
  for (const gw of ctx.gatewaysByVpc.get(vpc.vpcId) ?? []) {
    const exclusion = exclusionFor(gw.kind);
    if (exclusion) needed.add(exclusion);
  }
  for (const eni of ctx.enisByVpc.get(vpc.vpcId) ?? []) {
    const { kind } = kindOfNetworkInterface(eni);
    const exclusion = ENI_EXCLUSION_KINDS.has(kind) ? exclusionFor(kind) : undefined;
    if (exclusion) needed.add(exclusion);
  }
  const openPeerings = (ctx.activePeeringsByVpc.get(vpc.vpcId) ?? []).filter(
    (pcx) => !peeringEncryptedFrom(ctx, pcx, vpc.vpcId),
  );
  if (openPeerings.length > 0) needed.add('VpcPeering');

  if (resolved.mode === 'ignore') {
    return { needed: sortedExclusions(needed), refused: [], temporaryPeeringVia: [] };
  }
  const acceptable = new Set(resolved.acceptableExclusions);
  const refused = [...needed].filter((e) => !acceptable.has(e));
  let temporaryPeeringVia: string[] = [];
  if (refused.includes('VpcPeering')) {
    // Every peering behind the need, listed as a blocker or found in the inventory, must qualify.
    const peeringIds = sortedUnique([
      ...openPeerings.map((p) => p.peeringConnectionId),
      ...blockers.filter((b) => b.kind === 'vpc-peering' && b.isExcludable).map((b) => b.id),
    ]);
    const allTemporary = peeringIds.every((id) => {
      const pcx = ctx.peeringById.get(id);
      return pcx !== undefined && peeringIsTemporary(ctx, pcx, vpc.vpcId);
    });
    if (allTemporary) temporaryPeeringVia = peeringIds;
  }
  return {
    needed: sortedExclusions(needed),
    refused: sortedExclusions(refused.filter((e) => e !== 'VpcPeering' || temporaryPeeringVia.length === 0)),
    temporaryPeeringVia,
  };
}

function modeTagReason(vpc: Vpc, resolved: ResolvedVpcPolicy): string[] {
  const value = vpc.tags[MODE_TAG];
  if (value === undefined || DesiredModeSchema.safeParse(value.trim().toLowerCase()).success) return [];
  return [
    `The ${MODE_TAG} tag value ${JSON.stringify(value)} is not enforce, monitor or ignore; it was ignored and the mode comes from ${resolved.source}.`,
  ];
}

function auditVpc(ctx: AuditContext, vpc: Vpc, history: VerdictHistory): VpcVerdict {
  const resolved = ctx.resolved.get(vpc.vpcId) as ResolvedVpcPolicy;
  const blockers = vpc.blockers
    .map((raw) => classifyBlocker(raw, ctx.enisInVpc.get(vpc.vpcId) ?? []))
    .sort(
      (a, b) =>
        byString(a.id, b.id) ||
        byString(a.type, b.type) ||
        byString(a.description, b.description) ||
        Number(a.isExcludable) - Number(b.isExcludable),
    );
  const exclusions = analyseExclusions(ctx, vpc, blockers, resolved);
  const control = vpc.control;
  const { verdict, reasons } = decideVerdict({
    managedElsewhere: ctx.managedElsewhere,
    accountMode: ctx.snapshot.accountControl?.mode,
    desired: resolved,
    control,
    blockers,
    exclusions,
    previous: Object.hasOwn(history, vpc.vpcId) ? history[vpc.vpcId] : undefined,
  });

  return {
    vpcId: vpc.vpcId,
    name: vpcName(vpc),
    accountId: ctx.snapshot.accountId,
    region: ctx.snapshot.region,
    verdict,
    desiredMode: resolved.mode,
    policySource: resolved.source,
    currentMode: control?.mode ?? null,
    controlState: control?.state ?? null,
    // A mode tag vecguard could not read is said first, whatever the verdict: it explains the desired mode.
    reasons: [...modeTagReason(vpc, resolved), ...reasons],
    blockers,
    exclusionsNeeded: [...exclusions.needed],
    exclusionsRefused: [...exclusions.refused],
    exclusionsEnabled: enabledExclusions(control),
  };
}

function auditTransitGateway(
  snapshot: InventorySnapshot,
  tgw: TransitGateway,
): TransitGatewayVerdict | undefined {
  const tgwState = norm(tgw.state);
  if (tgwState === 'deleted' || tgwState === 'deleting') return undefined;
  const live = tgw.attachments.filter((a) => !GONE_ATTACHMENT_STATES.has(norm(a.state)));
  const attachedVpcIds = sortedUnique(
    live.filter((a) => norm(a.resourceType) === 'vpc' && a.resourceId).map((a) => a.resourceId as string),
  );
  const support = norm(tgw.encryptionSupport);
  const reasons: string[] = [];
  let verdict: TransitGatewayVerdict['verdict'];
  let unmetPreconditions: string[] = [];

  if (support === 'enable' || support === 'enabled') {
    verdict = 'TGW_ENCRYPTION_ENABLED';
    reasons.push('Encryption support is enabled: traffic between enforced VPCs through it is encrypted.');
  } else if (support === 'disable' || support === 'disabled' || support === 'disabling') {
    verdict = 'TGW_ENCRYPTION_DISABLED';
    unmetPreconditions = [
      ...live
        .filter((a) => TGW_INCOMPATIBLE_ATTACHMENTS[norm(a.resourceType)] !== undefined)
        .sort((a, b) => byString(a.attachmentId, b.attachmentId))
        .map(
          (a) =>
            `It has a ${TGW_INCOMPATIBLE_ATTACHMENTS[norm(a.resourceType)]} attachment (${a.attachmentId}); remove it first.`,
        ),
      ...(tgw.securityGroupReferencingSupport
        ? ['Security group referencing is on; turn it off first.']
        : []),
      ...(tgw.multicastSupport ? ['Multicast is on; turn it off first.'] : []),
    ];
    reasons.push(
      support === 'disabling'
        ? 'Encryption support is being disabled: traffic through it will not be encrypted end to end.'
        : 'Encryption support is not enabled: traffic between VPCs through it is not encrypted end to end.',
    );
    if (attachedVpcIds.length > 0) {
      reasons.push(
        `Enabling it bills every attached VPC (${attachedVpcIds.length}): ${listIds(attachedVpcIds)}.`,
      );
    }
    reasons.push(
      unmetPreconditions.length === 0
        ? 'Nothing prevents enabling it (ModifyTransitGateway EncryptionSupport=enable).'
        : `${unmetPreconditions.length} precondition(s) of enabling it do not hold.`,
    );
  } else {
    verdict = 'TGW_ENCRYPTION_ENABLING';
    reasons.push(
      support === 'enabling'
        ? 'Encryption support is being enabled; this can take up to 14 days.'
        : `Encryption support is in ${JSON.stringify(tgw.encryptionSupport)}, a state vecguard does not know; it is treated as in transition.`,
    );
  }
  if (tgw.encryptionSupportMessage) reasons.push(`AWS says: ${tgw.encryptionSupportMessage}`);

  return {
    transitGatewayId: tgw.transitGatewayId,
    accountId: snapshot.accountId,
    region: snapshot.region,
    verdict,
    encryptionSupport: tgw.encryptionSupport,
    unmetPreconditions,
    attachedVpcIds,
    reasons,
  };
}

function auditPeering(ctx: AuditContext, pcx: PeeringConnection): PeeringVerdict {
  const base = {
    peeringConnectionId: pcx.peeringConnectionId,
    accountId: ctx.snapshot.accountId,
    region: ctx.snapshot.region,
    requesterVpcId: pcx.requesterVpcId,
    accepterVpcId: pcx.accepterVpcId,
  };
  if (norm(pcx.status) !== 'active') {
    return {
      ...base,
      verdict: 'PEERING_NOT_APPLICABLE',
      needsExclusionOn: [],
      reasons: [`The peering is ${pcx.status}, not active: it carries no traffic.`],
    };
  }
  const sides = sortedUnique([pcx.requesterVpcId, pcx.accepterVpcId])
    .map((id) => ctx.vpcById.get(id))
    .filter((v): v is Vpc => v !== undefined);
  const holdsExclusion = (v: Vpc) => enabledExclusions(v.control).includes('VpcPeering');
  const bothEnforcedHere =
    sides.length === 2 &&
    peeringEncryptedFrom(ctx, pcx, pcx.requesterVpcId) &&
    peeringEncryptedFrom(ctx, pcx, pcx.accepterVpcId);

  if (bothEnforcedHere && !sides.some(holdsExclusion)) {
    return {
      ...base,
      verdict: 'PEERING_ENCRYPTED',
      needsExclusionOn: [],
      reasons: [
        'Both VPCs are in this Region and enforced without a VpcPeering exclusion: encrypted end to end.',
      ],
    };
  }
  if (bothEnforcedHere) {
    // Both sides are enforced: only the exclusion(s) still held stand between the peering and end-to-end.
    const holders = sides.filter(holdsExclusion).map((v) => v.vpcId);
    return {
      ...base,
      verdict: 'PEERING_NEEDS_EXCLUSION',
      needsExclusionOn: holders,
      reasons: [
        `Both VPCs are enforced; the VpcPeering exclusion on ${holders.join(', ')} is no longer needed and can be disabled so the peering is encrypted end to end.`,
      ],
    };
  }
  const needsExclusionOn = sides
    .filter(
      (v) =>
        !ctx.managedElsewhere &&
        (v.control?.mode === 'enforce' || ctx.resolved.get(v.vpcId)?.mode === 'enforce' || holdsExclusion(v)),
    )
    .map((v) => v.vpcId);
  if (needsExclusionOn.length === 0) {
    return {
      ...base,
      verdict: 'PEERING_NOT_APPLICABLE',
      needsExclusionOn: [],
      reasons: [
        ctx.managedElsewhere
          ? 'A declarative policy manages this account: the peering is reported only through its VPCs.'
          : 'Neither VPC of this account is in enforce or heading there: no exclusion is needed for this peering.',
      ],
    };
  }
  const crossRegion =
    (pcx.requesterRegion !== undefined && pcx.requesterRegion !== ctx.snapshot.region) ||
    (pcx.accepterRegion !== undefined && pcx.accepterRegion !== ctx.snapshot.region);
  const reasons = [
    crossRegion
      ? 'The peering crosses Regions: it is never encrypted end to end, so an enforced side needs the VpcPeering exclusion.'
      : sides.length < 2
        ? 'The other VPC is not in this account and Region snapshot: its mode is unknown, so an enforced side needs the VpcPeering exclusion.'
        : 'Not both VPCs are enforced yet: an enforced side needs the VpcPeering exclusion until both are.',
  ];
  return { ...base, verdict: 'PEERING_NEEDS_EXCLUSION', needsExclusionOn, reasons };
}

/**
 * Audit one account + Region. `history` maps a VPC id to its previous verdict, to tell DRIFTED from
 * never-enforced.
 */
export function audit(
  snapshot: InventorySnapshot,
  policy: Policy,
  history: VerdictHistory = {},
): AuditReport {
  const ctx = buildContext(snapshot, policy);
  const vpcs = [...snapshot.vpcs]
    .sort((a, b) => byString(a.vpcId, b.vpcId))
    .map((vpc) => auditVpc(ctx, vpc, history));
  const transitGateways = [...snapshot.transitGateways]
    .sort((a, b) => byString(a.transitGatewayId, b.transitGatewayId))
    .map((tgw) => auditTransitGateway(snapshot, tgw))
    .filter((v): v is TransitGatewayVerdict => v !== undefined);
  const peerings = [...snapshot.peeringConnections]
    .sort((a, b) => byString(a.peeringConnectionId, b.peeringConnectionId))
    .map((pcx) => auditPeering(ctx, pcx));
  return {
    accountId: snapshot.accountId,
    region: snapshot.region,
    takenAt: snapshot.takenAt,
    managedElsewhere: ctx.managedElsewhere,
    vpcs,
    transitGateways,
    peerings,
  };
}
