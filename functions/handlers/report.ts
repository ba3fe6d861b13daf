/**
 * Report: where the scope ended, compared with where it started — verdict per VPC before and after, the
 * actions applied, approvals, findings — stored for the CLI and summarised on SNS. When anything was applied
 * after the last audit, the scope is read and audited once more (and its findings published) so the "after"
 * is the estate as it is, not as it was an iteration ago.
 */
import { readInventory } from '../adapters/inventory.ts';
import { notify } from '../adapters/notifier.ts';
import { BlobNotFoundError } from '../adapters/store/errors.ts';
import { describeAction } from '../domain/action-text.ts';
import { audit } from '../domain/audit.ts';
import type { InventorySnapshot } from '../domain/model.ts';
import { runReportNotification } from '../domain/notifications.ts';
import type { RemediationPlan } from '../domain/remediation-plan.ts';
import { type AuditReport, COMPLIANT_VERDICTS, type VerdictKind } from '../domain/verdict.ts';
import { type Deps, deps, runKey } from './deps.ts';
import { ReportInputSchema, type StepInput } from './inputs.ts';
import { lambdaHandler } from './middy.ts';
import type { StoredPlan } from './plan.ts';
import { publishFindingsStep } from './publish-findings.ts';
import { namesOf } from './request-approval.ts';

export interface RunSummary {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  readonly dryRun: boolean;
  readonly iterations: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly vpcs: readonly {
    readonly vpcId: string;
    readonly name: string;
    readonly before: VerdictKind | null;
    readonly after: VerdictKind;
    readonly exclusions: readonly string[];
    readonly actions: readonly { kind: string; summary: string; outcome: string; approvedBy: string }[];
    /** Why the VPC is not where the policy wants it (empty when it is). */
    readonly remaining: readonly string[];
    readonly blockers: readonly { id: string; kind: string; guidance?: string }[];
  }[];
  readonly transitGateways: readonly { id: string; name?: string; encryptionSupport: string }[];
  readonly approvals: {
    readonly requested: number;
    readonly approved: number;
    readonly rejected: number;
    readonly expired: number;
    readonly pending: number;
  };
  readonly actions: { applied: number; dryRun: number; failed: number; alreadySo: number; refused: number };
  readonly findings: { imported: number; resolved: number; archived: number; failed: number } | null;
  /** Verdict counts at the start of each iteration, and at the end. */
  readonly verdictsPerIteration: readonly Partial<Record<VerdictKind, number>>[];
}

function countVerdicts(report: AuditReport): Partial<Record<VerdictKind, number>> {
  const counts: Partial<Record<VerdictKind, number>> = {};
  for (const v of report.vpcs) counts[v.verdict] = (counts[v.verdict] ?? 0) + 1;
  return counts;
}

async function optionalBlob<T>(
  d: Deps,
  scope: StepInput['scope'],
  name: string,
  iteration: number,
): Promise<T | undefined> {
  try {
    return await d.blobs.getBlob<T>(runKey(scope), name, iteration);
  } catch (e) {
    if (e instanceof BlobNotFoundError) return undefined;
    throw e;
  }
}

export async function report(input: StepInput & { iterations: number }, d: Deps) {
  const { scope } = input;
  const key = runKey(scope);
  // Every iteration that got as far as an audit, in order.
  const audits: AuditReport[] = [];
  for (let i = 0; i <= input.iterations; i++) {
    const a = await optionalBlob<AuditReport>(d, scope, 'audit', i);
    if (a) audits.push(a);
  }
  const first = audits[0];
  const lastIteration = audits.length - 1;
  const last = audits[lastIteration];
  const entries = (
    await d.auditLog.listAuditEntries(scope.accountId, scope.region, first ? { since: first.takenAt } : {})
  ).filter((e) => e.runId === scope.runId);

  let final = last;
  let finalSnapshot = last
    ? await optionalBlob<InventorySnapshot>(d, scope, 'snapshot', lastIteration)
    : undefined;
  let findings: RunSummary['findings'] = null;
  const changedSince = !last || entries.some((e) => e.outcome === 'applied' && e.at >= last.takenAt);
  if (changedSince || !finalSnapshot) {
    const ec2 = await d.ec2For(scope);
    finalSnapshot = await readInventory(ec2, {
      accountId: scope.accountId,
      region: scope.region,
      takenAt: d.now().toISOString(),
      ...(scope.vpcIds ? { vpcIds: scope.vpcIds } : {}),
    });
    final = audit(finalSnapshot, d.policy, await d.history.getVerdictHistory(scope.accountId, scope.region));
    await d.blobs.putBlob(key, 'final-snapshot', input.iterations, finalSnapshot);
    await d.blobs.putBlob(key, 'final', input.iterations, final);
    const published = await publishFindingsStep({ scope, iteration: input.iterations }, d, 'final');
    findings = {
      imported: published.imported,
      resolved: published.resolved,
      archived: published.archived,
      failed: published.failedCount ?? 0,
    };
    const verdicts: Record<string, VerdictKind> = await d.history.getVerdictHistory(
      scope.accountId,
      scope.region,
    );
    for (const v of final.vpcs) verdicts[v.vpcId] = v.verdict;
    await d.history.putVerdictHistory(scope.accountId, scope.region, verdicts, {
      updatedAt: final.takenAt,
      runId: scope.runId,
    });
  }
  if (!final || !finalSnapshot) throw new Error('no audit to report on');

  const lastPlan = await optionalBlob<StoredPlan>(d, scope, 'plan', lastIteration);
  const plannedById = new Map<string, RemediationPlan['actions'][number]>();
  for (let i = 0; i <= lastIteration; i++) {
    const p = await optionalBlob<StoredPlan>(d, scope, 'plan', i);
    for (const a of p?.plan.actions ?? []) plannedById.set(a.id, a);
  }
  const names = namesOf(finalSnapshot);
  const beforeById = new Map(first?.vpcs.map((v) => [v.vpcId, v.verdict]) ?? []);
  const approvals = await d.approvals.listForRun(scope.runId, scope);
  const guidanceFor = (vpcId: string) =>
    (lastPlan?.plan.actions ?? [])
      .filter((a) => a.kind === 'manual-guidance' && a.vpcId === vpcId)
      .map((a) => a.reason);

  /** Actions of the run whose last attempt failed (a later success clears a failure), with AWS's error. */
  const failuresFor = (vpcId: string) => {
    const last = new Map<string, (typeof entries)[number]>();
    for (const e of entries) {
      if ((plannedById.get(e.actionId)?.vpcId ?? e.resourceId) === vpcId) last.set(e.actionId, e);
    }
    return [...last.values()]
      .filter((e) => e.outcome === 'failed')
      .map((e) => {
        const planned = plannedById.get(e.actionId);
        const what = planned ? describeAction(planned, names) : `${e.kind} ${e.resourceId}`;
        return `Could not ${what}: ${(e.error ?? 'no error recorded').replace(/\.$/, '')}.`;
      });
  };

  const summary: RunSummary = {
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    dryRun: d.dryRun,
    iterations: input.iterations,
    startedAt: first?.takenAt ?? final.takenAt,
    finishedAt: d.now().toISOString(),
    vpcs: final.vpcs.map((v) => ({
      vpcId: v.vpcId,
      name: v.name,
      before: beforeById.get(v.vpcId) ?? null,
      after: v.verdict,
      exclusions: v.exclusionsEnabled,
      actions: entries
        .filter((e) => {
          const planned = plannedById.get(e.actionId);
          return (planned?.vpcId ?? e.resourceId) === v.vpcId;
        })
        .map((e) => {
          const planned = plannedById.get(e.actionId);
          return {
            kind: e.kind,
            summary: planned ? describeAction(planned, names) : `${e.kind} ${e.resourceId}`,
            outcome: e.outcome,
            approvedBy: e.approvedBy,
          };
        }),
      // An action whose last attempt failed comes first: it is why the VPC did not get further in this run.
      remaining: [
        ...failuresFor(v.vpcId),
        ...(COMPLIANT_VERDICTS.has(v.verdict) || (v.desiredMode === 'monitor' && v.currentMode === 'monitor')
          ? []
          : [...v.reasons, ...guidanceFor(v.vpcId)]),
      ],
      blockers: v.blockers.map((b) => ({ id: b.id, kind: b.kind })),
    })),
    transitGateways: finalSnapshot.transitGateways.map((t) => ({
      id: t.transitGatewayId,
      ...(t.tags.Name ? { name: t.tags.Name } : {}),
      encryptionSupport: t.encryptionSupport,
    })),
    approvals: {
      requested: approvals.length,
      approved: approvals.filter((a) => a.status === 'approved').length,
      rejected: approvals.filter((a) => a.status === 'rejected').length,
      expired: approvals.filter((a) => a.status === 'expired').length,
      pending: approvals.filter((a) => a.status === 'pending').length,
    },
    actions: {
      applied: entries.filter((e) => e.outcome === 'applied').length,
      dryRun: entries.filter((e) => e.outcome === 'dry-run').length,
      failed: entries.filter((e) => e.outcome === 'failed').length,
      alreadySo: entries.filter((e) => e.outcome === 'already-so').length,
      refused: entries.filter((e) => e.outcome === 'refused').length,
    },
    findings,
    verdictsPerIteration: [...audits.map(countVerdicts), ...(final === last ? [] : [countVerdicts(final)])],
  };
  await d.blobs.putBlob(key, 'report', 0, summary);
  await notify(
    d.sns,
    d.config.topicArn,
    runReportNotification({
      runId: scope.runId,
      accountId: scope.accountId,
      region: scope.region,
      finishedAt: summary.finishedAt,
      dryRun: summary.dryRun,
      iterations: summary.iterations,
      verdictsBefore: first ? countVerdicts(first) : {},
      verdictsAfter: countVerdicts(final),
      actions: summary.actions,
      actionLines: summary.vpcs.flatMap((v) =>
        v.actions.map((a) => ({ summary: a.summary, outcome: a.outcome })),
      ),
      approvals: summary.approvals,
      remaining: summary.vpcs
        .filter((v) => v.remaining.length > 0)
        .map((v) => ({ resourceId: v.vpcId, name: v.name, verdict: v.after, why: v.remaining[0] ?? '' })),
    }),
  );
  // The full summary can be large; the state machine's output carries its counts and where to find it.
  return {
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    iterations: summary.iterations,
    verdicts: countVerdicts(final),
    actions: summary.actions,
    approvals: summary.approvals,
    stored: { pk: `RUN#${scope.runId}#${scope.accountId}#${scope.region}`, name: 'report' },
  };
}

export const handler = lambdaHandler('Report', ReportInputSchema, (input) => report(input, deps()));
