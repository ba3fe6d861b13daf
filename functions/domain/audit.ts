/**
 * The audit: one verdict per VPC (docs/design.md §4), plus Transit Gateways and peerings, from one inventory
 * snapshot and the policy. Pure and deterministic: the same snapshot, policy and history give the same
 * report whatever the order of the snapshot's arrays, so findings and plans built on it are stable.
 *
 * Everything about the control is asynchronous and its state strings are open: a state vecguard does not
 * know is reported as TRANSITIONING (wait and look again), never thrown on and never guessed to be settled.
 */
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
  VerdictKind,
  VpcVerdict,
} from './verdict.ts';

const FAILED_STATES: ReadonlySet<string> = new Set(['monitor-failed', 'enforce-failed', 'delete-failed']);
const SETTLED_EXCLUSION_STATES: ReadonlySet<string> = new Set(['enabled', 'disabled']);
const ACTIVE_EXCLUSION_STATES: ReadonlySet<string> = new Set(['enabled', 'enabling']);
const WAS_ENFORCED: ReadonlySet<VerdictKind> = new Set(['ENFORCED', 'ENFORCED_WITH_EXCLUSIONS', 'DRIFTED']);
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
/** How many resource ids a reason names before it says "and N more". */
const MAX_IDS_IN_REASON = 10;

function norm(state: string): string {
  return state.trim().toLowerCase();
}

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

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_REASON).join(', ');
  return ids.length > MAX_IDS_IN_REASON ? `${shown} and ${ids.length - MAX_IDS_IN_REASON} more` : shown;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The exclusions whose state is enabled or enabling. */
export function enabledExclusions(control: EncryptionControl | null): ExclusionName[] {
  if (!control) return [];
  return EXCLUSION_NAMES.filter((name) => {
    const status = control.exclusions[name];
    return status !== undefined && ACTIVE_EXCLUSION_STATES.has(norm(status.state));
  });
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

interface ExclusionAnalysis {
  readonly needed: ExclusionName[];
  readonly refused: ExclusionName[];
  /** Set when VpcPeering is needed, refused by the policy, but accepted for now (see `peeringIsTemporary`). */
  readonly temporaryPeeringVia: string[];
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

function describeBlocker(b: Blocker): string {
  return `${b.id} (${b.kind})`;
}

/** Why a VPC in monitor cannot be enforced yet; empty when it can. */
function readinessProblems(blockers: readonly Blocker[], exclusions: ExclusionAnalysis): string[] {
  const problems: string[] = [];
  const nonExcludable = blockers.filter((b) => !b.isExcludable);
  if (nonExcludable.length > 0) {
    problems.push(
      `${nonExcludable.length} blocking resource(s) have no exclusion and must be moved or removed: ${listIds(nonExcludable.map(describeBlocker))}.`,
    );
  }
  // AWS says excludable but vecguard cannot tell which exclusion: never guess, keep the VPC blocked.
  const unmapped = blockers.filter((b) => b.isExcludable && exclusionFor(b.kind) === undefined);
  if (unmapped.length > 0) {
    problems.push(
      `AWS reports ${listIds(unmapped.map(describeBlocker))} as excludable, but vecguard cannot tell which exclusion covers it; check it by hand.`,
    );
  }
  if (exclusions.refused.length > 0) {
    problems.push(
      `Enforce needs the exclusion(s) ${exclusions.refused.join(', ')}, which the policy does not accept.`,
    );
  }
  return problems;
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
  const previous = Object.hasOwn(history, vpc.vpcId) ? history[vpc.vpcId] : undefined;
  const wasEnforced = previous !== undefined && WAS_ENFORCED.has(previous);

  const reasons: string[] = modeTagReason(vpc, resolved);
  const verdict = decide();
  const exclusionsEnabled = enabledExclusions(control);

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
    reasons,
    blockers,
    exclusionsNeeded: exclusions.needed,
    exclusionsRefused: exclusions.refused,
    exclusionsEnabled,
  };

  function decide(): VerdictKind {
    if (ctx.managedElsewhere) {
      const mode = ctx.snapshot.accountControl?.mode ?? 'unknown';
      reasons.push(
        `A declarative policy manages VPC encryption controls in this account (account mode ${mode}); vecguard reports and does not act.`,
        control
          ? `The VPC's control is in ${control.mode} mode, state ${control.state}.`
          : 'The VPC has no encryption control.',
      );
      return 'MANAGED_ELSEWHERE';
    }
    if (resolved.mode === 'ignore') {
      reasons.push(
        `The policy exempts this VPC (${resolved.source}); vecguard reports it and never acts on it.`,
      );
      return 'EXEMPT';
    }
    const monitorWanted =
      resolved.mode === 'monitor' ? `The policy asks for monitor (${resolved.source}).` : undefined;
    const drift =
      wasEnforced && resolved.mode === 'enforce'
        ? `The previous audit found it ${previous}: it was enforced and no longer is.`
        : undefined;

    if (!control || norm(control.state) === 'deleted') {
      reasons.push(
        control
          ? `Its encryption control ${control.controlId} has been deleted: traffic is neither monitored nor enforced.`
          : 'The VPC has no encryption control: traffic is neither monitored nor enforced.',
      );
      if (monitorWanted) reasons.push(monitorWanted);
      if (drift) reasons.push(drift);
      return 'UNMONITORED';
    }

    const state = norm(control.state);
    if (FAILED_STATES.has(state)) {
      reasons.push(
        `The control ${control.controlId} is in ${control.state}: ${control.stateMessage ?? 'AWS gave no StateMessage'}.`,
      );
      if (drift) reasons.push(drift);
      return 'TRANSITION_FAILED';
    }
    if (state !== 'available') {
      const known = ['creating', 'monitor-in-progress', 'enforce-in-progress', 'deleting'].includes(state);
      reasons.push(
        known
          ? `The control ${control.controlId} is in ${control.state} (mode ${control.mode}); wait for it to settle.`
          : `The control ${control.controlId} is in ${JSON.stringify(control.state)}, a state vecguard does not know; it is treated as in transition.`,
      );
      if (control.stateMessage) reasons.push(`AWS says: ${control.stateMessage}`);
      if (drift) reasons.push(drift);
      return 'TRANSITIONING';
    }
    const moving = EXCLUSION_NAMES.flatMap((name) => {
      const status = control.exclusions[name];
      if (status === undefined || SETTLED_EXCLUSION_STATES.has(norm(status.state))) return [];
      const message = status.stateMessage ? ` (${status.stateMessage})` : '';
      return [`${name} ${status.state}${message}`];
    });
    if (moving.length > 0) {
      reasons.push(`Exclusion(s) still changing: ${moving.join(', ')}; wait for them to settle.`);
      if (drift) reasons.push(drift);
      return 'TRANSITIONING';
    }

    const enabled = enabledExclusions(control);
    if (control.mode === 'enforce') {
      const hard = blockers.filter((b) => !b.isExcludable);
      if (hard.length > 0) {
        reasons.push(
          `The control is in enforce, but ${hard.length} resource(s) that cannot encrypt in transit are in the VPC (they got in around the enforcement check): ${listIds(hard.map(describeBlocker))}.`,
        );
        if (wasEnforced)
          reasons.push(`The previous audit found it ${previous}: it was enforced and no longer is.`);
        return wasEnforced ? 'DRIFTED' : 'BLOCKED';
      }
      const refusedEnabled = enabled.filter((e) => exclusions.refused.includes(e));
      const unneeded = enabled.filter((e) => !exclusions.needed.includes(e));
      reasons.push(
        enabled.length === 0
          ? 'Encryption in transit is enforced, with no exclusions.'
          : `Encryption in transit is enforced, with the exclusion(s) ${enabled.join(', ')}.`,
      );
      if (refusedEnabled.length > 0) {
        reasons.push(`The policy does not accept the enabled exclusion(s) ${refusedEnabled.join(', ')}.`);
      }
      if (unneeded.length > 0) {
        reasons.push(`Nothing in the inventory needs the exclusion(s) ${unneeded.join(', ')} any more.`);
      }
      if (monitorWanted) reasons.push(`${monitorWanted} vecguard does not weaken an enforced VPC.`);
      return enabled.length === 0 ? 'ENFORCED' : 'ENFORCED_WITH_EXCLUSIONS';
    }

    // Monitor, settled.
    const problems = readinessProblems(blockers, exclusions);
    const temporary =
      exclusions.temporaryPeeringVia.length > 0
        ? `The VpcPeering exclusion is accepted for now: ${listIds(exclusions.temporaryPeeringVia)} lead(s) to VPCs the policy also wants in enforce; once both sides are enforced it can be disabled.`
        : undefined;
    if (drift) {
      reasons.push(`${drift} The control is back in monitor.`, ...problems);
      if (problems.length === 0) reasons.push('Nothing blocks enforce: it can be restored.');
      if (temporary) reasons.push(temporary);
      return 'DRIFTED';
    }
    if (monitorWanted) {
      reasons.push(
        `${monitorWanted} The VPC is in monitor, where it should be; this verdict says whether enforce would be possible.`,
      );
    }
    if (problems.length > 0) {
      reasons.push(...problems);
      return 'BLOCKED';
    }
    reasons.push(
      exclusions.needed.length === 0
        ? 'The VPC is in monitor and nothing blocks enforce.'
        : `The VPC is in monitor and every blocker is covered by an acceptable exclusion: ${exclusions.needed.join(', ')}.`,
    );
    if (temporary) reasons.push(temporary);
    return 'READY_TO_ENFORCE';
  }
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
