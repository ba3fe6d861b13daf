/**
 * Audit results: one verdict per VPC (docs/design.md §4), plus Transit Gateways and peerings, for one account +
 * Region. Schemas because verdicts cross Lambda boundaries and are stored between runs.
 */
import { z } from 'zod';
import { BlockerSchema, ExclusionNameSchema } from './model.ts';
import { DesiredModeSchema } from './policy.ts';

export const VERDICT_KINDS = [
  'ENFORCED',
  'ENFORCED_WITH_EXCLUSIONS',
  'READY_TO_ENFORCE',
  'BLOCKED',
  'UNMONITORED',
  'TRANSITIONING',
  'TRANSITION_FAILED',
  'DRIFTED',
  'EXEMPT',
  'MANAGED_ELSEWHERE',
] as const;
export const VerdictKindSchema = z.enum(VERDICT_KINDS);
export type VerdictKind = z.infer<typeof VerdictKindSchema>;

/** Verdicts whose VPC is where the policy wants it: findings PASS. */
export const COMPLIANT_VERDICTS: ReadonlySet<VerdictKind> = new Set([
  'ENFORCED',
  'ENFORCED_WITH_EXCLUSIONS',
  'EXEMPT',
]);

export const VpcVerdictSchema = z.object({
  vpcId: z.string(),
  /** The Name tag, or the id. */
  name: z.string(),
  accountId: z.string(),
  region: z.string(),
  verdict: VerdictKindSchema,
  desiredMode: DesiredModeSchema,
  /** Where the desired mode came from (tag, target, defaults). */
  policySource: z.string(),
  /** The control as seen, if any. */
  currentMode: z.enum(['monitor', 'enforce']).nullable(),
  controlState: z.string().nullable(),
  /** One sentence each, for people: why this verdict. */
  reasons: z.array(z.string()),
  /** Every blocker behind the verdict, classified. */
  blockers: z.array(BlockerSchema),
  /** Exclusions enforce would need for the excludable blockers, acceptable to the policy or not. */
  exclusionsNeeded: z.array(ExclusionNameSchema),
  /** Of those, the ones the policy does not accept: they keep the VPC BLOCKED. */
  exclusionsRefused: z.array(ExclusionNameSchema),
  /** Exclusions currently enabled (state enabled or enabling). */
  exclusionsEnabled: z.array(ExclusionNameSchema),
});
export type VpcVerdict = z.infer<typeof VpcVerdictSchema>;

export const TGW_VERDICT_KINDS = [
  'TGW_ENCRYPTION_ENABLED',
  'TGW_ENCRYPTION_ENABLING',
  'TGW_ENCRYPTION_DISABLED',
] as const;
export const TransitGatewayVerdictSchema = z.object({
  transitGatewayId: z.string(),
  accountId: z.string(),
  region: z.string(),
  verdict: z.enum(TGW_VERDICT_KINDS),
  encryptionSupport: z.string(),
  /** Preconditions of ModifyTransitGateway EncryptionSupport=enable that do not hold. */
  unmetPreconditions: z.array(z.string()),
  attachedVpcIds: z.array(z.string()),
  reasons: z.array(z.string()),
});
export type TransitGatewayVerdict = z.infer<typeof TransitGatewayVerdictSchema>;

export const PEERING_VERDICT_KINDS = [
  'PEERING_ENCRYPTED',
  'PEERING_NEEDS_EXCLUSION',
  'PEERING_NOT_APPLICABLE',
] as const;
export const PeeringVerdictSchema = z.object({
  peeringConnectionId: z.string(),
  accountId: z.string(),
  region: z.string(),
  verdict: z.enum(PEERING_VERDICT_KINDS),
  requesterVpcId: z.string(),
  accepterVpcId: z.string(),
  /** VPCs in this snapshot that need (or hold) the VpcPeering exclusion because of this peering. */
  needsExclusionOn: z.array(z.string()),
  reasons: z.array(z.string()),
});
export type PeeringVerdict = z.infer<typeof PeeringVerdictSchema>;

export const AuditReportSchema = z.object({
  accountId: z.string(),
  region: z.string(),
  takenAt: z.string(),
  /** True when a declarative policy manages the account's controls: reported, never acted on. */
  managedElsewhere: z.boolean(),
  vpcs: z.array(VpcVerdictSchema),
  transitGateways: z.array(TransitGatewayVerdictSchema),
  peerings: z.array(PeeringVerdictSchema),
});
export type AuditReport = z.infer<typeof AuditReportSchema>;

/** What the audit remembers between runs, to tell DRIFTED from never-enforced. */
export type VerdictHistory = Readonly<Record<string, VerdictKind>>;
