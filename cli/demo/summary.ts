/**
 * The demo's summary: every run of the session folded into one view per VPC (first "before", last "after",
 * every action applied), Transit Gateways, approvals and the mutating calls the sandbox received. Its JSON
 * form is the last line of `vecguard demo --json` (schema in docs/cli.md).
 */
import type { AuditEntry } from '../../functions/adapters/store/audit-log.ts';
import { countActionOutcomes } from '../../functions/domain/run-summary.ts';
import type { VerdictKind } from '../../functions/domain/verdict.ts';
import { foldRunsByScope } from '../runs.ts';
import type { EventDeliveries, RunRecord } from './session.ts';

export interface DemoVpc {
  readonly name: string;
  readonly vpcId: string;
  /** The scope the VPC is in: names repeat across accounts and Regions. */
  readonly accountId: string;
  readonly region: string;
  readonly before: VerdictKind | null;
  readonly after: VerdictKind;
  /**
   * The verdicts it had over the session's runs, oldest first, a verdict repeated back to back kept once:
   * `[before, after]` unless something happened between runs (drift: ENFORCED, DRIFTED, ENFORCED).
   */
  readonly verdicts: readonly VerdictKind[];
  /** Exclusions enabled at the end. */
  readonly exclusions: readonly string[];
  /** Actions applied (outcome `applied`), in order, in words. */
  readonly actions: readonly string[];
  /** What is left and why, when the VPC is not where the policy wants it. */
  readonly remaining: readonly string[];
}

export interface DemoSummary {
  readonly scenario: string;
  readonly dryRun: boolean;
  readonly approve: string;
  readonly runs: readonly { runId: string; label: string; status: string; error?: string }[];
  readonly vpcs: readonly DemoVpc[];
  readonly transitGateways: readonly { id: string; name?: string; encryptionSupport: string }[];
  readonly approvals: { requested: number; approved: number; rejected: number; expired: number };
  /**
   * Attempts by outcome over the session's audit log, except `failed`: actions whose last attempt failed
   * (a client error that never stops fails once per iteration; `failedAttempts` counts those attempts).
   */
  readonly actions: {
    applied: number;
    dryRun: number;
    failed: number;
    failedAttempts: number;
    refused: number;
  };
  /** Calls vecguard made that changed the estate (EC2, without DryRun); the replayed events are not counted. */
  readonly mutatingCalls: number;
  /** Step Functions StartExecution calls that started an execution (on-event's; a duplicate name is refused). */
  readonly executionsStarted: number;
  /** Approval requests published to SNS (message attribute `kind` = `approval-request`), re-sends included. */
  readonly approvalRequests: number;
  /** What became of `--events` (absent without it). */
  readonly events?: EventDeliveries;
  readonly seconds: number;
}

export function summarise(input: {
  scenario: string;
  dryRun: boolean;
  approve: string;
  runs: readonly RunRecord[];
  auditLog: readonly AuditEntry[];
  mutatingCalls: number;
  executionsStarted: number;
  approvalRequests: number;
  events?: EventDeliveries;
  seconds: number;
}): DemoSummary {
  const scopes = foldRunsByScope(input.runs.flatMap((r) => (r.summary ? [r.summary] : [])));
  const vpcs = scopes.flatMap(({ summary, verdicts }) =>
    summary.vpcs.map(
      (v): DemoVpc => ({
        name: v.name,
        vpcId: v.vpcId,
        accountId: summary.accountId,
        region: summary.region,
        before: v.before,
        after: v.after,
        verdicts: verdicts.get(v.vpcId) ?? [v.after],
        exclusions: v.exclusions,
        actions: v.actions.filter((a) => a.outcome === 'applied').map((a) => a.summary),
        remaining: v.remaining,
      }),
    ),
  );
  const approvals = input.runs.flatMap((r) => r.approvals);
  const counts = countActionOutcomes(input.auditLog);
  return {
    scenario: input.scenario,
    dryRun: input.dryRun,
    approve: input.approve,
    runs: input.runs.map((r) => ({
      runId: r.runId,
      label: r.label,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
    })),
    vpcs: vpcs.sort(
      (a, b) =>
        a.name.localeCompare(b.name) ||
        a.accountId.localeCompare(b.accountId) ||
        a.region.localeCompare(b.region),
    ),
    transitGateways: scopes.flatMap((s) => s.summary.transitGateways),
    approvals: {
      requested: approvals.length,
      approved: approvals.filter((a) => a.status === 'approved').length,
      rejected: approvals.filter((a) => a.status === 'rejected').length,
      expired: approvals.filter((a) => a.status === 'expired').length,
    },
    actions: {
      applied: counts.applied,
      dryRun: counts.dryRun,
      failed: counts.failed,
      failedAttempts: counts.failedAttempts,
      refused: counts.refused,
    },
    mutatingCalls: input.mutatingCalls,
    executionsStarted: input.executionsStarted,
    approvalRequests: input.approvalRequests,
    ...(input.events ? { events: input.events } : {}),
    seconds: input.seconds,
  };
}
