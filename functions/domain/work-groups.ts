/**
 * How a plan becomes work for the state machine: the ready actions grouped by the resource a person would
 * approve them for (a VPC, or a Transit Gateway), split into pages so that no payload grows with the estate.
 *
 * Within a run, a person answers for an action once: actions approved earlier in the run are applied
 * without asking again (a later iteration may still find them ready, e.g. enforce after an exclusion
 * settled) as long as they are still what the person was shown (the same digest, approval-digest.ts;
 * anything else is asked again), and actions rejected or expired earlier are not asked for again, nor is
 * anything that depends on them.
 */
import { z } from 'zod';
import { approvedAsShown } from './approval-digest.ts';
import { type PlannedAction, type RemediationPlan, RemediationPlanSchema } from './remediation-plan.ts';

export const GROUPS_PER_PAGE = 50;

export const WorkGroupSchema = z.object({
  /** The VPC id, or the resource id for actions without a VPC (Transit Gateways). */
  groupId: z.string().min(1),
  targetType: z.enum(['vpc', 'transit-gateway']),
  /** Gate auto: applied without asking. */
  autoActionIds: z.array(z.string()),
  /** Gate approval, approved earlier in this run as it is planned now (same digest): applied without asking again. */
  preApprovedActionIds: z.array(z.string()),
  /** Gate approval, not yet answered in this run, or approved when it did or found something else: need a person. */
  approvalActionIds: z.array(z.string()),
});
export type WorkGroup = z.infer<typeof WorkGroupSchema>;

/** What the Plan step stores (blob `plan`) for LoadPage, Apply, RequestApproval and Report to read. */
export const StoredPlanSchema = z.object({
  plan: RemediationPlanSchema,
  groups: z.array(WorkGroupSchema),
});
export type StoredPlan = z.infer<typeof StoredPlanSchema>;

export interface RunDecisions {
  /** Action id → the digests (approval-digest.ts) under which a person approved it in this run. */
  readonly approvedDigests: ReadonlyMap<string, ReadonlySet<string>>;
  /** Rejected or expired in this run. */
  readonly refusedActionIds: ReadonlySet<string>;
}

export function groupIdOf(action: Pick<PlannedAction, 'vpcId' | 'resourceId'>): string {
  return action.vpcId ?? action.resourceId;
}

/** Ready actions, minus those refused in this run and everything that depends on them, in plan order. */
function actionable(plan: RemediationPlan, decisions: RunDecisions): PlannedAction[] {
  const dropped = new Set<string>();
  const kept: PlannedAction[] = [];
  // Plan order puts dependencies first, so one pass sees every dependency before its dependents.
  for (const action of plan.actions) {
    const refused = decisions.refusedActionIds.has(action.id) || action.dependsOn.some((d) => dropped.has(d));
    if (refused) dropped.add(action.id);
    else if (action.status === 'ready' && (action.gate === 'auto' || action.gate === 'approval'))
      kept.push(action);
  }
  return kept;
}

/** `digests`: each action's digest as planned now (`actionDigests` of the plan and its snapshot). */
export function workGroups(
  plan: RemediationPlan,
  decisions: RunDecisions,
  digests: ReadonlyMap<string, string>,
): WorkGroup[] {
  const groups = new Map<
    string,
    { targetType: WorkGroup['targetType']; auto: string[]; pre: string[]; ask: string[] }
  >();
  for (const action of actionable(plan, decisions)) {
    const id = groupIdOf(action);
    let group = groups.get(id);
    if (!group) {
      group = { targetType: action.vpcId ? 'vpc' : 'transit-gateway', auto: [], pre: [], ask: [] };
      groups.set(id, group);
    }
    if (action.gate === 'auto') group.auto.push(action.id);
    else if (approvedAsShown(action.id, digests.get(action.id), decisions.approvedDigests))
      group.pre.push(action.id);
    else group.ask.push(action.id);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([groupId, g]) => ({
      groupId,
      targetType: g.targetType,
      autoActionIds: g.auto,
      preApprovedActionIds: g.pre,
      approvalActionIds: g.ask,
    }));
}

export function pageCount(groups: readonly unknown[]): number {
  return Math.ceil(groups.length / GROUPS_PER_PAGE);
}

export function page<T>(groups: readonly T[], n: number): T[] {
  return groups.slice(n * GROUPS_PER_PAGE, (n + 1) * GROUPS_PER_PAGE);
}
