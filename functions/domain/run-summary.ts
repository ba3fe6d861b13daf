/**
 * The run summary: where a run left its scope compared with where it started — verdict per VPC before and
 * after, each VPC's actions and what is left and why, approvals, action counts, findings, verdicts per
 * iteration — folded from what the run recorded. The Report handler reads the stores and hands it all in;
 * the summary it stores is what `vecguard demo`, report.html and the SNS run report are made from.
 *
 * Attempts are taken in the audit log's order — time, then action id, the log's sort key
 * (functions/adapters/store/audit-log.ts) — whatever order they are handed in, so "the last attempt" of an
 * action is the same however the log was read.
 */
import { z } from 'zod';
import type { ActionKind, ActionOutcome } from './action-kinds.ts';
import { describeAction, namesOf } from './action-text.ts';
import type { InventorySnapshot } from './model.ts';
import type { RunReportNotice } from './notifications.ts';
import { type PlannedAction, type RemediationPlan, vpcOf } from './remediation-plan.ts';
import { type AuditReport, COMPLIANT_VERDICTS, VerdictKindSchema } from './verdict.ts';

/** One attempt at an action, as the audit log records it (the fields the summary reads). */
export interface ActionAttempt {
  /** When the attempt ended; with the action id, unique in the log. */
  readonly at: string;
  /** Names the action's kind and resource (planner.ts), so it is the same action in every iteration. */
  readonly actionId: string;
  readonly runId: string;
  readonly kind: ActionKind;
  readonly resourceId: string;
  /** The approver's ARN, or `auto`. */
  readonly approvedBy: string;
  readonly outcome: ActionOutcome;
  /** AWS's error, for a failed or refused attempt. */
  readonly error?: string | undefined;
}

/**
 * Attempts by outcome. A client error that never stops is retried each iteration: `failed` counts the
 * actions whose last attempt failed (a later success clears a failure), `failedAttempts` every failed
 * attempt. The other counts are attempts: an action is applied once, or refused again in each iteration.
 */
export const ActionCountsSchema = z.object({
  applied: z.number().int(),
  dryRun: z.number().int(),
  failed: z.number().int(),
  failedAttempts: z.number().int(),
  alreadySo: z.number().int(),
  refused: z.number().int(),
});
export type ActionCounts = z.infer<typeof ActionCountsSchema>;

export const VerdictCountsSchema = z.partialRecord(VerdictKindSchema, z.number().int());
export type VerdictCounts = z.infer<typeof VerdictCountsSchema>;

/** The stored `report` blob: what `vecguard demo`, report.html and the SNS run report are made from. */
export const RunSummarySchema = z.object({
  runId: z.string(),
  accountId: z.string(),
  region: z.string(),
  dryRun: z.boolean(),
  iterations: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string(),
  vpcs: z.array(
    z.object({
      vpcId: z.string(),
      name: z.string(),
      before: VerdictKindSchema.nullable(),
      after: VerdictKindSchema,
      exclusions: z.array(z.string()),
      actions: z.array(
        z.object({ kind: z.string(), summary: z.string(), outcome: z.string(), approvedBy: z.string() }),
      ),
      /** Why the VPC is not where the policy wants it (empty when it is). */
      remaining: z.array(z.string()),
      blockers: z.array(z.object({ id: z.string(), kind: z.string(), guidance: z.string().optional() })),
    }),
  ),
  transitGateways: z.array(
    z.object({ id: z.string(), name: z.string().optional(), encryptionSupport: z.string() }),
  ),
  approvals: z.object({
    requested: z.number().int(),
    approved: z.number().int(),
    rejected: z.number().int(),
    expired: z.number().int(),
    pending: z.number().int(),
  }),
  actions: ActionCountsSchema,
  findings: z
    .object({
      imported: z.number().int(),
      resolved: z.number().int(),
      archived: z.number().int(),
      failed: z.number().int(),
    })
    .nullable(),
  /** Verdict counts at the start of each iteration, and at the end. */
  verdictsPerIteration: z.array(VerdictCountsSchema),
  /**
   * Actions the caps held back and the run never made: `deferred-cap` in its last plan (changes per run or
   * sweep, or the monthly cost limit), or refused a reservation by Apply. Not failures: a later run picks
   * them up. Absent in summaries stored before the caps were counted.
   */
  deferredCap: z.number().int().optional(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** What a run recorded, as the Report step read it. */
export interface RunRecord {
  readonly scope: { readonly runId: string; readonly accountId: string; readonly region: string };
  readonly dryRun: boolean;
  readonly iterations: number;
  readonly finishedAt: string;
  /** The audit of every iteration that got as far as one, in order. */
  readonly audits: readonly AuditReport[];
  /**
   * Where the run ended and the snapshot behind it: the last iteration's audit, or (`fresh`) the final pass's,
   * taken because something was applied after it (`needsFreshAudit`; docs/loop.md, "States").
   */
  readonly final: {
    readonly audit: AuditReport;
    readonly snapshot: InventorySnapshot;
    readonly fresh: boolean;
  };
  /** The plan of each iteration up to the last audited one, in order (undefined: none stored). */
  readonly plans: readonly (RemediationPlan | undefined)[];
  /** The scope's audit-log entries, in any order; other runs' are left out. */
  readonly attempts: readonly ActionAttempt[];
  readonly approvals: readonly { readonly status: string }[];
  /** What publishing the final pass's findings did; null when there was no final pass. */
  readonly findings: RunSummary['findings'];
  /** Actions Apply held back because a change cap was full (store/change-budget.ts). */
  readonly heldBack?: readonly string[];
}

/** The audit log's order: time, then action id. */
function inLogOrder(attempts: readonly ActionAttempt[]): ActionAttempt[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...attempts].sort((a, b) => cmp(a.at, b.at) || cmp(a.actionId, b.actionId));
}

/** Each action's last attempt, in the order the actions were first tried. */
function lastAttempts(ordered: readonly ActionAttempt[]): Map<string, ActionAttempt> {
  const last = new Map<string, ActionAttempt>();
  for (const a of ordered) last.set(a.actionId, a);
  return last;
}

/** `attempts` by outcome; `failed` counts actions whose last attempt failed (see `ActionCounts`). */
export function countActionOutcomes(attempts: readonly ActionAttempt[]): ActionCounts {
  const count = (outcome: ActionOutcome) => attempts.filter((a) => a.outcome === outcome).length;
  const last = lastAttempts(inLogOrder(attempts));
  return {
    applied: count('applied'),
    dryRun: count('dry-run'),
    failed: [...last.values()].filter((a) => a.outcome === 'failed').length,
    failedAttempts: count('failed'),
    alreadySo: count('already-so'),
    refused: count('refused'),
  };
}

export function countVerdicts(report: AuditReport): VerdictCounts {
  const counts: VerdictCounts = {};
  for (const v of report.vpcs) counts[v.verdict] = (counts[v.verdict] ?? 0) + 1;
  return counts;
}

/**
 * Whether Report must read and audit the scope again before it reports: when no iteration got as far as an
 * audit, or when the run applied something after the last one, the "after" would be the estate as it was.
 */
export function needsFreshAudit(
  lastAudit: AuditReport | undefined,
  attempts: readonly ActionAttempt[],
  runId: string,
): boolean {
  if (!lastAudit) return true;
  return attempts.some((a) => a.runId === runId && a.outcome === 'applied' && a.at >= lastAudit.takenAt);
}

export function summariseRun(record: RunRecord): RunSummary {
  const { scope, final } = record;
  const attempts = inLogOrder(record.attempts.filter((a) => a.runId === scope.runId));
  const first = record.audits[0];
  const names = namesOf(final.snapshot);
  // The latest plan that had an action says what it was for (its VPC) and how to put it in words.
  const plannedById = new Map<string, PlannedAction>();
  for (const p of record.plans) for (const a of p?.actions ?? []) plannedById.set(a.id, a);
  const lastPlan = record.plans.at(-1);
  const beforeById = new Map(first?.vpcs.map((v) => [v.vpcId, v.verdict]) ?? []);

  // An attempt records no VPC: the planned action it attempted knows it.
  const vpcOfAttempt = (a: ActionAttempt) =>
    vpcOf({ vpcId: plannedById.get(a.actionId)?.vpcId, resourceId: a.resourceId });
  const describe = (a: ActionAttempt) => {
    const planned = plannedById.get(a.actionId);
    return planned ? describeAction(planned, names) : `${a.kind} ${a.resourceId}`;
  };
  const byVpc = groupBy(attempts, vpcOfAttempt);
  const unresolvedByVpc = groupBy(
    [...lastAttempts(attempts).values()].filter((a) => a.outcome === 'failed'),
    vpcOfAttempt,
  );
  const guidanceFor = (vpcId: string) =>
    (lastPlan?.actions ?? [])
      .filter((a) => a.kind === 'manual-guidance' && a.vpcId === vpcId)
      .map((a) => a.reason);
  const statuses = record.approvals.map((a) => a.status);
  const withStatus = (status: string) => statuses.filter((s) => s === status).length;

  return {
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    dryRun: record.dryRun,
    iterations: record.iterations,
    startedAt: first?.takenAt ?? final.audit.takenAt,
    finishedAt: record.finishedAt,
    vpcs: final.audit.vpcs.map((v) => ({
      vpcId: v.vpcId,
      name: v.name,
      before: beforeById.get(v.vpcId) ?? null,
      after: v.verdict,
      exclusions: v.exclusionsEnabled,
      actions: (byVpc.get(v.vpcId) ?? []).map((a) => ({
        kind: a.kind,
        summary: describe(a),
        outcome: a.outcome,
        approvedBy: a.approvedBy,
      })),
      // An action whose last attempt failed comes first: it is why the VPC did not get further in this run.
      remaining: [
        ...(unresolvedByVpc.get(v.vpcId) ?? []).map(
          (a) => `Could not ${describe(a)}: ${(a.error ?? 'no error recorded').replace(/\.$/, '')}.`,
        ),
        ...(COMPLIANT_VERDICTS.has(v.verdict) || (v.desiredMode === 'monitor' && v.currentMode === 'monitor')
          ? []
          : [...v.reasons, ...guidanceFor(v.vpcId)]),
      ],
      blockers: v.blockers.map((b) => ({ id: b.id, kind: b.kind })),
    })),
    transitGateways: final.snapshot.transitGateways.map((t) => ({
      id: t.transitGatewayId,
      ...(t.tags.Name ? { name: t.tags.Name } : {}),
      encryptionSupport: t.encryptionSupport,
    })),
    approvals: {
      requested: statuses.length,
      approved: withStatus('approved'),
      rejected: withStatus('rejected'),
      expired: withStatus('expired'),
      pending: withStatus('pending'),
    },
    actions: countActionOutcomes(attempts),
    findings: record.findings,
    verdictsPerIteration: [
      ...record.audits.map(countVerdicts),
      ...(final.fresh ? [countVerdicts(final.audit)] : []),
    ],
    deferredCap: deferredByCaps(record, attempts),
  };
}

/** How many actions a cap held back and no later attempt of the run made (see `RunSummary.deferredCap`). */
function deferredByCaps(record: RunRecord, attempts: readonly ActionAttempt[]): number {
  const made = new Set(
    [...lastAttempts(attempts).values()]
      .filter((a) => a.outcome === 'applied' || a.outcome === 'already-so' || a.outcome === 'dry-run')
      .map((a) => a.actionId),
  );
  const held = new Set([
    ...(record.plans.at(-1)?.actions ?? []).filter((a) => a.status === 'deferred-cap').map((a) => a.id),
    ...(record.heldBack ?? []),
  ]);
  return [...held].filter((id) => !made.has(id)).length;
}

/** The SNS run report of a summary: verdict counts before → after, every action, what is left and why. */
export function runReportNotice(record: RunRecord, summary: RunSummary): RunReportNotice {
  const first = record.audits[0];
  return {
    runId: summary.runId,
    accountId: summary.accountId,
    region: summary.region,
    finishedAt: summary.finishedAt,
    dryRun: summary.dryRun,
    iterations: summary.iterations,
    verdictsBefore: first ? countVerdicts(first) : {},
    verdictsAfter: countVerdicts(record.final.audit),
    actions: summary.actions,
    actionLines: summary.vpcs.flatMap((v) =>
      v.actions.map((a) => ({ summary: a.summary, outcome: a.outcome })),
    ),
    approvals: summary.approvals,
    remaining: summary.vpcs
      .filter((v) => v.remaining.length > 0)
      .map((v) => ({ resourceId: v.vpcId, name: v.name, verdict: v.after, why: v.remaining[0] ?? '' })),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
