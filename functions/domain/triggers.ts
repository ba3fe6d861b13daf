/**
 * What starts the enforcement loop: an EventBridge event becomes a decision — run the loop for one or more
 * scopes (account + Region, narrowed to the VPCs the event names), ignore it (nothing vecguard cares
 * about, with the reason), or reject it as malformed (one line: what is wrong, what was expected).
 *
 * Four sources, each trusted only under its AWS `source` (custom events cannot use `aws.*` sources, so a
 * forged "Scheduled Event" on the bus is ignored, not obeyed):
 * - `AWS API Call via CloudTrail` from `aws.ec2`: the EC2 calls that change a VPC's encryption posture;
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * - `Config Configuration Item Change` from `aws.config` for the EC2 resource types that matter;
 *   https://docs.aws.amazon.com/config/latest/developerguide/monitor-config-with-cloudwatchevents.html
 * - `Scheduled Event` from `aws.events`: a sweep (`sweepTriggers` expands it to the policy's scopes);
 * - `Security Hub Findings - Custom Action` from `aws.securityhub`: the VPCs of the selected findings.
 *   With cross-Region aggregation the findings may come from several accounts and Regions, which is why a
 *   `run` decision carries a list of triggers (one per scope) rather than a single one.
 *   https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html
 *
 * Everything here is pure and deterministic: the same event always gives the same decision, and the same
 * trigger always gives the same execution name and run id, so a re-delivered event cannot start a second run.
 */
import { z } from 'zod';
import { digest, partitionOf } from './asff.ts';
import { decodeFindingId } from './finding-id.ts';
import { AccountIdSchema, RegionSchema } from './model.ts';
import { activeAccountsBelow, type OrganizationTree, ParentIdSchema } from './organization.ts';
import { organizationalUnitsOf, type Policy, policyNeedsOrganization, type Target } from './policy.ts';

// ---------------------------------------------------------------------------------------------------------
// The decision

export const TRIGGER_SOURCES = ['cloudtrail', 'config', 'schedule', 'securityhub-action'] as const;
export const TriggerSourceSchema = z.enum(TRIGGER_SOURCES);
export type TriggerSource = z.infer<typeof TriggerSourceSchema>;

/** `vpc-` and 8 or 17 hex digits, as EC2 issues them. */
export const VPC_ID_PATTERN = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
export const VpcIdSchema = z.string().regex(VPC_ID_PATTERN, 'a VPC id is vpc- and 8 or 17 hex digits');

/** Past this many VPCs a run covers the whole scope: one inventory pass is cheaper than a long id list. */
export const MAX_VPC_IDS = 200;

export const TriggerSchema = z.object({
  accountId: AccountIdSchema,
  region: RegionSchema,
  /** The VPCs the event names, sorted; null: the whole scope (the reason says why). */
  vpcIds: z.array(VpcIdSchema).nullable(),
  /** One line for logs and the run's history: what happened, and why the scope is what it is. */
  reason: z.string().min(1),
  source: TriggerSourceSchema,
  /**
   * What makes this trigger's event one event and no other (`dedupKey`): a CloudTrail record is the envelope's
   * id and the record's own `eventID` (`<id>/<eventID>`: two calls that share one can never be mistaken for
   * each other); a Config item is `<resourceId>@<configurationStateId>` (the same item re-sent in a new
   * envelope is the same change); anything else is the envelope's id. Coalesced triggers carry their events'
   * ids, sorted and joined with `+`.
   */
  eventId: z.string().min(1),
  /** The event's own time (ISO-8601): names the run without depending on when it was delivered. */
  time: z.string().min(1),
});
export type Trigger = z.infer<typeof TriggerSchema>;

export type TriggerDecision =
  /** Never empty; one trigger per scope, sorted by account and Region. */
  | { readonly kind: 'run'; readonly triggers: Trigger[] }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

// ---------------------------------------------------------------------------------------------------------
// Schemas of what EventBridge delivers (only the fields vecguard reads; everything else passes through)

const ObjectSchema = z.record(z.string(), z.unknown());

export const EventBridgeEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: AccountIdSchema,
  time: z.iso.datetime({ offset: true }),
  region: RegionSchema,
  resources: z.array(z.string()).default([]),
  detail: ObjectSchema,
});
export type EventBridgeEvent = z.infer<typeof EventBridgeEventSchema>;

export const CloudTrailDetailSchema = z.looseObject({
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  eventID: z.string().min(1).optional(),
  errorCode: z.string().optional(),
  readOnly: z.boolean().optional(),
  requestParameters: ObjectSchema.nullish(),
  responseElements: ObjectSchema.nullish(),
});
export type CloudTrailDetail = z.infer<typeof CloudTrailDetailSchema>;

const ConfigItemSchema = z.looseObject({
  resourceType: z.string().min(1),
  resourceId: z.string().min(1),
  awsAccountId: AccountIdSchema.optional(),
  awsRegion: RegionSchema.optional(),
  configurationItemStatus: z.string().optional(),
  /** Config numbers each recorded state of a resource: with the resource id, the item's identity. */
  configurationStateId: z.union([z.number(), z.string()]).optional(),
  /** When Config recorded the item: the change's own time, whichever envelope re-sends it. */
  configurationItemCaptureTime: z.string().optional(),
  /** Only in `configurationItemSummary` (an oversized change); the full item has it in the diff. */
  changeType: z.string().optional(),
  configuration: z.unknown().optional(),
  relationships: z
    .array(z.looseObject({ resourceId: z.string().nullish(), resourceType: z.string().nullish() }))
    .nullish(),
});

export const ConfigItemChangeDetailSchema = z.looseObject({
  messageType: z.string().min(1),
  /** `ConfigurationItemChangeNotification` */
  configurationItem: ConfigItemSchema.optional(),
  /** `OversizedConfigurationItemChangeNotification`: a summary without configuration or relationships. */
  configurationItemSummary: ConfigItemSchema.optional(),
  configurationItemDiff: z
    .looseObject({ changeType: z.string().optional(), changedProperties: z.unknown().optional() })
    .nullish(),
});
export type ConfigItemChangeDetail = z.infer<typeof ConfigItemChangeDetailSchema>;

const AsffResourceSchema = z.looseObject({
  Type: z.string().min(1),
  Id: z.string().min(1),
  Region: z.string().optional(),
  Details: z.unknown().optional(),
});

const AsffFindingSchema = z.looseObject({
  Id: z.string().min(1),
  AwsAccountId: AccountIdSchema,
  Region: z.string().optional(),
  Resources: z.array(AsffResourceSchema).default([]),
  ProductFields: z.record(z.string(), z.string()).optional(),
});

export const SecurityHubActionDetailSchema = z.looseObject({
  actionName: z.string().optional(),
  actionDescription: z.string().optional(),
  findings: z.array(AsffFindingSchema).min(1, 'expected at least one finding'),
});
export type SecurityHubActionDetail = z.infer<typeof SecurityHubActionDetailSchema>;

// ---------------------------------------------------------------------------------------------------------
// classifyEvent

const DETAIL_TYPES = {
  cloudtrail: { detailType: 'AWS API Call via CloudTrail', source: 'aws.ec2' },
  config: { detailType: 'Config Configuration Item Change', source: 'aws.config' },
  schedule: { detailType: 'Scheduled Event', source: 'aws.events' },
  'securityhub-action': { detailType: 'Security Hub Findings - Custom Action', source: 'aws.securityhub' },
} as const satisfies Record<TriggerSource, { detailType: string; source: string }>;

/** Classify one EventBridge event. Never throws: anything it cannot read is `invalid`, with the reason. */
export function classifyEvent(event: unknown): TriggerDecision {
  try {
    return classify(event);
  } catch (error) {
    // Defensive: a decision must always come back, so that the handler can dead-letter with a reason.
    return invalid(`the event could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
}

function classify(event: unknown): TriggerDecision {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return invalid(`expected an EventBridge event (a JSON object), got ${preview(event)}`);
  }
  const envelope = EventBridgeEventSchema.safeParse(event, { reportInput: true });
  if (!envelope.success) return invalid(describeIssues('EventBridge event', envelope.error));
  const e = envelope.data;
  const entry = Object.entries(DETAIL_TYPES).find(([, d]) => d.detailType === e['detail-type']);
  if (entry === undefined) {
    return ignored(
      `detail-type "${e['detail-type']}" from ${e.source} is not an event vecguard subscribes to`,
    );
  }
  const [kind, expected] = entry as [TriggerSource, (typeof DETAIL_TYPES)[TriggerSource]];
  if (e.source !== expected.source) {
    return ignored(
      `"${e['detail-type']}" came from source "${e.source}", not ${expected.source}: only AWS may emit it`,
    );
  }
  switch (kind) {
    case 'cloudtrail':
      return classifyCloudTrail(e);
    case 'config':
      return classifyConfig(e);
    case 'schedule':
      return run([
        trigger(e, {
          source: 'schedule',
          vpcIds: null,
          reason: `scheduled sweep${ruleName(e.resources[0])}: every VPC of every scope`,
        }),
      ]);
    case 'securityhub-action':
      return classifySecurityHubAction(e);
  }
}

// ---- CloudTrail --------------------------------------------------------------------------------------

/** Where the VPC ids come from for one call, or why there are none (the run covers the whole scope). */
type VpcIdsFound = { readonly vpcIds: string[] } | { readonly vpcIds: null; readonly because: string };
type Scope = { readonly accountId: string; readonly region: string };

interface CloudTrailCall {
  /** What the call changed, in a few words, for the reason line. */
  readonly change: string;
  readonly vpcIds: (detail: CloudTrailDetail, scope: Scope) => VpcIdsFound;
  /** Calls of this name that do not change posture (ModifyInstanceAttribute on anything but the type). */
  readonly skip?: (detail: CloudTrailDetail) => string | undefined;
}

const request = (d: CloudTrailDetail) => d.requestParameters ?? {};
const response = (d: CloudTrailDetail) => d.responseElements ?? {};

/** VPC ids anywhere in the request and/or response: EC2 records older calls in camelCase query shape and
 * newer ones wrapped (`{"CreateTransitGatewayVpcAttachmentRequest": {"VpcId": …}}`), so walk, don't path. */
const idsIn =
  (where: 'request' | 'response' | 'both', because: string) =>
  (d: CloudTrailDetail): VpcIdsFound => {
    const ids = vpcIdsWithin([
      where === 'response' ? undefined : request(d),
      where === 'request' ? undefined : response(d),
    ]);
    return ids.length > 0 ? { vpcIds: ids } : { vpcIds: null, because };
  };

const wholeScope = (because: string) => (): VpcIdsFound => ({ vpcIds: null, because });

/**
 * The EC2 calls that change encryption posture. Not here, on purpose:
 * - StartInstances/StopInstances: they do not change an instance's type (the only thing that makes it a
 *   blocker or not), and vecguard's own move-instance action stops and starts instances, so reacting to
 *   them would only echo its own work; the ModifyInstanceAttribute in between is what counts.
 * - TerminateInstances, Delete*Gateway, DeleteVpcPeeringConnection: they can only remove blockers; CloudTrail
 *   does not name the VPC, so each would cost a whole-scope run. The scheduled sweep picks them up.
 */
export const CLOUDTRAIL_CALLS: Readonly<Record<string, CloudTrailCall>> = {
  CreateVpc: {
    change: 'a VPC was created',
    vpcIds: idsIn('response', 'the record carries no response with the new VPC id'),
  },
  DeleteVpc: {
    change: 'a VPC was deleted (its findings are archived)',
    vpcIds: idsIn('request', 'the request names no VPC id'),
  },
  CreateVpcEncryptionControl: {
    change: 'an encryption control was created',
    vpcIds: idsIn('both', 'neither request nor response names the VPC'),
  },
  ModifyVpcEncryptionControl: {
    change: "an encryption control's mode or exclusions changed",
    vpcIds: idsIn('both', 'the call names the control (vpcec-…), and the response did not name its VPC'),
  },
  DeleteVpcEncryptionControl: {
    change: 'an encryption control was deleted',
    vpcIds: idsIn('both', 'the call names the control (vpcec-…), and the response did not name its VPC'),
  },
  ModifyAccountVpcEncryptionControl: {
    change: "the account's VPC encryption control mode changed",
    vpcIds: wholeScope('the account-level setting applies to every VPC'),
  },
  RunInstances: {
    change: 'instances were launched (a type without encryption in transit blocks enforce)',
    vpcIds: idsIn('both', 'the request names subnets, and the response did not name the VPC'),
  },
  ModifyInstanceAttribute: {
    change: "an instance's type changed",
    vpcIds: wholeScope('CloudTrail names the instance (i-…), not its VPC'),
    skip: (d) => {
      const p = request(d);
      const changesType = p.instanceType !== undefined || p.attribute === 'instanceType';
      return changesType
        ? undefined
        : 'ModifyInstanceAttribute changed an attribute other than the instance type';
    },
  },
  AttachInternetGateway: {
    change: 'an internet gateway was attached',
    vpcIds: idsIn('request', 'the request names no VPC id'),
  },
  DetachInternetGateway: {
    change: 'an internet gateway was detached',
    vpcIds: idsIn('request', 'the request names no VPC id'),
  },
  CreateEgressOnlyInternetGateway: {
    change: 'an egress-only internet gateway was created',
    vpcIds: idsIn('both', 'neither request nor response names the VPC'),
  },
  CreateNatGateway: {
    change: 'a NAT gateway was created',
    vpcIds: idsIn('both', 'the request names a subnet, and the response did not name the VPC'),
  },
  AttachVpnGateway: {
    change: 'a virtual private gateway was attached',
    vpcIds: idsIn('request', 'the request names no VPC id'),
  },
  DetachVpnGateway: {
    change: 'a virtual private gateway was detached',
    vpcIds: idsIn('request', 'the request names no VPC id'),
  },
  CreateVpcPeeringConnection: {
    change: 'a VPC peering connection was requested',
    vpcIds: (d, scope) => peeringVpcIds(d, scope, 'the record names no VPC of this account and Region'),
  },
  AcceptVpcPeeringConnection: {
    change: 'a VPC peering connection was accepted',
    vpcIds: (d, scope) =>
      peeringVpcIds(d, scope, 'the call names the peering (pcx-…), and the response did not name our VPC'),
  },
  CreateTransitGatewayVpcAttachment: {
    change: 'a VPC was attached to a Transit Gateway',
    vpcIds: idsIn('both', 'neither request nor response names the VPC'),
  },
  ModifyTransitGateway: {
    change: 'a Transit Gateway changed (encryption support or its preconditions)',
    vpcIds: wholeScope('a Transit Gateway reaches every attached VPC, and CloudTrail does not list them'),
  },
  CreateFlowLogs: {
    change: 'a flow log was created',
    vpcIds: idsIn('request', 'the flow log is on subnets or network interfaces, not named VPCs'),
  },
  DeleteFlowLogs: {
    change: 'a flow log was deleted',
    vpcIds: wholeScope('the call names flow logs (fl-…), not their VPCs'),
  },
};

function classifyCloudTrail(e: EventBridgeEvent): TriggerDecision {
  const parsed = CloudTrailDetailSchema.safeParse(e.detail, { reportInput: true });
  if (!parsed.success) return invalid(describeIssues('CloudTrail record', parsed.error, ['detail']));
  const d = parsed.data;
  if (d.eventSource !== 'ec2.amazonaws.com') {
    return ignored(`${d.eventName} from ${d.eventSource}: vecguard reacts to EC2 calls only`);
  }
  if (d.errorCode !== undefined) {
    return ignored(`${d.eventName} failed with ${d.errorCode}: nothing changed`);
  }
  const call = Object.hasOwn(CLOUDTRAIL_CALLS, d.eventName) ? CLOUDTRAIL_CALLS[d.eventName] : undefined;
  if (call === undefined || d.readOnly === true) {
    return ignored(`${d.eventName} does not change encryption posture`);
  }
  const skipped = call.skip?.(d);
  if (skipped !== undefined) return ignored(skipped);
  const scope = { accountId: e.account, region: e.region };
  const found = call.vpcIds(d, scope);
  return run([
    trigger(e, {
      source: 'cloudtrail',
      eventId: d.eventID === undefined ? idPart(e.id) : `${idPart(e.id)}/${idPart(d.eventID)}`,
      ...explain(`${d.eventName}: ${call.change}`, found),
    }),
  ]);
}

/** A peering's two sides: only those in this account and Region are ours to run on. */
function peeringVpcIds(d: CloudTrailDetail, scope: Scope, because: string): VpcIdsFound {
  const sides: unknown[] = [];
  collectObjects(response(d), (o) => {
    if ('requesterVpcInfo' in o) sides.push(o.requesterVpcInfo);
    if ('accepterVpcInfo' in o) sides.push(o.accepterVpcInfo);
  });
  const ids = new Set<string>();
  for (const side of sides) {
    const s = asRecord(side);
    if (s && ours(s.ownerId, s.region, scope) && isVpcId(s.vpcId)) ids.add(s.vpcId);
  }
  if (sides.length === 0) {
    // No response: the request's own VPC is the caller's; the peer only if it is in the same scope.
    const p = request(d);
    if (isVpcId(p.vpcId)) ids.add(p.vpcId);
    if (isVpcId(p.peerVpcId) && ours(p.peerOwnerId, p.peerRegion, scope)) ids.add(p.peerVpcId);
  }
  return ids.size > 0 ? { vpcIds: [...ids] } : { vpcIds: null, because };
}

function ours(ownerId: unknown, region: unknown, scope: Scope): boolean {
  const ownerOk = ownerId === undefined || ownerId === null || ownerId === scope.accountId;
  const regionOk = region === undefined || region === null || region === scope.region;
  return ownerOk && regionOk;
}

// ---- AWS Config ------------------------------------------------------------------------------------

const CONFIG_MESSAGE_TYPES = new Set([
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
]);

/** Config resource types that can change posture. `AWS::EC2::TransitGateway*` is matched by prefix: the
 * gateway itself, its attachments, and the peering/Connect/multicast resources that are its preconditions. */
export const CONFIG_RESOURCE_TYPES = [
  'AWS::EC2::VPC',
  'AWS::EC2::Instance',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::EgressOnlyInternetGateway',
  'AWS::EC2::NatGateway',
  'AWS::EC2::VPNGateway',
  'AWS::EC2::VPCPeeringConnection',
] as const;
export const TRANSIT_GATEWAY_PREFIX = 'AWS::EC2::TransitGateway';
const CONFIG_TYPES: ReadonlySet<string> = new Set(CONFIG_RESOURCE_TYPES);

function classifyConfig(e: EventBridgeEvent): TriggerDecision {
  const parsed = ConfigItemChangeDetailSchema.safeParse(e.detail, { reportInput: true });
  if (!parsed.success) return invalid(describeIssues('Config change', parsed.error, ['detail']));
  const d = parsed.data;
  if (!CONFIG_MESSAGE_TYPES.has(d.messageType)) {
    return ignored(`Config message ${d.messageType} is not a configuration item change`);
  }
  const item = d.configurationItem ?? d.configurationItemSummary;
  if (item === undefined) {
    return invalid(
      'Config change: detail.configurationItem is missing (expected the changed configuration item, or configurationItemSummary when oversized)',
    );
  }
  const type = item.resourceType;
  const isTransitGateway = type.startsWith(TRANSIT_GATEWAY_PREFIX);
  if (!CONFIG_TYPES.has(type) && !isTransitGateway) {
    return ignored(
      `Config change of ${type} ${item.resourceId}: not a resource type that affects encryption`,
    );
  }
  // An event speaks only for the account and Region that delivered it (EventBridge sets the envelope's; the
  // body is whatever the sender wrote): an item naming another scope is refused, never followed.
  if (
    (item.awsAccountId !== undefined && item.awsAccountId !== e.account) ||
    (item.awsRegion !== undefined && item.awsRegion !== e.region)
  ) {
    return invalid(
      `Config change of ${item.resourceId}: the item names ${item.awsAccountId ?? e.account}/${item.awsRegion ?? e.region} but the event came from ${e.account}/${e.region}; an event can only speak for the account and Region that sent it`,
    );
  }
  const scope = { accountId: e.account, region: e.region };
  const changeType = d.configurationItemDiff?.changeType ?? item.changeType;
  const what = `Config: ${type} ${item.resourceId} ${changeType ?? item.configurationItemStatus ?? 'changed'}`;
  return run([
    {
      ...scope,
      source: 'config',
      // The item, not the envelope: Config re-sends an item in a new envelope (a new id and time).
      eventId:
        item.configurationStateId === undefined
          ? idPart(e.id)
          : `${idPart(item.resourceId)}@${idPart(String(item.configurationStateId))}`,
      time: capturedAt(item.configurationItemCaptureTime) ?? e.time,
      ...explain(what, configVpcIds(item, d, scope, isTransitGateway)),
    },
  ]);
}

/** The capture time when it reads as an ISO time, so that an item names its run whichever envelope it came in. */
function capturedAt(time: string | undefined): string | undefined {
  return time !== undefined && z.iso.datetime({ offset: true }).safeParse(time).success ? time : undefined;
}

function configVpcIds(
  item: z.infer<typeof ConfigItemSchema>,
  d: ConfigItemChangeDetail,
  scope: Scope,
  isTransitGateway: boolean,
): VpcIdsFound {
  if (item.resourceType === 'AWS::EC2::VPC') {
    return isVpcId(item.resourceId)
      ? { vpcIds: [item.resourceId] }
      : { vpcIds: null, because: `the resource id ${preview(item.resourceId)} is not a VPC id` };
  }
  if (isTransitGateway && item.resourceType === TRANSIT_GATEWAY_PREFIX) {
    return { vpcIds: null, because: 'a Transit Gateway reaches every attached VPC' };
  }
  if (item.resourceType === 'AWS::EC2::VPCPeeringConnection') {
    // Only the sides in this account and Region: the peer VPC may belong to someone else.
    const c = asRecord(item.configuration) ?? {};
    const ids = [c.requesterVpcInfo, c.accepterVpcInfo].flatMap((side) => {
      const s = asRecord(side);
      return s && ours(s.ownerId, s.region, scope) && isVpcId(s.vpcId) ? [s.vpcId] : [];
    });
    return ids.length > 0
      ? { vpcIds: ids }
      : { vpcIds: null, because: 'the configuration item names no VPC of this account and Region' };
  }
  const related = (item.relationships ?? [])
    .filter((r) => r.resourceType === 'AWS::EC2::VPC')
    .map((r) => r.resourceId);
  // A deleted resource has no configuration or relationships left; the diff still holds the old ones.
  const ids = vpcIdsWithin([related, item.configuration, d.configurationItemDiff?.changedProperties]);
  return ids.length > 0
    ? { vpcIds: ids }
    : {
        vpcIds: null,
        because: d.configurationItemSummary
          ? 'an oversized change carries only a summary, without the VPC'
          : 'the configuration item names no VPC',
      };
}

// ---- Security Hub custom action ----------------------------------------------------------------------

const RESOURCE_ID_FIELD = 'vecguard/resourceId';
const EC2_ARN = /^arn:aws[a-z-]*:ec2:([a-z0-9-]*):(\d{12})?:([a-z-]+)\/(.+)$/;

interface FindingTarget {
  readonly scope: Scope;
  /** null: the whole scope (a Transit Gateway finding). */
  readonly vpcIds: string[] | null;
}

function classifySecurityHubAction(e: EventBridgeEvent): TriggerDecision {
  const parsed = SecurityHubActionDetailSchema.safeParse(e.detail, { reportInput: true });
  if (!parsed.success) {
    return invalid(describeIssues('Security Hub custom action', parsed.error, ['detail']));
  }
  const { findings, actionName } = parsed.data;
  const targets: FindingTarget[] = [];
  for (const [index, finding] of findings.entries()) {
    const region = finding.Region ?? decodeFindingId(finding.Id)?.region ?? e.region;
    if (!RegionSchema.safeParse(region).success) {
      return invalid(
        `Security Hub custom action: detail.findings[${index}].Region ${preview(region)} is not a Region (expected e.g. us-east-1)`,
      );
    }
    const target = findingTarget(finding, { accountId: finding.AwsAccountId, region });
    if (target) targets.push(target);
  }
  if (targets.length === 0) {
    return ignored(
      `none of the ${findings.length} selected finding(s) names a VPC or Transit Gateway: select vecguard findings or findings on AWS::EC2::VPC resources`,
    );
  }
  const label = `Security Hub custom action${actionName ? ` "${actionName}"` : ''}`;
  const triggers = targets.map(
    (t): Trigger => ({
      ...t.scope,
      source: 'securityhub-action',
      eventId: idPart(e.id),
      time: e.time,
      vpcIds: t.vpcIds,
      reason:
        t.vpcIds === null
          ? `${label}: a Transit Gateway finding reaches every attached VPC (the whole scope)`
          : `${label} on ${findings.length} finding(s)`,
    }),
  );
  return run(coalesce(triggers));
}

function findingTarget(finding: z.infer<typeof AsffFindingSchema>, scope: Scope): FindingTarget | undefined {
  const ids = new Set<string>();
  const resource = finding.ProductFields?.[RESOURCE_ID_FIELD] ?? decodeFindingId(finding.Id)?.resourceId;
  if (resource?.startsWith('tgw-')) return { scope, vpcIds: null };
  if (isVpcId(resource)) ids.add(resource);
  for (const r of finding.Resources) {
    if (r.Type === 'AwsEc2TransitGateway') return { scope, vpcIds: null };
    if (r.Type === 'AwsEc2Vpc') {
      const arn = EC2_ARN.exec(r.Id);
      const id = arn ? arn[4] : r.Id;
      const inScope =
        arn === null || ((!arn[1] || arn[1] === scope.region) && (!arn[2] || arn[2] === scope.accountId));
      if (inScope && isVpcId(id)) ids.add(id);
    }
    // A peering finding: both sides, when they are in this account and Region.
    const peering = asRecord(asRecord(r.Details)?.AwsEc2VpcPeeringConnection);
    for (const side of [peering?.RequesterVpcInfo, peering?.AccepterVpcInfo].map(asRecord)) {
      if (side && ours(side.OwnerId, side.Region, scope) && isVpcId(side.VpcId)) ids.add(side.VpcId);
    }
  }
  return ids.size > 0 ? { scope, vpcIds: [...ids] } : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Coalescing, sweeps, names and the execution input

const scopeKey = (t: Scope) => `${t.accountId}/${t.region}`;

/**
 * Several triggers for one scope become one: the union of their VPC ids (null — the whole scope — wins),
 * their event ids sorted and joined with `+`, their distinct reasons. The result is sorted by scope and does
 * not depend on the order of the input, so a re-delivered batch gets the same execution names.
 */
export function coalesce(triggers: readonly Trigger[]): Trigger[] {
  const groups = new Map<string, Trigger[]>();
  for (const t of triggers) {
    const key = scopeKey(t);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.keys()].sort().map((key) => {
    const group = [...(groups.get(key) ?? [])].sort(compareTriggers);
    const first = group[0] as Trigger;
    const wholeScope = group.find((t) => t.vpcIds === null);
    const union = [...new Set(group.flatMap((t) => t.vpcIds ?? []))].sort();
    const reasons = [...new Set(group.map((t) => t.reason))];
    const overflow = wholeScope === undefined && union.length > MAX_VPC_IDS;
    return {
      accountId: first.accountId,
      region: first.region,
      vpcIds: wholeScope !== undefined || overflow ? null : union,
      reason: overflow
        ? `${reasons[0]} (+${reasons.length - 1} more); more than ${MAX_VPC_IDS} VPCs: the whole scope`
        : reasons.length <= 3
          ? reasons.join('; ')
          : `${reasons.slice(0, 3).join('; ')} (+${reasons.length - 3} more)`,
      source: first.source,
      eventId: [...new Set(group.flatMap((t) => t.eventId.split('+')))].sort().join('+'),
      time:
        group
          .map((t) => t.time)
          .sort()
          .at(-1) ?? first.time,
    };
  });
}

function compareTriggers(a: Trigger, b: Trigger): number {
  return (
    a.eventId.localeCompare(b.eventId) ||
    a.source.localeCompare(b.source) ||
    a.reason.localeCompare(b.reason) ||
    a.time.localeCompare(b.time)
  );
}

/**
 * A scheduled sweep runs on every scope the policy names: each target that is not `ignore` contributes its
 * accounts × its Regions (or the hub's Region), plus the hub's own scope unless the defaults ignore it.
 * Other triggers pass through unchanged.
 *
 * Which accounts a target names:
 * - `organizationalUnits`: every ACTIVE account of `organization` below one of them (and, when the target
 *   also lists `accounts`, only those among them: the target matches no other). A suspended or closing
 *   account is not swept.
 * - `accounts` alone: those accounts.
 * - neither: the hub's account — "every account" cannot be listed without the organisation, and a sweep of
 *   the whole organisation is what an OU target (a root id covers everything) is for.
 *
 * A policy with OU targets needs the organisation (`policyNeedsOrganization`): without it such a target would
 * silently sweep nothing, so calling this without `organization` for such a policy is refused (a caller's
 * bug, thrown as `Error`), never answered with a smaller sweep.
 */
export function sweepTriggers(
  trigger: Trigger,
  policy: Pick<Policy, 'targets' | 'defaults'>,
  organization?: OrganizationTree,
): Trigger[] {
  if (trigger.source !== 'schedule') return [trigger];
  if (organization === undefined && policyNeedsOrganization(policy)) {
    throw new Error(
      `sweepTriggers: the policy targets organizational units (${organizationalUnitsOf(policy).join(', ')}); pass the organisation tree (read it when policyNeedsOrganization(policy))`,
    );
  }
  const home = { accountId: trigger.accountId, region: trigger.region };
  const scopes = new Map<string, Scope>();
  const add = (s: Scope) => scopes.set(scopeKey(s), s);
  if (policy.defaults.mode !== 'ignore' || policy.targets.length === 0) add(home);
  for (const target of policy.targets) {
    if (target.mode === 'ignore') continue;
    for (const accountId of sweptAccounts(target, home.accountId, organization)) {
      for (const region of target.regions ?? [home.region]) add({ accountId, region });
    }
  }
  return [...scopes.keys()].sort().map((key) => {
    const s = scopes.get(key) as Scope;
    return { ...trigger, ...s, vpcIds: null };
  });
}

/**
 * The runs an event's triggers start: each sweep expanded to the policy's scopes (`sweepTriggers`), then one
 * trigger per scope (`coalesce`). What the on-event function starts, and what `vecguard events classify`
 * reports; `organization` as for `sweepTriggers`.
 */
export function triggersToStart(
  triggers: readonly Trigger[],
  policy: Pick<Policy, 'targets' | 'defaults'>,
  organization?: OrganizationTree,
): Trigger[] {
  return coalesce(triggers.flatMap((t) => sweepTriggers(t, policy, organization)));
}

function sweptAccounts(
  target: Target,
  homeAccountId: string,
  organization: OrganizationTree | undefined,
): readonly string[] {
  if (target.organizationalUnits === undefined || organization === undefined) {
    return target.accounts ?? [homeAccountId];
  }
  const below = activeAccountsBelow(organization, target.organizationalUnits);
  return target.accounts ? below.filter((a) => target.accounts?.includes(a)) : below;
}

const SOURCE_ABBREVIATION: Record<TriggerSource, string> = {
  cloudtrail: 'ct',
  config: 'cfg',
  schedule: 'sched',
  'securityhub-action': 'shub',
};

/** Step Functions execution names: 1–80 characters; vecguard keeps to `[A-Za-z0-9_-]` (CloudWatch-safe). */
export const EXECUTION_NAME_MAX = 80;
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/** The digest that names a trigger: its scope and event ids (never the delivery time). */
function triggerDigest(trigger: Trigger): string {
  return digest(`${trigger.source}|${trigger.accountId}|${trigger.region}|${trigger.eventId}`);
}

/** `20261124T013000Z` from an ISO time; anything unreadable becomes `undated`. */
function compactTime(time: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(time);
  return m ? `${m[1]}${m[2]}${m[3]}T${m[4]}${m[5]}${m[6]}Z` : 'undated';
}

/**
 * The execution name for a trigger, e.g. `ct-111111111111-us-east-1-20261124T013000Z-9f2c4e1a0b7d3c55`.
 * Derived only from the trigger's source, scope, event id(s) and the event's own time: a re-delivered event
 * gets the same name (Step Functions refuses a second execution of that name: idempotent), two events for the
 * same VPC get different ones, and so do the scopes of one event. The readable middle is shortened, never the
 * digest, when a long Region would pass 80 characters.
 */
export function executionName(trigger: Trigger): string {
  const hash = triggerDigest(trigger);
  const readable =
    `${SOURCE_ABBREVIATION[trigger.source] ?? 'run'}-${trigger.accountId}-${trigger.region}-${compactTime(trigger.time)}`
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, EXECUTION_NAME_MAX - hash.length - 1);
  return `${readable}-${hash}`;
}

/** The run id (store keys, notifications): `run-<event time>-<8 hex>`, stable for a trigger like its name. */
export function runIdOf(trigger: Trigger): string {
  return `run-${compactTime(trigger.time)}-${triggerDigest(trigger).slice(0, 8)}`;
}

/**
 * The sweep a trigger's run belongs to, `sweep-<event time>-<8 hex>`, or null for a run an event started.
 * Derived from the schedule event's own id and time, which every scope of the sweep carries (`sweepTriggers`),
 * never from the scope: all the runs of one sweep share one change budget (`limits.maxChangesPerSweep`), and a
 * re-delivered schedule event names the same sweep.
 */
export function sweepIdOf(trigger: Trigger): string | null {
  if (trigger.source !== 'schedule') return null;
  return `sweep-${compactTime(trigger.time)}-${digest(`sweep|${trigger.eventId}`).slice(0, 8)}`;
}

/** Run and sweep ids: they name state-table keys, so a character set that needs no escaping. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/** The enforcement loop's execution input (docs/loop.md "One execution = one scope"). */
export const ExecutionInputSchema = z.object({
  runId: z.string().min(1),
  accountId: AccountIdSchema,
  region: RegionSchema,
  roleArn: z.string().startsWith('arn:').nullable(),
  vpcIds: z.array(VpcIdSchema).nullable(),
  /**
   * The account's parent chain in AWS Organizations (OUs nearest first, then the root), read by whoever
   * starts the run when the policy targets OUs; empty otherwise. A handful of ids: AWS nests OUs five deep.
   */
  organizationalUnitIds: z.array(ParentIdSchema).max(6),
  /** The scheduled sweep this run is part of (`sweepIdOf`); null for a run an event started. */
  sweepId: z.string().regex(RUN_ID_PATTERN).nullable().default(null),
  maxIterations: z.number().int().positive(),
  pollSeconds: z.number().int().positive(),
  maxPolls: z.number().int().positive(),
  approvalTimeoutSeconds: z.number().int().positive(),
});
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

/**
 * The loop's settings for every run, whoever starts it (on-event in Lambda, the demo, the tests): the one place
 * they are set. An iteration that finds no work goes straight to Report, so a converged scope never spends the
 * iterations it has left; six let a VPC that drifts mid-run be restored and its exclusions cleaned up.
 */
export const LOOP_DEFAULTS = { maxIterations: 6, pollSeconds: 30, maxPolls: 40 } as const;

export interface RunSettings {
  /** The member-account role the handlers assume (same name in every account); absent: own credentials. */
  readonly memberRoleName?: string;
  readonly policy: Pick<Policy, 'approval'>;
}

/**
 * The execution input for one trigger. `organizationalUnitIds` is the scope account's parent chain when the
 * policy targets OUs (the caller reads it: the domain does not call AWS), so that the run's audit matches
 * OU targets exactly as the sweep that chose the scope did.
 */
export function executionInput(
  trigger: Trigger,
  settings: RunSettings,
  organizationalUnitIds: readonly string[] = [],
): ExecutionInput {
  return {
    runId: runIdOf(trigger),
    accountId: trigger.accountId,
    region: trigger.region,
    roleArn:
      settings.memberRoleName === undefined
        ? null
        : `arn:${partitionOf(trigger.region)}:iam::${trigger.accountId}:role/${settings.memberRoleName}`,
    vpcIds: trigger.vpcIds,
    organizationalUnitIds: [...organizationalUnitIds],
    sweepId: sweepIdOf(trigger),
    ...LOOP_DEFAULTS,
    approvalTimeoutSeconds: settings.policy.approval.timeoutMinutes * 60,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function run(triggers: Trigger[]): TriggerDecision {
  return { kind: 'run', triggers };
}
function ignored(reason: string): TriggerDecision {
  return { kind: 'ignored', reason };
}
function invalid(reason: string): TriggerDecision {
  return { kind: 'invalid', reason: oneLine(reason) };
}

/** An id as a part of a dedup key: `+` joins coalesced keys, so a sender's own `+` must not split one. */
function idPart(id: string): string {
  return id.replace(/[%+]/g, (c) => encodeURIComponent(c));
}

function trigger(
  e: EventBridgeEvent,
  fields: Pick<Trigger, 'source' | 'vpcIds' | 'reason'> & { eventId?: string },
): Trigger {
  return { accountId: e.account, region: e.region, eventId: idPart(e.id), time: e.time, ...fields };
}

function explain(what: string, found: VpcIdsFound): Pick<Trigger, 'vpcIds' | 'reason'> {
  if (found.vpcIds === null) return { vpcIds: null, reason: `${what}; whole scope: ${found.because}` };
  if (found.vpcIds.length > MAX_VPC_IDS) {
    return { vpcIds: null, reason: `${what}; whole scope: more than ${MAX_VPC_IDS} VPCs` };
  }
  return { vpcIds: [...new Set(found.vpcIds)].sort(), reason: what };
}

function ruleName(arn: string | undefined): string {
  const name = arn?.split(':rule/')[1];
  return name ? ` (rule ${name})` : '';
}

function isVpcId(value: unknown): value is string {
  return typeof value === 'string' && VPC_ID_PATTERN.test(value);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Bounded walk: events are small, but a hostile or broken one must not make classification hang. */
const WALK_MAX_DEPTH = 12;
const WALK_MAX_NODES = 20_000;

function walk(roots: readonly unknown[], visit: (value: unknown) => void): void {
  let budget = WALK_MAX_NODES;
  const go = (value: unknown, depth: number) => {
    if (budget-- <= 0 || depth > WALK_MAX_DEPTH) return;
    visit(value);
    if (Array.isArray(value)) for (const v of value) go(v, depth + 1);
    else if (value !== null && typeof value === 'object')
      for (const v of Object.values(value)) go(v, depth + 1);
  };
  for (const root of roots) go(root, 0);
}

/** Every VPC id found anywhere within the roots, deduplicated and sorted. */
function vpcIdsWithin(roots: readonly unknown[]): string[] {
  const ids = new Set<string>();
  walk(roots, (v) => {
    if (isVpcId(v)) ids.add(v);
  });
  return [...ids].sort();
}

function collectObjects(root: unknown, visit: (o: Record<string, unknown>) => void): void {
  walk([root], (v) => {
    const o = asRecord(v);
    if (o) visit(o);
  });
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function formatPath(base: readonly PropertyKey[], path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of [...base, ...path]) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The first problem, in one line: where, what is wrong, what was expected; plus how many others. */
function describeIssues(what: string, error: z.ZodError, base: readonly PropertyKey[] = []): string {
  const [issue, ...rest] = error.issues;
  if (issue === undefined) return `${what} is invalid`;
  const where = formatPath(base, issue.path);
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${what}: ${where} is missing (expected ${issue.expected})${more}`;
  }
  const got = 'input' in issue && issue.code !== 'invalid_type' ? ` (got ${preview(issue.input)})` : '';
  return `${what}: ${where}: ${issue.message}${got}${more}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
