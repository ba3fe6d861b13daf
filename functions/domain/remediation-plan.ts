/**
 * The shape of a remediation plan: ordered actions, each with its gate, risk, cost and the actions it must
 * wait for. The planner (planner.ts) builds it; the loop applies it; the CLI shows it before anything runs.
 */
import { z } from 'zod';
import { ActionKindSchema, GateSchema, RiskSchema } from './action-kinds.ts';
import { ExclusionNameSchema } from './model.ts';

/**
 * - auto / approval / off: the policy's gate for the action's kind;
 * - manual: guidance for a person, never applied by vecguard.
 */
export const PlannedGateSchema = z.union([GateSchema, z.literal('manual')]);
export type PlannedGate = z.infer<typeof PlannedGateSchema>;

/**
 * - ready: may be applied (after approval when gated so) in this run;
 * - deferred-cap: over the run's change cap or cost limit; the next run picks it up;
 * - deferred-window: outside every maintenance window;
 * - blocked-by-dependency: waits for an action that is deferred or off;
 * - skipped-off: the policy's gate is off; reported, never applied;
 * - guidance: manual guidance.
 */
export const ActionStatusSchema = z.enum([
  'ready',
  'deferred-cap',
  'deferred-window',
  'blocked-by-dependency',
  'skipped-off',
  'guidance',
]);
export type ActionStatus = z.infer<typeof ActionStatusSchema>;

export const ActionParamsSchema = z.object({
  mode: z.enum(['monitor', 'enforce']).optional(),
  exclusion: ExclusionNameSchema.optional(),
  /** For enforce: the exclusions it relies on (already enabled or enabled by a dependency). */
  exclusions: z.array(ExclusionNameSchema).optional(),
  instanceId: z.string().optional(),
  fromInstanceType: z.string().optional(),
  toInstanceType: z.string().optional(),
  /** Set when the source type runs on Xen: the AMI needs ENA and NVMe drivers before the move. */
  driverCheckRequired: z.boolean().optional(),
  transitGatewayId: z.string().optional(),
  /** For manual guidance: the blocker ids it is about. */
  resourceIds: z.array(z.string()).optional(),
  /** For manual guidance about an Auto Scaling group: its members are never stopped, its launch template is the fix. */
  autoScalingGroupName: z.string().optional(),
  /** For create-flow-log: where the new flow log delivers, and its custom format carrying `${encryption-status}`. */
  flowLog: z
    .object({
      destinationType: z.enum(['cloud-watch-logs', 's3']),
      destination: z.string(),
      deliverLogsPermissionArn: z.string().optional(),
      logFormat: z.string(),
    })
    .optional(),
});
export type ActionParams = z.infer<typeof ActionParamsSchema>;

export const PlannedActionSchema = z.object({
  /** Deterministic: the same snapshot and policy give the same ids (kind + target + detail). */
  id: z.string(),
  kind: ActionKindSchema,
  accountId: z.string(),
  region: z.string(),
  /** The VPC the action serves (for TGW actions: absent). */
  vpcId: z.string().optional(),
  /** The resource the action changes: VPC, instance, TGW, control. */
  resourceId: z.string(),
  gate: PlannedGateSchema,
  status: ActionStatusSchema,
  risks: z.array(RiskSchema),
  /** Added (positive) or saved (negative) monthly cost in USD at the policy's price. */
  monthlyCostDeltaUsd: z.number(),
  /** One sentence for people: why this action. */
  reason: z.string(),
  /** Ids of actions that must complete first. Always earlier in the plan. */
  dependsOn: z.array(z.string()),
  params: ActionParamsSchema,
});
export type PlannedAction = z.infer<typeof PlannedActionSchema>;

/**
 * The VPC an action serves. An action on the VPC itself (its control, its exclusions, its flow logs) may name
 * the VPC only as its resource, and audit-log entries carry the same two fields, so the resource stands in.
 */
export function vpcOf(action: { readonly vpcId?: string | undefined; readonly resourceId: string }): string {
  return action.vpcId ?? action.resourceId;
}

export const RemediationPlanSchema = z.object({
  accountId: z.string(),
  region: z.string(),
  /** The snapshot time the plan was made from. */
  plannedAt: z.string(),
  dryRun: z.boolean(),
  /** In dependency order: an action's dependencies always come before it. */
  actions: z.array(PlannedActionSchema),
  summary: z.object({
    ready: z.number().int(),
    needApproval: z.number().int(),
    deferred: z.number().int(),
    skipped: z.number().int(),
    guidance: z.number().int(),
    /** Monthly cost delta of the ready actions. */
    monthlyCostDeltaUsd: z.number(),
  }),
});
export type RemediationPlan = z.infer<typeof RemediationPlanSchema>;
