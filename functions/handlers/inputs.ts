/**
 * What the state machine hands each handler (docs/loop.md). Schemas, so that a malformed payload is refused
 * at the edge with the path that is wrong, and types derived from them.
 */
import { z } from 'zod';
import { AccountIdSchema, RegionSchema } from '../domain/model.ts';
import { ParentIdSchema } from '../domain/organization.ts';

export const ScopeSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'a run id is 1-80 letters, digits, - and _'),
  accountId: AccountIdSchema,
  region: RegionSchema,
  roleArn: z.string().startsWith('arn:').nullable().default(null),
  vpcIds: z.array(z.string().startsWith('vpc-')).nullable().default(null),
  /** The account's parent chain in AWS Organizations (functions/domain/triggers.ts `ExecutionInput`). */
  organizationalUnitIds: z.array(ParentIdSchema).max(6).default([]),
  /** The scheduled sweep the run belongs to: its runs share one change budget (store/change-budget.ts). */
  sweepId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/, 'a sweep id is 1-80 letters, digits, - and _')
    .nullable()
    .optional(),
});
export type Scope = z.infer<typeof ScopeSchema>;

export const StepInputSchema = z.object({
  scope: ScopeSchema,
  iteration: z.number().int().min(0),
});
export type StepInput = z.infer<typeof StepInputSchema>;

/**
 * Inventory, Audit and PublishFindings run in every iteration, and once more when the iterations ran out
 * after applying (`final`): that pass reads and audits the estate after the last change into the blobs
 * `final-snapshot` and `final` (functions/domain/run-blobs.ts `passBlobs`), for Report to read.
 */
export const PassInputSchema = StepInputSchema.extend({ final: z.boolean().optional() });
export type PassInput = z.infer<typeof PassInputSchema>;

export const LoadPageInputSchema = StepInputSchema.extend({ page: z.number().int().min(0) });

export const ApproverAnswerSchema = z.object({
  approvalId: z.string().min(1),
  approved: z.literal(true),
  approver: z.string().startsWith('arn:'),
  reason: z.string().optional(),
});
export type ApproverAnswer = z.infer<typeof ApproverAnswerSchema>;

export const ApplyInputSchema = StepInputSchema.extend({
  groupId: z.string().min(1),
  mode: z.enum(['auto', 'approved']),
  /** For `approved`: the approver's answer as SendTaskSuccess delivered it. Re-checked against the store. */
  approval: ApproverAnswerSchema.optional(),
});
export type ApplyInput = z.infer<typeof ApplyInputSchema>;

export const RequestApprovalInputSchema = StepInputSchema.extend({
  groupId: z.string().min(1),
  taskToken: z.string().min(1),
  timeoutSeconds: z.number().int().positive(),
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

/** What Step Functions puts in ResultPath when a Catch fires: `{ Error, Cause }`. */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

export const RecordRejectionInputSchema = z.object({
  scope: ScopeSchema,
  iteration: z.number().int().min(0).optional(),
  groupId: z.string().min(1),
  rejection: CaughtErrorSchema,
});

export const ScopeOnlyInputSchema = z.object({
  scope: ScopeSchema,
  iteration: z.number().int().min(0).optional(),
});

export const FailureReportInputSchema = z.object({
  scope: ScopeSchema,
  iteration: z.number().int().min(0).optional(),
  error: CaughtErrorSchema,
  /** `$$.Execution.Id`: the history holds every failed attempt, including changes a step could not record. */
  executionArn: z.string().startsWith('arn:').optional(),
});

/** What FinalFindings (PublishFindings of the final pass) returned; the rest of its output is not needed. */
export const PublishedFindingsSchema = z.object({
  imported: z.number().int(),
  resolved: z.number().int(),
  archived: z.number().int(),
  /** Absent in dry-run, where nothing is imported. */
  failedCount: z.number().int().optional(),
});

export const ReportInputSchema = StepInputSchema.extend({
  iterations: z.number().int().min(0),
  /** null: there was no final pass (nothing was applied after the last audit). */
  finalFindings: PublishedFindingsSchema.nullable().default(null),
});
export type ReportInput = z.infer<typeof ReportInputSchema>;
