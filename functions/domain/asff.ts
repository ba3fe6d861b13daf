/**
 * The subset of the AWS Security Finding Format (ASFF) that vecguard writes, as a zod schema with the limits
 * Security Hub enforces, plus the small text and size tools the finding builder needs to stay inside them.
 *
 * Field names and limits follow `AwsSecurityFinding` in the Security Hub API reference
 * (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html) and
 * BatchImportFindings (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html).
 * Where AWS documents no bound (Resource.Id, Details.Other values, StatusReasons) the bound is vecguard's own,
 * chosen well inside what Security Hub accepts, so that one finding can never grow past the size limit.
 */
import { z } from 'zod';
import { InvalidInputError } from './errors.ts';

export const ASFF_SCHEMA_VERSION = '2018-10-08';

/**
 * Byte sizes are decimal (240 KB = 240,000 bytes, 6 MB = 6,000,000 bytes): the smaller reading of AWS's
 * "240 KB" and "6 MB", so a finding or batch that passes here passes whichever reading Security Hub uses.
 */
export const ASFF_LIMITS = {
  idLength: 512,
  generatorIdLength: 512,
  titleLength: 256,
  descriptionLength: 1024,
  recommendationTextLength: 512,
  severityOriginalLength: 64,
  types: 50,
  resourcesMin: 1,
  resourcesMax: 32,
  resourceTypeLength: 256,
  /** vecguard's bound: AWS documents none, real EC2 ids and ARNs are far shorter. */
  resourceIdLength: 512,
  regionLength: 16,
  productFields: 50,
  productFieldKeyLength: 128,
  productFieldValueLength: 2048,
  /** vecguard's bounds for `Details.Other` (AWS: a string map, bounds undocumented). */
  otherDetails: 16,
  otherDetailValueLength: 1024,
  /** vecguard's bounds for Compliance.StatusReasons. */
  statusReasons: 10,
  statusReasonCodeLength: 64,
  statusReasonDescriptionLength: 512,
  findingBytes: 240_000,
} as const;

/** BatchImportFindings: 1–100 findings and at most 6 MB per call. */
export const BATCH_IMPORT_LIMITS = { maxCount: 100, maxBytes: 6_000_000 } as const;

export const SeverityLabelSchema = z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
export type SeverityLabel = z.infer<typeof SeverityLabelSchema>;

export const ComplianceStatusSchema = z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE']);
export type ComplianceStatus = z.infer<typeof ComplianceStatusSchema>;

export const RecordStateSchema = z.enum(['ACTIVE', 'ARCHIVED']);
export type RecordState = z.infer<typeof RecordStateSchema>;

export const PartitionSchema = z.enum(['aws', 'aws-cn', 'aws-us-gov']);
export type Partition = z.infer<typeof PartitionSchema>;

/** ASFF timestamps are RFC 3339 (`2017-03-22T13:22:13.933Z`). */
const TimestampSchema = z.iso.datetime({ offset: true });

const text = (max: number) => z.string().min(1).max(max);

const StringMapSchema = (maxPairs: number, keyLength: number, valueLength: number) =>
  z
    .record(z.string().min(1).max(keyLength), z.string().max(valueLength))
    .refine((m) => Object.keys(m).length <= maxPairs, { message: `at most ${maxPairs} entries` });

export const SeveritySchema = z.object({
  Label: SeverityLabelSchema,
  /** The provider's own value; vecguard puts the verdict kind here. */
  Original: text(ASFF_LIMITS.severityOriginalLength).optional(),
});
export type Severity = z.infer<typeof SeveritySchema>;

/** `namespace/category/classifier`; the namespaces AWS allows. */
const FindingTypeSchema = z
  .string()
  .regex(
    /^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)(\/[^/]+){0,2}$/,
    'a finding type is namespace/category/classifier with an ASFF namespace',
  );
const FindingTypesSchema = z.array(FindingTypeSchema).min(1).max(ASFF_LIMITS.types);

const VpcInfoSchema = z.object({
  VpcId: z.string().optional(),
  OwnerId: z.string().optional(),
  Region: z.string().optional(),
});

/** The typed details vecguard fills in; anything else about a resource goes to `Other`. */
export const ResourceDetailsSchema = z.object({
  AwsEc2Vpc: z
    .object({
      State: z.string().optional(),
      CidrBlockAssociationSet: z.array(z.object({ CidrBlock: z.string().optional() })).optional(),
    })
    .optional(),
  AwsEc2NetworkInterface: z
    .object({
      NetworkInterfaceId: z.string().optional(),
      Attachment: z.object({ InstanceId: z.string().optional() }).optional(),
    })
    .optional(),
  AwsEc2Instance: z.object({ VpcId: z.string().optional() }).optional(),
  AwsEc2TransitGateway: z.object({ Id: z.string().optional() }).optional(),
  AwsEc2VpcPeeringConnection: z
    .object({
      VpcPeeringConnectionId: z.string().optional(),
      RequesterVpcInfo: VpcInfoSchema.optional(),
      AccepterVpcInfo: VpcInfoSchema.optional(),
    })
    .optional(),
  Other: StringMapSchema(
    ASFF_LIMITS.otherDetails,
    ASFF_LIMITS.productFieldKeyLength,
    ASFF_LIMITS.otherDetailValueLength,
  ).optional(),
});
export type ResourceDetails = z.infer<typeof ResourceDetailsSchema>;

/**
 * ASFF resource types vecguard uses. Each has a type-specific details object in ResourceDetails; gateways
 * (internet, egress-only, NAT, virtual private) have none and are `Other` with their ARN as Id.
 */
export const RESOURCE_TYPES = [
  'AwsEc2Vpc',
  'AwsEc2NetworkInterface',
  'AwsEc2Instance',
  'AwsEc2TransitGateway',
  'AwsEc2VpcPeeringConnection',
  'Other',
] as const;

export const ResourceSchema = z.object({
  Type: text(ASFF_LIMITS.resourceTypeLength),
  Id: text(ASFF_LIMITS.resourceIdLength),
  Partition: PartitionSchema.optional(),
  Region: text(ASFF_LIMITS.regionLength).optional(),
  Details: ResourceDetailsSchema.optional(),
});
export type Resource = z.infer<typeof ResourceSchema>;

export const StatusReasonSchema = z.object({
  ReasonCode: text(ASFF_LIMITS.statusReasonCodeLength),
  Description: text(ASFF_LIMITS.statusReasonDescriptionLength).optional(),
});

export const ComplianceSchema = z.object({
  Status: ComplianceStatusSchema,
  StatusReasons: z.array(StatusReasonSchema).min(1).max(ASFF_LIMITS.statusReasons).optional(),
});
export type Compliance = z.infer<typeof ComplianceSchema>;

const findingShape = {
  SchemaVersion: z.literal(ASFF_SCHEMA_VERSION),
  Id: text(ASFF_LIMITS.idLength),
  ProductArn: z
    .string()
    .regex(
      /^arn:aws(-cn|-us-gov)?:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/,
      'arn:<partition>:securityhub:<region>:<account>:product/<account>/default',
    ),
  GeneratorId: text(ASFF_LIMITS.generatorIdLength),
  AwsAccountId: z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits'),
  /** Security Hub fills it in itself; sent for readers of the finding before import. */
  Region: text(ASFF_LIMITS.regionLength).optional(),
  Types: FindingTypesSchema,
  CreatedAt: TimestampSchema,
  UpdatedAt: TimestampSchema,
  FirstObservedAt: TimestampSchema.optional(),
  LastObservedAt: TimestampSchema.optional(),
  /** Mirrors FindingProviderFields.Severity for consumers that read only the top level. */
  Severity: SeveritySchema,
  /** Where a provider sets severity and types: customers' BatchUpdateFindings changes never overwrite it. */
  FindingProviderFields: z.object({ Severity: SeveritySchema, Types: FindingTypesSchema }),
  Title: text(ASFF_LIMITS.titleLength),
  Description: text(ASFF_LIMITS.descriptionLength),
  Remediation: z
    .object({
      Recommendation: z.object({
        Text: text(ASFF_LIMITS.recommendationTextLength),
        Url: z.url().optional(),
      }),
    })
    .optional(),
  ProductFields: StringMapSchema(
    ASFF_LIMITS.productFields,
    ASFF_LIMITS.productFieldKeyLength,
    ASFF_LIMITS.productFieldValueLength,
  ).optional(),
  Resources: z.array(ResourceSchema).min(ASFF_LIMITS.resourcesMin).max(ASFF_LIMITS.resourcesMax),
  Compliance: ComplianceSchema.optional(),
  RecordState: RecordStateSchema,
};

function withinFindingSize(finding: unknown, ctx: z.RefinementCtx): void {
  const bytes = jsonByteLength(finding);
  if (bytes > ASFF_LIMITS.findingBytes) {
    ctx.addIssue({
      code: 'custom',
      message: `the finding is ${bytes} bytes of JSON; Security Hub accepts at most ${ASFF_LIMITS.findingBytes}`,
    });
  }
}

/**
 * A finding as vecguard sends it. Strict at the top level: a key vecguard must never send (notably
 * `Workflow`, which belongs to the customer) fails validation instead of slipping through.
 */
export const FindingSchema = z.strictObject(findingShape).superRefine(withinFindingSize);
export type Finding = z.infer<typeof FindingSchema>;

/**
 * A vecguard finding as GetFindings returns it: Security Hub adds fields of its own (Workflow, ProductName,
 * `aws/securityhub/*` product fields, Severity.Normalized, …). Those are dropped so that the finding can be
 * sent again (resolved or archived) as a provider update.
 */
export const StoredFindingSchema = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null) return raw;
  const finding = raw as Record<string, unknown>;
  const fields = finding.ProductFields;
  if (typeof fields !== 'object' || fields === null) return raw;
  const own = Object.fromEntries(Object.entries(fields).filter(([key]) => !key.startsWith('aws/')));
  return { ...finding, ProductFields: own };
}, z.object(findingShape));

/** Read a finding that Security Hub returned, keeping only what a provider may send back. */
export function parseStoredFinding(raw: unknown): Finding {
  return StoredFindingSchema.parse(raw);
}

/** The AWS partition a Region belongs to. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The ProductArn of a custom integration: findings a customer's own account produces. */
export function productArn(accountId: string, region: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** Bytes of a string once UTF-8 encoded (lone surrogates count as U+FFFD, as an encoder would write them). */
export function utf8ByteLength(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (isHighSurrogate(unit) && isLowSurrogate(value.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Size of a value as the JSON Security Hub receives. */
export function jsonByteLength(value: unknown): number {
  return utf8ByteLength(JSON.stringify(value));
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

export const TRUNCATION_MARKER = '… [truncated]';

/**
 * Cut `value` to at most `max` UTF-16 units (so also at most `max` code points, whichever way AWS counts),
 * ending with a visible marker when anything was cut. Never splits a surrogate pair.
 */
export function truncateText(value: string, max: number, marker = TRUNCATION_MARKER): string {
  if (value.length <= max) return value;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  let end = max - marker.length;
  if (isHighSurrogate(value.charCodeAt(end - 1))) end--;
  return `${value.slice(0, end)}${marker}`;
}

/**
 * Text made of a body that may be cut and a tail that must stay visible (e.g. "… and 9 more"): the body is
 * truncated first so the tail survives; only a tail longer than the limit is itself cut.
 */
export function fitText(body: string, tail: string, max: number): string {
  if (tail === '') return truncateText(body, max);
  if (tail.length >= max) return truncateText(tail, max);
  const room = max - tail.length;
  return `${truncateText(body, room)}${tail}`;
}

/**
 * A deterministic, short digest (FNV-1a, 64-bit, hex) for ids that must be bounded but stay unique
 * per input. Not a security hash: it only keeps over-long ids apart.
 */
export function digest(value: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < value.length; i++) {
    hash ^= BigInt(value.charCodeAt(i));
    hash = (hash * prime) & mask;
  }
  return hash.toString(16).padStart(16, '0');
}

/** An identifier kept within `max` units: over-long ones keep their start and end in a digest. */
export function boundedId(value: string, max: number): string {
  if (value.length <= max) return value;
  const suffix = `#${digest(value)}`;
  let end = max - suffix.length;
  if (isHighSurrogate(value.charCodeAt(end - 1))) end--;
  return `${value.slice(0, end)}${suffix}`;
}

/** `value` as a canonical ISO-8601 timestamp; anything else is invalid input naming `what`. */
export function toIso(value: string, what: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw new InvalidInputError(`${what} must be an ISO-8601 timestamp, got ${JSON.stringify(value)}`);
  }
  return new Date(ms).toISOString();
}

/**
 * An `UpdatedAt` Security Hub will accept as newer: `at`, or 1 ms after `previous` when `at` is not after it
 * (clock skew, two runs in one millisecond, a replayed snapshot).
 */
export function nextUpdatedAt(at: string, previous?: string): string {
  const now = Date.parse(toIso(at, 'takenAt'));
  const before = previous === undefined ? Number.NaN : Date.parse(previous);
  return new Date(Number.isNaN(before) || now > before ? now : before + 1).toISOString();
}
