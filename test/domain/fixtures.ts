/**
 * Test data for the domain: small readable builders for inventory snapshots and policies, and fast-check
 * arbitraries for wide inputs, and audit-log attempts for the run summary. Shared by the audit, planner,
 * findings and run-summary tests.
 *
 *   const s = snapshot({ vpcs: [vpc('vpc-a', { control: control('monitor'), blockers: [blocker('igw-1')] })] });
 *   fc.assert(fc.property(arbSnapshot(), arbPolicy(), (s, p) => …));
 *
 * Builders return schema *inputs* for parts (so defaults stay the schema's) and parsed values for the whole
 * (`snapshot`, `policy`), exactly what the domain functions take.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { ActionKindSchema, type ActionOutcome } from '../../functions/domain/action-kinds.ts';
import {
  CONTROL_STATES,
  type EncryptionControlSchema,
  EXCLUSION_NAMES,
  EXCLUSION_STATES,
  type ExclusionName,
  type ExclusionStatus,
  GATEWAY_KINDS,
  type GatewaySchema,
  IGNORE_TAG,
  type InventorySnapshot,
  type InventorySnapshotInput,
  InventorySnapshotSchema,
  MODE_TAG,
  type NetworkInterfaceSchema,
  type PeeringConnectionSchema,
  type RawBlocker,
  type TransitGatewayAttachmentSchema,
  type TransitGatewaySchema,
  type VpcSchema,
} from '../../functions/domain/model.ts';
import { type Policy, type PolicyInput, validatePolicy } from '../../functions/domain/policy.ts';
import type { ActionAttempt } from '../../functions/domain/run-summary.ts';

export type VpcInput = z.input<typeof VpcSchema>;
export type ControlInput = z.input<typeof EncryptionControlSchema>;
export type NetworkInterfaceInput = z.input<typeof NetworkInterfaceSchema>;
export type PeeringInput = z.input<typeof PeeringConnectionSchema>;
export type GatewayInput = z.input<typeof GatewaySchema>;
export type TransitGatewayInput = z.input<typeof TransitGatewaySchema>;
export type AttachmentInput = z.input<typeof TransitGatewayAttachmentSchema>;

export const ACCOUNT_ID = '111122223333';
export const OTHER_ACCOUNT_ID = '444455556666';
export const REGION = 'eu-west-1';
export const OTHER_REGION = 'us-east-1';
export const TAKEN_AT = '2026-01-15T10:00:00.000Z';

// ---------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------

/** A parsed snapshot of ACCOUNT_ID in REGION; anything given replaces the default. */
export function snapshot(partial: Partial<InventorySnapshotInput> = {}): InventorySnapshot {
  return InventorySnapshotSchema.parse({
    accountId: ACCOUNT_ID,
    region: REGION,
    takenAt: TAKEN_AT,
    ...partial,
  });
}

/** A VPC with no control (UNMONITORED) unless `init.control` says otherwise. */
export function vpc(vpcId: string, init: Partial<VpcInput> = {}): VpcInput {
  return { vpcId, control: null, ...init };
}

/**
 * An encryption control. Exclusions are given by state: `{ InternetGateway: 'enabled' }`, or with a message:
 * `{ Lambda: { state: 'enabling', stateMessage: '…' } }`.
 */
export function control(
  mode: 'monitor' | 'enforce',
  init: {
    state?: string;
    stateMessage?: string;
    controlId?: string;
    exclusions?: Partial<Record<ExclusionName, string | ExclusionStatus>>;
  } = {},
): ControlInput {
  const exclusions = Object.fromEntries(
    Object.entries(init.exclusions ?? {}).map(([name, status]) => [
      name,
      typeof status === 'string' ? { state: status } : status,
    ]),
  );
  return {
    controlId: init.controlId ?? 'vpcec-0123456789abcdef0',
    mode,
    state: init.state ?? 'available',
    ...(init.stateMessage === undefined ? {} : { stateMessage: init.stateMessage }),
    exclusions,
  };
}

/** Prefixes whose resources AWS can exclude; the builder's default for `isExcludable`. */
const EXCLUDABLE_PREFIXES = ['igw-', 'eigw-', 'nat-', 'vgw-', 'pcx-', 'fs-', 'fsmt-'];

/** A blocker as AWS returns it; `isExcludable` defaults from the id prefix (gateways, peering, EFS). */
export function blocker(id: string, init: Partial<RawBlocker> = {}): RawBlocker {
  return {
    id,
    type: init.type ?? '',
    description: init.description ?? '',
    isExcludable: init.isExcludable ?? EXCLUDABLE_PREFIXES.some((p) => id.startsWith(p)),
  };
}

export function eni(
  networkInterfaceId: string,
  vpcId: string,
  init: Partial<NetworkInterfaceInput> = {},
): NetworkInterfaceInput {
  return { networkInterfaceId, vpcId, ...init };
}

const GATEWAY_PREFIX: Readonly<Record<string, (typeof GATEWAY_KINDS)[number]>> = {
  igw: 'internet-gateway',
  eigw: 'egress-only-internet-gateway',
  nat: 'nat-gateway',
  vgw: 'virtual-private-gateway',
};

/** A gateway attached to a VPC; the kind comes from the id prefix (`igw-`, `eigw-`, `nat-`, `vgw-`). */
export function gateway(gatewayId: string, vpcId: string, init: Partial<GatewayInput> = {}): GatewayInput {
  const kind = GATEWAY_PREFIX[gatewayId.split('-')[0] ?? ''];
  if (!kind && !init.kind) throw new Error(`gateway(${gatewayId}): say the kind or use igw-/eigw-/nat-/vgw-`);
  return { gatewayId, vpcId, kind: (init.kind ?? kind) as GatewayInput['kind'], ...init };
}

/** An active same-Region peering between two VPCs of ACCOUNT_ID. */
export function peering(
  peeringConnectionId: string,
  requesterVpcId: string,
  accepterVpcId: string,
  init: Partial<PeeringInput> = {},
): PeeringInput {
  return { peeringConnectionId, requesterVpcId, accepterVpcId, status: 'active', ...init };
}

export function transitGateway(
  transitGatewayId: string,
  init: Partial<TransitGatewayInput> = {},
): TransitGatewayInput {
  return { transitGatewayId, ...init };
}

export function vpcAttachment(attachmentId: string, vpcId: string, state = 'available'): AttachmentInput {
  return { attachmentId, resourceType: 'vpc', resourceId: vpcId, state };
}

/** A parsed policy; `{ version: 1 }` plus whatever is given. */
export function policy(input: Omit<PolicyInput, 'version'> = {}): Policy {
  return validatePolicy({ version: 1, ...input });
}

export const RUN_ID = 'run-20260115T100000Z-0123abcd';

/** `seconds` after TAKEN_AT, as the audit log writes times. */
export function secondsAfter(seconds: number): string {
  return new Date(Date.parse(TAKEN_AT) + seconds * 1000).toISOString();
}

/**
 * One attempt at an action of RUN_ID, as the audit log records it; kind and resource come from the id
 * (`switch-to-enforce:vpc-a` → kind `switch-to-enforce` on `vpc-a`), as the planner makes them.
 */
export function attempt(
  actionId: string,
  outcome: ActionOutcome,
  at: string,
  init: Partial<ActionAttempt> = {},
): ActionAttempt {
  const [kind, resourceId] = actionId.split(':');
  return {
    at,
    actionId,
    runId: RUN_ID,
    kind: ActionKindSchema.parse(kind),
    resourceId: resourceId ?? actionId,
    approvedBy: 'auto',
    outcome,
    ...(outcome === 'failed' ? { error: 'InvalidParameterValue: refused.' } : {}),
    ...init,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------

/** `length` lower-case hex digits (at most 13), the shape of AWS resource-id suffixes. */
const hex = (length: number) =>
  fc.integer({ min: 0, max: 16 ** length - 1 }).map((n) => n.toString(16).padStart(length, '0'));

/** Control states: every documented one, the old `modify-in-progress`, and strings nobody has seen. */
export const arbControlState = (): fc.Arbitrary<string> =>
  fc.oneof(
    // Settled controls are where most verdicts are decided: weight them up.
    { weight: 5, arbitrary: fc.constant('available') },
    { weight: 4, arbitrary: fc.constantFrom(...CONTROL_STATES) },
    { weight: 1, arbitrary: fc.constant('modify-in-progress') },
    { weight: 1, arbitrary: arbUnknownState() },
  );

/** A non-empty state string that is none of the documented ones (control or exclusion). */
export const arbUnknownState = (): fc.Arbitrary<string> =>
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter(
      (s) =>
        s.trim() !== '' &&
        !(CONTROL_STATES as readonly string[]).includes(s.trim().toLowerCase()) &&
        !(EXCLUSION_STATES as readonly string[]).includes(s.trim().toLowerCase()),
    );

const arbExclusionState = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('enabled', 'disabled') },
    { weight: 2, arbitrary: fc.constantFrom(...EXCLUSION_STATES) },
    { weight: 1, arbitrary: arbUnknownState() },
  );

export const arbControl = (): fc.Arbitrary<ControlInput> =>
  fc.record({
    controlId: hex(8).map((h) => `vpcec-${h}`),
    mode: fc.constantFrom('monitor' as const, 'enforce' as const),
    state: arbControlState(),
    stateMessage: fc.option(fc.constantFrom('Resources are blocking enforce', 'Internal error'), {
      nil: undefined,
    }),
    exclusions: fc
      .dictionary(fc.constantFrom(...EXCLUSION_NAMES), arbExclusionState(), { maxKeys: 3 })
      .map((d) => Object.fromEntries(Object.entries(d).map(([k, state]) => [k, { state }]))),
  });

const TAG_VALUES = {
  [MODE_TAG]: ['enforce', 'monitor', 'ignore', ' Enforce ', 'enforced', 'yes please'],
  [IGNORE_TAG]: ['true', 'false', ''],
  env: ['prod', 'dev'],
} as const;

export const arbTags = (): fc.Arbitrary<Record<string, string>> =>
  fc
    .record(
      {
        Name: fc.constantFrom('web', 'data', 'shared'),
        [MODE_TAG]: fc.constantFrom(...TAG_VALUES[MODE_TAG]),
        [IGNORE_TAG]: fc.constantFrom(...TAG_VALUES[IGNORE_TAG]),
        env: fc.constantFrom(...TAG_VALUES.env),
      },
      { requiredKeys: [] },
    )
    .map(
      (r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, string>,
    );

/** Descriptions seen on blockers and ENIs, plus noise. */
const DESCRIPTIONS = [
  '',
  'RDSNetworkInterface',
  'ElastiCache my-cache-0001-001',
  'Network Firewall endpoint',
  'AWS Lambda VPC ENI-orders',
  'EFS mount target for fs-0a1b2c3d (fsmt-0a1b2c3d)',
  'VPC Lattice service network association',
  'Interface for NAT Gateway nat-0a1b2c3d',
  'Gateway Load Balancer endpoint',
  'Amazon FSx for NetApp ONTAP',
  'Primary network interface',
];
const INTERFACE_TYPES = [
  'interface',
  'lambda',
  'nat_gateway',
  'natGateway',
  'gateway_load_balancer',
  'gateway_load_balancer_endpoint',
  'vpc_endpoint',
  'efs',
  'network_load_balancer',
  'global_accelerator_managed',
  'api_gateway_managed',
  'some_new_type',
];
const BLOCKER_ID_PREFIXES = [
  'igw-',
  'eigw-',
  'nat-',
  'vgw-',
  'pcx-',
  'i-',
  'fs-',
  'fsmt-',
  'tgw-attach-',
  'vpce-',
  'xyz-',
];
const BLOCKER_TYPES = ['', 'InternetGateway', 'NetworkInterface', 'Instance', 'SomethingNew'];

const arbEniInVpc = (vpcId: string): fc.Arbitrary<NetworkInterfaceInput> =>
  fc.record({
    networkInterfaceId: hex(8).map((h) => `eni-${h}`),
    vpcId: fc.constant(vpcId),
    interfaceType: fc.constantFrom(...INTERFACE_TYPES),
    description: fc.constantFrom(...DESCRIPTIONS),
    instanceId: fc.option(
      hex(8).map((h) => `i-${h}`),
      { nil: undefined },
    ),
  });

/** Mostly as AWS would say (gateways, peerings, EFS excludable; the rest not), sometimes the opposite. */
const arbIsExcludable = (id: string): fc.Arbitrary<boolean> =>
  EXCLUDABLE_PREFIXES.some((p) => id.startsWith(p))
    ? fc.constantFrom(true, true, true, false)
    : fc.constantFrom(false, false, false, true);

const arbRawBlocker = (eniIds: readonly string[]): fc.Arbitrary<RawBlocker> =>
  fc
    .record({
      id: fc.oneof(
        ...(eniIds.length > 0 ? [fc.constantFrom(...eniIds)] : []),
        hex(8).map((h) => `eni-${h}`),
        fc.tuple(fc.constantFrom(...BLOCKER_ID_PREFIXES), hex(8)).map(([p, h]) => `${p}${h}`),
        fc.constant('arn:aws:lambda:eu-west-1:111122223333:function:orders'),
      ),
      type: fc.constantFrom(...BLOCKER_TYPES),
      description: fc.constantFrom(...DESCRIPTIONS),
    })
    .chain((b) => arbIsExcludable(b.id).map((isExcludable) => ({ ...b, isExcludable })));

interface VpcParts {
  vpc: VpcInput;
  enis: NetworkInterfaceInput[];
  gateways: GatewayInput[];
}

const arbVpcParts = (vpcId: string): fc.Arbitrary<VpcParts> =>
  fc.uniqueArray(arbEniInVpc(vpcId), { maxLength: 3, selector: (e) => e.networkInterfaceId }).chain((enis) =>
    fc.record({
      vpc: fc.record({
        vpcId: fc.constant(vpcId),
        tags: arbTags(),
        control: fc.option(arbControl(), { nil: null, freq: 4 }),
        blockers: fc.uniqueArray(arbRawBlocker(enis.map((e) => e.networkInterfaceId)), {
          maxLength: 4,
          selector: (b) => b.id,
        }),
      }),
      enis: fc.constant(enis),
      gateways: fc.uniqueArray(
        fc.record({
          gatewayId: hex(8),
          kind: fc.constantFrom(...GATEWAY_KINDS),
          vpcId: fc.constant(vpcId),
          state: fc.constantFrom('available', 'attached', 'deleted'),
        }),
        { maxLength: 2, selector: (g) => g.gatewayId },
      ),
    }),
  );

export interface ArbSnapshotOptions {
  /** How many VPCs at most (default 5). */
  readonly maxVpcs?: number;
  /** Force the account control's `managedBy` (default: mostly `account`, sometimes `declarative-policy`). */
  readonly managedBy?: 'account' | 'declarative-policy';
}

/**
 * Snapshots wide enough to find surprises: unknown states, odd tags, blockers of every prefix whose ENIs may
 * or may not be in the inventory, gateways, peerings (inside, across accounts and Regions), TGWs. Ids are
 * unique within each array, as AWS guarantees.
 */
export function arbSnapshot(options: ArbSnapshotOptions = {}): fc.Arbitrary<InventorySnapshot> {
  const maxVpcs = options.maxVpcs ?? 5;
  return fc.uniqueArray(hex(8), { minLength: 0, maxLength: maxVpcs }).chain((hexIds) => {
    const vpcIds = hexIds.map((h) => `vpc-${h}`);
    const peerIds = [...vpcIds, 'vpc-elsewhere0'];
    return fc
      .record({
        parts: fc.tuple(...vpcIds.map(arbVpcParts)),
        accountControl: options.managedBy
          ? fc.record({
              mode: fc.constantFrom('unmanaged', 'attempt-enforce'),
              managedBy: fc.constant(options.managedBy),
            })
          : fc.option(
              fc.record({
                mode: fc.constantFrom('unmanaged', 'attempt-monitor', 'attempt-enforce'),
                managedBy: fc.constantFrom('account', 'account', 'account', 'declarative-policy'),
              }),
              { nil: null },
            ),
        peerings: arbPeerings(vpcIds, peerIds),
        transitGateways: fc.uniqueArray(
          fc.record({
            transitGatewayId: hex(8).map((h) => `tgw-${h}`),
            encryptionSupport: fc.constantFrom('disable', 'enabling', 'enable', 'disabling', 'mystery'),
            securityGroupReferencingSupport: fc.boolean(),
            multicastSupport: fc.boolean(),
            attachments: fc.uniqueArray(
              fc.record({
                attachmentId: hex(8).map((h) => `tgw-attach-${h}`),
                resourceType: fc.constantFrom('vpc', 'vpn', 'connect', 'peering', 'network-function'),
                resourceId: fc.constantFrom(...peerIds),
                state: fc.constantFrom('available', 'deleted'),
              }),
              { maxLength: 3, selector: (a) => a.attachmentId },
            ),
          }),
          { maxLength: 2, selector: (t) => t.transitGatewayId },
        ),
      })
      .map(({ parts, accountControl, peerings, transitGateways }) =>
        snapshot({
          accountControl,
          vpcs: parts.map((p) => p.vpc),
          networkInterfaces: parts.flatMap((p) => p.enis),
          // Gateway ids get the prefix of their kind, and are unique across VPCs by construction.
          gateways: parts.flatMap((p, i) =>
            p.gateways.map((g) => ({ ...g, gatewayId: `${gatewayPrefix(g.kind)}${i}${g.gatewayId}` })),
          ),
          peeringConnections: peerings,
          transitGateways,
        }),
      );
  });
}

function arbPeerings(vpcIds: readonly string[], peerIds: readonly string[]): fc.Arbitrary<PeeringInput[]> {
  if (vpcIds.length === 0) return fc.constant([]);
  const arbPeering: fc.Arbitrary<PeeringInput> = fc.record({
    peeringConnectionId: hex(8).map((h) => `pcx-${h}`),
    status: fc.constantFrom('active', 'active', 'pending-acceptance', 'deleted'),
    requesterVpcId: fc.constantFrom(...vpcIds),
    accepterVpcId: fc.constantFrom(...peerIds),
    accepterRegion: fc.option(fc.constantFrom(REGION, OTHER_REGION), { nil: undefined }),
  });
  return fc
    .uniqueArray(arbPeering, { maxLength: 3, selector: (p) => p.peeringConnectionId })
    .map((ps) => ps.filter((p) => p.requesterVpcId !== p.accepterVpcId));
}

function gatewayPrefix(kind: GatewayInput['kind']): string {
  return Object.entries(GATEWAY_PREFIX).find(([, k]) => k === kind)?.[0] ?? 'gw';
}

/** The same snapshot with every array (and every VPC's blockers and TGW's attachments) in another order. */
export function arbReordered(s: InventorySnapshot): fc.Arbitrary<InventorySnapshot> {
  const permute = <T>(items: readonly T[]): fc.Arbitrary<T[]> =>
    fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
  return fc
    .record({
      vpcs: permute(s.vpcs).chain((vpcs) =>
        fc.tuple(...vpcs.map((v) => permute(v.blockers).map((blockers) => ({ ...v, blockers })))),
      ),
      networkInterfaces: permute(s.networkInterfaces),
      gateways: permute(s.gateways),
      peeringConnections: permute(s.peeringConnections),
      transitGateways: permute(s.transitGateways).chain((tgws) =>
        fc.tuple(...tgws.map((t) => permute(t.attachments).map((attachments) => ({ ...t, attachments })))),
      ),
      instances: permute(s.instances),
    })
    .map((arrays) => ({ ...s, ...arrays }));
}

/**
 * Policies over the same vocabulary as `arbSnapshot`: defaults of every mode, acceptable exclusions, and
 * targets matching on the `env` tag, the account or the Region.
 */
export function arbPolicy(): fc.Arbitrary<Policy> {
  const arbExclusions = fc.subarray([...EXCLUSION_NAMES]);
  const arbMode = fc.constantFrom(
    'enforce' as const,
    'enforce' as const,
    'monitor' as const,
    'ignore' as const,
  );
  // Optional keys are left out at random (requiredKeys), the way a person writes a policy.
  const arbTarget = fc.record(
    {
      name: fc.constantFrom('prod', 'dev', 'all', 'other-region'),
      mode: arbMode,
      vpcTags: fc.constantFrom(...TAG_VALUES.env).map((env) => ({ env })),
      accounts: fc.constantFrom(ACCOUNT_ID, OTHER_ACCOUNT_ID).map((a) => [a]),
      regions: fc.constantFrom(REGION, OTHER_REGION).map((r) => [r]),
      acceptableExclusions: arbExclusions,
    },
    { requiredKeys: ['name', 'mode'] },
  );
  return fc
    .record({
      defaults: fc.record({ mode: arbMode, acceptableExclusions: arbExclusions }),
      targets: fc.array(arbTarget, { maxLength: 3 }),
    })
    .map(({ defaults, targets }) => policy({ defaults, targets }));
}
