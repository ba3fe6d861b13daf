/**
 * Audit verdicts → Security Hub findings (ASFF) (docs/design.md §4); what to send given the previous run's findings
 * is ./findings-lifecycle.ts.
 *
 * One finding per VPC, Transit Gateway and peering, with a deterministic Id built from account, Region,
 * resource and check, so a run re-imports (updates) the finding of the run before. Every text and list is
 * kept inside Security Hub's limits by truncating with a visible marker, never by failing: a finding that
 * cannot be imported is a finding nobody sees.
 *
 * Security Hub facts this relies on (docs/design.md §2, BatchImportFindings):
 * - a finding with a known Id is updated only when its `UpdatedAt` is newer than the stored one;
 * - providers resolve with `Compliance.Status = PASSED` and/or `RecordState = ARCHIVED`;
 * - providers set severity and types in `FindingProviderFields`, and never set `Workflow`.
 * https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
 */

import {
  ASFF_LIMITS,
  ASFF_SCHEMA_VERSION,
  boundedId,
  type ComplianceStatus,
  type Finding,
  fitText,
  jsonByteLength,
  nextUpdatedAt,
  partitionOf,
  productArn,
  type Resource,
  type SeverityLabel,
  toIso,
  truncateText,
} from './asff.ts';
import { BLOCKER_GUIDANCE, hasNoEnforcePath } from './blockers.ts';
import { displayText } from './display-text.ts';
import { InvalidInputError } from './errors.ts';
import { decodeFindingId, encodeFindingId } from './finding-id.ts';
import { AccountIdSchema, BLOCKER_KINDS, type Blocker, type BlockerKind, RegionSchema } from './model.ts';
import type { AuditReport, PeeringVerdict, TransitGatewayVerdict, VpcVerdict } from './verdict.ts';

/** The checks vecguard reports; part of every finding Id, so renaming one orphans its findings. */
export const CHECKS = {
  vpc: 'vpc-encryption-enforced',
  transitGateway: 'tgw-encryption-support',
  peering: 'peering-encryption',
} as const;
export type CheckId = (typeof CHECKS)[keyof typeof CHECKS];

export { FINDING_ID_PREFIX } from './finding-id.ts';

export const FINDING_TYPES = [
  'Software and Configuration Checks/AWS Security Best Practices',
  'Effects/Data Exposure',
] as const;

/** The Amazon VPC User Guide page for VPC encryption controls (also covers Transit Gateways and peering). */
export const VPC_ENCRYPTION_DOCS_URL =
  'https://docs.aws.amazon.com/vpc/latest/userguide/vpc-encryption-controls.html';

/** Keys vecguard writes into ProductFields (and reads back in reconciliation). */
export const PRODUCT_FIELD = {
  check: 'vecguard/check',
  verdict: 'vecguard/verdict',
  resourceId: 'vecguard/resourceId',
  desiredMode: 'vecguard/desiredMode',
  policySource: 'vecguard/policySource',
  currentMode: 'vecguard/currentMode',
  controlState: 'vecguard/controlState',
  blockerCount: 'vecguard/blockerCount',
  blockerIds: 'vecguard/blockerIds',
  exclusionsNeeded: 'vecguard/exclusionsNeeded',
  exclusionsRefused: 'vecguard/exclusionsRefused',
  exclusionsEnabled: 'vecguard/exclusionsEnabled',
  encryptionSupport: 'vecguard/encryptionSupport',
  unmetPreconditions: 'vecguard/unmetPreconditions',
  attachedVpcCount: 'vecguard/attachedVpcCount',
  needsExclusionOn: 'vecguard/needsExclusionOn',
  resolvedAt: 'vecguard/resolvedAt',
  archivedAt: 'vecguard/archivedAt',
} as const;

export interface FindingContext {
  /** ISO-8601: the snapshot's clock (no wall clock in the domain). */
  readonly takenAt: string;
  /** The finding last imported for this resource and check, if any: keeps CreatedAt/FirstObservedAt. */
  readonly previous?: Finding;
}

/** The finding id of a resource and check (functions/domain/finding-id.ts). */
export function findingId(accountId: string, region: string, resourceId: string, check: CheckId): string {
  return encodeFindingId({ accountId, region, resourceId, check });
}

/** The resource a vecguard finding is about (`vpc-…`, `tgw-…`, `pcx-…`), as the inventory names it. */
export function findingResourceId(finding: Finding): string | undefined {
  const fromFields = finding.ProductFields?.[PRODUCT_FIELD.resourceId];
  if (fromFields) return fromFields;
  return decodeFindingId(finding.Id)?.resourceId;
}

// ---------------------------------------------------------------------------------------------------------
// Assessment: compliance and severity

export interface Assessment {
  readonly status: ComplianceStatus;
  readonly severity: SeverityLabel;
  /** One sentence: why this status. */
  readonly reason: string;
  /** True when the VPC is in monitor and the policy asks for monitor. */
  readonly monitorAsAsked: boolean;
}

const MODE_RANK = { monitor: 1, enforce: 2 } as const;

/**
 * Compliance of a VPC verdict, judged against the mode the policy asks for, not against "enforce":
 * - a settled VPC in monitor whose policy asks for monitor PASSES (BLOCKED/READY_TO_ENFORCE only say whether
 *   enforce would be possible);
 * - EXEMPT PASSES (COMPLIANT_VERDICTS): the policy asks nothing of it, and NOT_AVAILABLE would read as
 *   "the check could not run", which is not true;
 * - MANAGED_ELSEWHERE is a WARNING when the declarative policy's mode falls short of vecguard's policy:
 *   a real gap, but not one vecguard may close;
 * - TRANSITIONING is a WARNING: the state is moving and is judged when it settles.
 */
export function assessVpcVerdict(
  verdict: Pick<VpcVerdict, 'verdict' | 'desiredMode' | 'currentMode' | 'controlState'>,
): Assessment {
  const { desiredMode, currentMode } = verdict;
  const asked = `The policy asks for ${desiredMode}`;
  const seen = currentMode ? `the control is in ${currentMode}` : 'there is no control';
  const meetsDesired =
    desiredMode === 'ignore' ||
    (currentMode !== null && MODE_RANK[currentMode] >= MODE_RANK[desiredMode as 'monitor' | 'enforce']);
  const result = (
    status: ComplianceStatus,
    severity: SeverityLabel,
    reason: string,
    monitorAsAsked = false,
  ): Assessment => ({ status, severity, reason, monitorAsAsked });

  switch (verdict.verdict) {
    case 'TRANSITION_FAILED':
      return result(
        'FAILED',
        'HIGH',
        `The control failed to change mode (state ${verdict.controlState ?? 'unknown'}).`,
      );
    case 'ENFORCED':
    case 'ENFORCED_WITH_EXCLUSIONS':
    case 'EXEMPT':
      return result('PASSED', 'INFORMATIONAL', `${asked} and ${seen}.`);
    case 'MANAGED_ELSEWHERE':
      return meetsDesired
        ? result('PASSED', 'INFORMATIONAL', `A declarative policy manages the control; ${asked} and ${seen}.`)
        : result('WARNING', 'LOW', `A declarative policy manages the control; ${asked} but ${seen}.`);
    case 'TRANSITIONING':
      return result(
        'WARNING',
        'LOW',
        `The control is changing (state ${verdict.controlState ?? 'unknown'}).`,
      );
    case 'DRIFTED':
      return result('FAILED', 'HIGH', `The VPC was enforced and no longer is; ${seen}.`);
    case 'UNMONITORED':
      return desiredMode === 'ignore'
        ? result('PASSED', 'INFORMATIONAL', `${asked} and ${seen}.`)
        : result('FAILED', desiredMode === 'enforce' ? 'HIGH' : 'MEDIUM', `${asked} but ${seen}.`);
    case 'BLOCKED':
    case 'READY_TO_ENFORCE':
      if (meetsDesired)
        return result('PASSED', 'INFORMATIONAL', `${asked} and ${seen}.`, desiredMode === 'monitor');
      return verdict.verdict === 'BLOCKED'
        ? result('FAILED', 'MEDIUM', `${asked} but ${seen} and resources block enforce.`)
        : result('FAILED', 'LOW', `${asked} but ${seen}; nothing blocks enforce.`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Resources

interface Scope {
  readonly accountId: string;
  readonly region: string;
}

function ec2Arn(scope: Scope, resourceType: string, id: string): string {
  return boundedId(
    `arn:${partitionOf(scope.region)}:ec2:${scope.region}:${scope.accountId}:${resourceType}/${id}`,
    ASFF_LIMITS.resourceIdLength,
  );
}

/**
 * ASFF type and ARN by resource-id prefix. Gateways and endpoints have no ASFF type of their own: they are
 * `Other`, identified by their ARN.
 */
const RESOURCE_BY_PREFIX: readonly (readonly [prefix: string, asffType: string, arnType: string])[] = [
  ['eni-', 'AwsEc2NetworkInterface', 'network-interface'],
  ['i-', 'AwsEc2Instance', 'instance'],
  ['pcx-', 'AwsEc2VpcPeeringConnection', 'vpc-peering-connection'],
  ['tgw-attach-', 'Other', 'transit-gateway-attachment'],
  ['tgw-', 'AwsEc2TransitGateway', 'transit-gateway'],
  ['vpc-', 'AwsEc2Vpc', 'vpc'],
  ['eigw-', 'Other', 'egress-only-internet-gateway'],
  ['igw-', 'Other', 'internet-gateway'],
  ['nat-', 'Other', 'natgateway'],
  ['vgw-', 'Other', 'vpn-gateway'],
  ['vpce-', 'Other', 'vpc-endpoint'],
];

/**
 * Text a person reads in the Security Hub console, within `max`: values from AWS (a Name tag, a blocker's
 * description, a state message) on one line with their controls and bidi characters as visible escapes,
 * escaped before the cut so that the limit holds for what is sent.
 */
function readable(value: string, max: number): string {
  return truncateText(displayText(value), max);
}

function otherDetails(entries: Record<string, string | undefined>): Record<string, string> | undefined {
  const kept = Object.entries(entries)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .slice(0, ASFF_LIMITS.otherDetails)
    .map(([key, value]) => [key, readable(value, ASFF_LIMITS.otherDetailValueLength)]);
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function blockerResource(blocker: Blocker, scope: Scope, withDetails: boolean): Resource {
  const id = blocker.id.trim() || blocker.id;
  const match = id.startsWith('arn:')
    ? undefined
    : RESOURCE_BY_PREFIX.find(([prefix]) => id.startsWith(prefix));
  const type = match?.[1] ?? 'Other';
  const resource: Resource = {
    Type: type,
    Id: match ? ec2Arn(scope, match[2], id) : boundedId(id, ASFF_LIMITS.resourceIdLength),
    Partition: partitionOf(scope.region),
    Region: scope.region,
  };
  if (!withDetails) return resource;
  const other = otherDetails({
    kind: blocker.kind,
    blockerType: blocker.type,
    description: blocker.description,
    isExcludable: String(blocker.isExcludable),
    instanceId: blocker.instanceId,
  });
  const details: NonNullable<Resource['Details']> = other ? { Other: other } : {};
  if (type === 'AwsEc2NetworkInterface') {
    details.AwsEc2NetworkInterface = {
      NetworkInterfaceId: boundedId(id, ASFF_LIMITS.resourceIdLength),
      ...(blocker.instanceId
        ? { Attachment: { InstanceId: boundedId(blocker.instanceId, ASFF_LIMITS.resourceIdLength) } }
        : {}),
    };
  }
  return Object.keys(details).length > 0 ? { ...resource, Details: details } : resource;
}

function vpcResource(scope: Scope, vpcId: string, other?: Record<string, string | undefined>): Resource {
  const details = other ? otherDetails(other) : undefined;
  return {
    Type: 'AwsEc2Vpc',
    Id: ec2Arn(scope, 'vpc', vpcId),
    Partition: partitionOf(scope.region),
    Region: scope.region,
    ...(details ? { Details: { Other: details } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Assembly within limits

interface FindingDraft {
  readonly scope: Scope;
  readonly check: CheckId;
  readonly resourceId: string;
  readonly title: string;
  readonly description: string;
  /** Noun for resources that did not fit, e.g. "blocking resources". */
  readonly relatedNoun: string;
  readonly primary: Resource;
  readonly related: readonly ((withDetails: boolean) => Resource)[];
  readonly assessment: Assessment;
  /** Severity.Original: the verdict kind. */
  readonly original: string;
  readonly remediation: string;
  /** Always sent. */
  readonly essentialFields: Record<string, string | undefined>;
  /** Dropped, with the related resources' Details, when the full finding is too large. */
  readonly extraFields: Record<string, string | undefined>;
}

interface Budget {
  /** Blockers' Details (kind, type, description…) and the optional product fields. */
  readonly detail: boolean;
}

/** Up to 31 related resources: with the primary one, Security Hub's 32. */
const MAX_RELATED = ASFF_LIMITS.resourcesMax - 1;

/**
 * First everything; if that passes ASFF_LIMITS.findingBytes, the lean finding: related resources without
 * Details and only the essential product fields. The lean finding always fits: every string in it is
 * bounded (ids 512, texts 256/1024/512, Details.Other values 1024, product fields 2048, at most 6 JSON bytes
 * per UTF-16 unit), which stays below 200 KB even when every character is a control character; the tests
 * build that worst case.
 */
const FULL: Budget = { detail: true };
const LEAN: Budget = { detail: false };

function productFields(entries: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entries)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
      .slice(0, ASFF_LIMITS.productFields)
      .map(([key, value]) => [key, readable(value, ASFF_LIMITS.productFieldValueLength)]),
  );
}

function checkScope(scope: Scope): void {
  if (!AccountIdSchema.safeParse(scope.accountId).success) {
    throw new InvalidInputError(`accountId must be 12 digits, got ${JSON.stringify(scope.accountId)}`);
  }
  if (!RegionSchema.safeParse(scope.region).success || scope.region.length > ASFF_LIMITS.regionLength) {
    throw new InvalidInputError(`region must look like us-east-1, got ${JSON.stringify(scope.region)}`);
  }
}

function assemble(draft: FindingDraft, ctx: FindingContext, budget: Budget): Finding {
  const { scope, assessment } = draft;
  const id = findingId(scope.accountId, scope.region, draft.resourceId, draft.check);
  const previous = ctx.previous?.Id === id ? ctx.previous : undefined;
  const takenAt = toIso(ctx.takenAt, 'takenAt');
  const related = draft.related.slice(0, MAX_RELATED).map((make) => make(budget.detail));
  const omitted = draft.related.length - related.length;
  const tail =
    omitted > 0
      ? ` … and ${omitted} more ${draft.relatedNoun} not attached to this finding (Security Hub allows ${ASFF_LIMITS.resourcesMax} resources per finding).`
      : '';
  const severity = { Label: assessment.severity, Original: truncateText(draft.original, 64) };
  const types = [...FINDING_TYPES];

  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: id,
    ProductArn: productArn(scope.accountId, scope.region),
    GeneratorId: `vecguard/${draft.check}`,
    AwsAccountId: scope.accountId,
    Region: scope.region,
    Types: types,
    CreatedAt: previous?.CreatedAt ?? takenAt,
    UpdatedAt: nextUpdatedAt(takenAt, previous?.UpdatedAt),
    FirstObservedAt: previous?.FirstObservedAt ?? previous?.CreatedAt ?? takenAt,
    LastObservedAt: takenAt,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: types },
    Title: readable(draft.title, ASFF_LIMITS.titleLength),
    Description: fitText(displayText(draft.description), tail, ASFF_LIMITS.descriptionLength),
    Remediation: {
      Recommendation: {
        Text: readable(draft.remediation, ASFF_LIMITS.recommendationTextLength),
        Url: VPC_ENCRYPTION_DOCS_URL,
      },
    },
    ProductFields: productFields({
      ...draft.essentialFields,
      ...(budget.detail ? draft.extraFields : {}),
    }),
    Resources: [draft.primary, ...related],
    Compliance: {
      Status: assessment.status,
      StatusReasons: [
        {
          ReasonCode: truncateText(draft.original, ASFF_LIMITS.statusReasonCodeLength),
          Description: readable(assessment.reason, ASFF_LIMITS.statusReasonDescriptionLength),
        },
      ],
    },
    RecordState: 'ACTIVE',
  };
}

/** Build the finding with the most detail that fits Security Hub's size limit. */
function build(draft: FindingDraft, ctx: FindingContext): Finding {
  checkScope(draft.scope);
  const full = assemble(draft, ctx, FULL);
  return jsonByteLength(full) <= ASFF_LIMITS.findingBytes ? full : assemble(draft, ctx, LEAN);
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function list(items: readonly string[]): string | undefined {
  return items.length > 0 ? items.join(', ') : undefined;
}

function sentence(value: string): string {
  const trimmed = value.trim();
  return trimmed === '' || /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

// ---------------------------------------------------------------------------------------------------------
// VPC findings

function vpcLabel(verdict: Pick<VpcVerdict, 'vpcId' | 'name'>): string {
  const name = verdict.name.trim();
  return name && name !== verdict.vpcId
    ? `${displayText(name, { max: 96 })} (${verdict.vpcId})`
    : verdict.vpcId;
}

function vpcTitle(verdict: VpcVerdict, assessment: Assessment): string {
  const vpc = `VPC ${vpcLabel(verdict)}`;
  if (assessment.monitorAsAsked) return `${vpc} monitors encryption in transit, as the policy asks`;
  switch (verdict.verdict) {
    case 'ENFORCED':
      return `${vpc} enforces encryption in transit`;
    case 'ENFORCED_WITH_EXCLUSIONS':
      return `${vpc} enforces encryption in transit, with exclusions`;
    case 'READY_TO_ENFORCE':
      return `${vpc} is ready to enforce encryption in transit but does not yet`;
    case 'BLOCKED':
      return `${vpc} cannot enforce encryption in transit: ${verdict.blockers.length} blocking resource(s)`;
    case 'UNMONITORED':
      return `${vpc} has no VPC encryption control`;
    case 'TRANSITIONING':
      return `${vpc} encryption control is changing mode`;
    case 'TRANSITION_FAILED':
      return `${vpc} encryption control failed to change mode`;
    case 'DRIFTED':
      return `${vpc} no longer enforces encryption in transit`;
    case 'EXEMPT':
      return `${vpc} is exempt from encryption-in-transit enforcement`;
    case 'MANAGED_ELSEWHERE':
      return `${vpc} encryption control is managed by a declarative policy`;
  }
}

/** Kinds present among the blockers, most frequent first (ties in BLOCKER_KINDS order). */
function kindCounts(blockers: readonly Blocker[]): [BlockerKind, number][] {
  const counts = new Map<BlockerKind, number>();
  for (const b of blockers) counts.set(b.kind, (counts.get(b.kind) ?? 0) + 1);
  return BLOCKER_KINDS.flatMap((k): [BlockerKind, number][] => {
    const n = counts.get(k);
    return n ? [[k, n]] : [];
  }).sort((a, b) => b[1] - a[1]);
}

function blockerRemediation(verdict: VpcVerdict): string {
  const parts: string[] = [];
  if (verdict.exclusionsRefused.length > 0) {
    parts.push(
      `The policy does not accept the exclusion(s) ${verdict.exclusionsRefused.join(', ')}: accept them in the policy or remove the resources that need them.`,
    );
  }
  const counts = kindCounts(verdict.blockers);
  // Kinds with no enforce path first: they decide whether enforce is possible at all.
  const ordered = [
    ...counts.filter(([k]) => hasNoEnforcePath(k)),
    ...counts.filter(([k]) => !hasNoEnforcePath(k)),
  ];
  for (const [kind, n] of ordered) parts.push(`${kind} (${n}): ${BLOCKER_GUIDANCE[kind]}`);
  return parts.join(' ');
}

function vpcRemediation(verdict: VpcVerdict, assessment: Assessment): string {
  const exclusions = verdict.exclusionsNeeded.length
    ? ` with the exclusion(s) ${verdict.exclusionsNeeded.join(', ')}`
    : '';
  if (assessment.monitorAsAsked) {
    return verdict.blockers.length > 0
      ? `No action needed: the policy asks for monitor. Before this VPC could be enforced: ${blockerRemediation(verdict)}`
      : `No action needed: the policy asks for monitor. Enforce would be possible${exclusions}.`;
  }
  switch (verdict.verdict) {
    case 'ENFORCED':
      return 'No action needed: encryption in transit is enforced with no exclusions.';
    case 'ENFORCED_WITH_EXCLUSIONS':
      return `No action needed. Traffic through the enabled exclusion(s) ${verdict.exclusionsEnabled.join(', ') || '(none listed)'} is not encrypted by the VPC: disable each once nothing needs it.`;
    case 'EXEMPT':
      return `No action: the policy exempts this VPC (${verdict.policySource}). Remove the exemption to have vecguard manage it.`;
    case 'MANAGED_ELSEWHERE':
      return 'An AWS Organizations declarative policy manages VPC encryption controls in this account: change the mode there. vecguard reports and does not act.';
    case 'UNMONITORED':
      return `Create a VPC encryption control (it starts in monitor mode): aws ec2 create-vpc-encryption-control --vpc-id ${verdict.vpcId}. vecguard plans this as create-monitor-control; then review the resources that block enforce.`;
    case 'READY_TO_ENFORCE':
      return `Switch the control to enforce${exclusions} (aws ec2 modify-vpc-encryption-control --mode enforce). vecguard plans this as switch-to-enforce.`;
    case 'BLOCKED':
      return (
        blockerRemediation(verdict) || 'Resolve the resources that block enforce, then switch to enforce.'
      );
    case 'TRANSITIONING':
      return `No action: the control is changing (state ${verdict.controlState ?? 'unknown'}). vecguard polls it; if it does not settle, read its StateMessage with aws ec2 describe-vpc-encryption-controls.`;
    case 'TRANSITION_FAILED':
      return `Read the control's StateMessage (aws ec2 describe-vpc-encryption-controls --vpc-ids ${verdict.vpcId}), fix the cause (often a resource that blocks enforce), then change the mode again.`;
    case 'DRIFTED':
      return `The VPC was enforced and no longer is: find the change in CloudTrail (ModifyVpcEncryptionControl, DeleteVpcEncryptionControl) and restore enforce${exclusions}. vecguard plans this as restore-enforce.`;
  }
}

function vpcDescription(verdict: VpcVerdict, assessment: Assessment): string {
  const control = verdict.currentMode
    ? `control in ${verdict.currentMode}${verdict.controlState ? `, state ${verdict.controlState}` : ''}`
    : 'no control';
  const parts = [
    `VPC ${vpcLabel(verdict)} in account ${verdict.accountId}, ${verdict.region}: ${verdict.verdict}.`,
    `Policy: ${verdict.desiredMode} (${verdict.policySource}); ${control}.`,
    sentence(assessment.reason),
    ...verdict.reasons.map(sentence),
  ];
  if (verdict.exclusionsNeeded.length > 0)
    parts.push(`Exclusions needed: ${verdict.exclusionsNeeded.join(', ')}.`);
  if (verdict.exclusionsRefused.length > 0) {
    parts.push(`Refused by the policy: ${verdict.exclusionsRefused.join(', ')}.`);
  }
  if (verdict.exclusionsEnabled.length > 0) parts.push(`Enabled: ${verdict.exclusionsEnabled.join(', ')}.`);
  if (verdict.blockers.length > 0) {
    const kinds = kindCounts(verdict.blockers)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    parts.push(`Blocking resources: ${verdict.blockers.length} (${kinds}).`);
  }
  return parts.filter((p) => p !== '').join(' ');
}

/** Non-excludable blockers first: they are the ones that keep a VPC from enforce. Stable otherwise. */
function blockersByImportance(blockers: readonly Blocker[]): Blocker[] {
  const unique = uniqueBy(blockers, (b) => b.id);
  return [...unique.filter((b) => !b.isExcludable), ...unique.filter((b) => b.isExcludable)];
}

/** The finding for one VPC verdict. Pure and deterministic: the same verdict and context give the same JSON. */
export function findingForVerdict(verdict: VpcVerdict, ctx: FindingContext): Finding {
  const scope = { accountId: verdict.accountId, region: verdict.region };
  const assessment = assessVpcVerdict(verdict);
  const blockers = blockersByImportance(verdict.blockers);
  const primaryId = vpcResource(scope, verdict.vpcId).Id;
  return build(
    {
      scope,
      check: CHECKS.vpc,
      resourceId: verdict.vpcId,
      title: vpcTitle(verdict, assessment),
      description: vpcDescription(verdict, assessment),
      relatedNoun: 'blocking resources',
      primary: vpcResource(scope, verdict.vpcId, {
        Name: verdict.name,
        verdict: verdict.verdict,
        desiredMode: verdict.desiredMode,
        currentMode: verdict.currentMode ?? 'none',
        controlState: verdict.controlState ?? undefined,
      }),
      related: blockers
        .filter((b) => blockerResource(b, scope, false).Id !== primaryId)
        .map((b) => (withDetails: boolean) => blockerResource(b, scope, withDetails)),
      assessment,
      original: verdict.verdict,
      remediation: vpcRemediation(verdict, assessment),
      essentialFields: {
        [PRODUCT_FIELD.check]: CHECKS.vpc,
        [PRODUCT_FIELD.verdict]: verdict.verdict,
        [PRODUCT_FIELD.resourceId]: verdict.vpcId,
        [PRODUCT_FIELD.desiredMode]: verdict.desiredMode,
        [PRODUCT_FIELD.currentMode]: verdict.currentMode ?? 'none',
        [PRODUCT_FIELD.blockerCount]: String(verdict.blockers.length),
      },
      extraFields: {
        [PRODUCT_FIELD.policySource]: verdict.policySource,
        [PRODUCT_FIELD.controlState]: verdict.controlState ?? undefined,
        [PRODUCT_FIELD.exclusionsNeeded]: list(verdict.exclusionsNeeded),
        [PRODUCT_FIELD.exclusionsRefused]: list(verdict.exclusionsRefused),
        [PRODUCT_FIELD.exclusionsEnabled]: list(verdict.exclusionsEnabled),
        [PRODUCT_FIELD.blockerIds]: list(blockers.map((b) => b.id)),
      },
    },
    ctx,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Transit Gateway findings

const TGW_ASSESSMENT: Readonly<Record<TransitGatewayVerdict['verdict'], Omit<Assessment, 'reason'>>> = {
  TGW_ENCRYPTION_ENABLED: { status: 'PASSED', severity: 'INFORMATIONAL', monitorAsAsked: false },
  // Enabling can last up to 14 days (docs/design.md §2): judged when it settles.
  TGW_ENCRYPTION_ENABLING: { status: 'WARNING', severity: 'LOW', monitorAsAsked: false },
  TGW_ENCRYPTION_DISABLED: { status: 'FAILED', severity: 'MEDIUM', monitorAsAsked: false },
};

function tgwRemediation(verdict: TransitGatewayVerdict): string {
  switch (verdict.verdict) {
    case 'TGW_ENCRYPTION_ENABLED':
      return 'No action needed: traffic between attached VPCs is encrypted by the Transit Gateway.';
    case 'TGW_ENCRYPTION_ENABLING':
      return 'No action: enabling encryption support can take up to 14 days. vecguard polls it.';
    case 'TGW_ENCRYPTION_DISABLED': {
      const first =
        verdict.unmetPreconditions.length > 0
          ? `First: ${verdict.unmetPreconditions.map(sentence).join(' ')} `
          : '';
      return `${first}Then enable encryption support: aws ec2 modify-transit-gateway --transit-gateway-id ${verdict.transitGatewayId} --options EncryptionSupport=enable (takes up to 14 days; every attached VPC is then billed for encryption controls). vecguard plans this as enable-tgw-encryption.`;
    }
  }
}

const TGW_TITLE: Readonly<Record<TransitGatewayVerdict['verdict'], string>> = {
  TGW_ENCRYPTION_ENABLED: 'supports encryption in transit',
  TGW_ENCRYPTION_ENABLING: 'is enabling encryption support',
  TGW_ENCRYPTION_DISABLED: 'does not support encryption in transit',
};

/** The finding for one Transit Gateway verdict; attached VPCs are its related resources. */
export function findingForTransitGateway(verdict: TransitGatewayVerdict, ctx: FindingContext): Finding {
  const scope = { accountId: verdict.accountId, region: verdict.region };
  const base = TGW_ASSESSMENT[verdict.verdict];
  const assessment: Assessment = {
    ...base,
    reason: `Encryption support is ${verdict.encryptionSupport}.`,
  };
  const vpcIds = uniqueBy(verdict.attachedVpcIds, (v) => v);
  const description = [
    `Transit gateway ${verdict.transitGatewayId} in account ${verdict.accountId}, ${verdict.region}: ${verdict.verdict}.`,
    `Encryption support: ${verdict.encryptionSupport}; ${vpcIds.length} attached VPC(s).`,
    ...verdict.reasons.map(sentence),
    verdict.unmetPreconditions.length > 0
      ? `Unmet preconditions: ${verdict.unmetPreconditions.map(sentence).join(' ')}`
      : '',
  ]
    .filter((p) => p !== '')
    .join(' ');
  return build(
    {
      scope,
      check: CHECKS.transitGateway,
      resourceId: verdict.transitGatewayId,
      title: `Transit gateway ${verdict.transitGatewayId} ${TGW_TITLE[verdict.verdict]}`,
      description,
      relatedNoun: 'attached VPCs',
      primary: {
        Type: 'AwsEc2TransitGateway',
        Id: ec2Arn(scope, 'transit-gateway', verdict.transitGatewayId),
        Partition: partitionOf(scope.region),
        Region: scope.region,
        Details: {
          AwsEc2TransitGateway: { Id: boundedId(verdict.transitGatewayId, ASFF_LIMITS.resourceIdLength) },
          Other: otherDetails({ encryptionSupport: verdict.encryptionSupport }),
        },
      },
      related: vpcIds.map((vpcId) => () => vpcResource(scope, vpcId)),
      assessment,
      original: verdict.verdict,
      remediation: tgwRemediation(verdict),
      essentialFields: {
        [PRODUCT_FIELD.check]: CHECKS.transitGateway,
        [PRODUCT_FIELD.verdict]: verdict.verdict,
        [PRODUCT_FIELD.resourceId]: verdict.transitGatewayId,
        [PRODUCT_FIELD.encryptionSupport]: verdict.encryptionSupport,
      },
      extraFields: {
        [PRODUCT_FIELD.attachedVpcCount]: String(vpcIds.length),
        [PRODUCT_FIELD.unmetPreconditions]: list(verdict.unmetPreconditions),
      },
    },
    ctx,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Peering findings

const PEERING_ASSESSMENT: Readonly<Record<PeeringVerdict['verdict'], Omit<Assessment, 'reason'>>> = {
  PEERING_ENCRYPTED: { status: 'PASSED', severity: 'INFORMATIONAL', monitorAsAsked: false },
  PEERING_NEEDS_EXCLUSION: { status: 'FAILED', severity: 'MEDIUM', monitorAsAsked: false },
  // Neither side is (meant to be) enforced: there is nothing to judge yet.
  PEERING_NOT_APPLICABLE: { status: 'NOT_AVAILABLE', severity: 'INFORMATIONAL', monitorAsAsked: false },
};

const PEERING_REASON: Readonly<Record<PeeringVerdict['verdict'], string>> = {
  PEERING_ENCRYPTED: 'Both VPCs are enforced in the same Region without exclusions: encrypted end to end.',
  PEERING_NEEDS_EXCLUSION:
    'Traffic over this peering is not encrypted end to end; an enforced side needs the VpcPeering exclusion.',
  PEERING_NOT_APPLICABLE: 'Neither side is enforced or meant to be: the check does not apply yet.',
};

function peeringRemediation(verdict: PeeringVerdict): string {
  switch (verdict.verdict) {
    case 'PEERING_ENCRYPTED':
      return 'No action needed: keep both VPCs enforced without exclusions.';
    case 'PEERING_NOT_APPLICABLE':
      return 'No action needed until one of the peered VPCs is to be enforced.';
    case 'PEERING_NEEDS_EXCLUSION': {
      const on = verdict.needsExclusionOn.length ? ` on ${verdict.needsExclusionOn.join(', ')}` : '';
      return `Either enforce both VPCs, in the same Region and without exclusions (the peering is then encrypted end to end), or enable the VpcPeering exclusion${on} (traffic over the peering is then not encrypted by the VPC).`;
    }
  }
}

/** The finding for one peering verdict; the VPCs that need the exclusion are its related resources. */
export function findingForPeering(verdict: PeeringVerdict, ctx: FindingContext): Finding {
  const scope = { accountId: verdict.accountId, region: verdict.region };
  const assessment: Assessment = {
    ...PEERING_ASSESSMENT[verdict.verdict],
    reason: PEERING_REASON[verdict.verdict],
  };
  const needing = uniqueBy(verdict.needsExclusionOn, (v) => v);
  const description = [
    `Peering ${verdict.peeringConnectionId} between ${verdict.requesterVpcId} and ${verdict.accepterVpcId} (account ${verdict.accountId}, ${verdict.region}): ${verdict.verdict}.`,
    PEERING_REASON[verdict.verdict],
    ...verdict.reasons.map(sentence),
    needing.length > 0 ? `VPCs that need the VpcPeering exclusion: ${needing.join(', ')}.` : '',
  ]
    .filter((p) => p !== '')
    .join(' ');
  return build(
    {
      scope,
      check: CHECKS.peering,
      resourceId: verdict.peeringConnectionId,
      title: `Peering ${verdict.peeringConnectionId} ${
        verdict.verdict === 'PEERING_ENCRYPTED'
          ? 'is encrypted end to end'
          : verdict.verdict === 'PEERING_NEEDS_EXCLUSION'
            ? 'is not encrypted end to end and needs the VpcPeering exclusion'
            : 'is not subject to encryption enforcement'
      }`,
      description,
      relatedNoun: 'VPCs',
      primary: {
        Type: 'AwsEc2VpcPeeringConnection',
        Id: ec2Arn(scope, 'vpc-peering-connection', verdict.peeringConnectionId),
        Partition: partitionOf(scope.region),
        Region: scope.region,
        Details: {
          AwsEc2VpcPeeringConnection: {
            VpcPeeringConnectionId: boundedId(verdict.peeringConnectionId, ASFF_LIMITS.resourceIdLength),
            RequesterVpcInfo: { VpcId: boundedId(verdict.requesterVpcId, ASFF_LIMITS.resourceIdLength) },
            AccepterVpcInfo: { VpcId: boundedId(verdict.accepterVpcId, ASFF_LIMITS.resourceIdLength) },
          },
        },
      },
      related: needing.map((vpcId) => () => vpcResource(scope, vpcId)),
      assessment,
      original: verdict.verdict,
      remediation: peeringRemediation(verdict),
      essentialFields: {
        [PRODUCT_FIELD.check]: CHECKS.peering,
        [PRODUCT_FIELD.verdict]: verdict.verdict,
        [PRODUCT_FIELD.resourceId]: verdict.peeringConnectionId,
      },
      extraFields: { [PRODUCT_FIELD.needsExclusionOn]: list(needing) },
    },
    ctx,
  );
}

/**
 * Every finding of one audit report, each carrying CreatedAt/FirstObservedAt over from the previous
 * finding with the same Id. Feed the result, with the same `previous`, to `reconcileFindings`.
 */
export function findingsForAudit(report: AuditReport, previous: readonly Finding[] = []): Finding[] {
  const byId = new Map(previous.map((f) => [f.Id, f]));
  const ctxFor = (resourceId: string, check: CheckId): FindingContext => {
    const prev = byId.get(findingId(report.accountId, report.region, resourceId, check));
    return prev ? { takenAt: report.takenAt, previous: prev } : { takenAt: report.takenAt };
  };
  return [
    ...report.vpcs.map((v) => findingForVerdict(v, ctxFor(v.vpcId, CHECKS.vpc))),
    ...report.transitGateways.map((t) =>
      findingForTransitGateway(t, ctxFor(t.transitGatewayId, CHECKS.transitGateway)),
    ),
    ...report.peerings.map((p) => findingForPeering(p, ctxFor(p.peeringConnectionId, CHECKS.peering))),
  ];
}
