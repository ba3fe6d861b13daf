/**
 * report.html: one run of the loop (one or several account + Region scopes) as a page a security engineer
 * reads from top to bottom — what ran, where the estate went, how each VPC got there and who approved it,
 * what is left and what to do about it, what it costs.
 *
 * Pure: data in, one string out. The page is self-contained and loads nothing (inline CSS and SVG, system
 * fonts, no script; its Content-Security-Policy says so), so it can be opened from a CI artefact or an
 * e-mail attachment. Every string that came from AWS or a user (VPC names are tags) goes through `esc`.
 */

import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { AuditEntry } from '../../functions/adapters/store/audit-log.ts';
import type { Finding } from '../../functions/domain/asff.ts';
import { BLOCKER_GUIDANCE } from '../../functions/domain/blockers.ts';
import { displayText } from '../../functions/domain/display-text.ts';
import { formatUsd } from '../../functions/domain/notifications.ts';
import { countActionOutcomes, type RunSummary } from '../../functions/domain/run-summary.ts';
import { COMPLIANT_VERDICTS, type VerdictKind } from '../../functions/domain/verdict.ts';
import { foldRunsByScope, shownVerdicts } from '../runs.ts';
import { mergeVerdictSeries, VERDICT_STYLE, VERDICTS_BY_RANK, verdictChartSvg } from './chart.ts';

export interface ReportInput {
  /** One per account + Region the run covered. */
  readonly summaries: readonly RunSummary[];
  /** The approvals of those runs (others are ignored). */
  readonly approvals: readonly Approval[];
  /** The audit log of those scopes (entries of other runs are ignored). */
  readonly auditLog: readonly AuditEntry[];
  /** vecguard's Security Hub findings for those scopes, as they stand at the end. */
  readonly findings: readonly Finding[];
  readonly scenario?: { readonly name: string; readonly description: string };
  readonly generatedAt: string;
  readonly dryRun: boolean;
  /** The policy's price, to say what the cost was computed at. @default not stated */
  readonly pricing?: { readonly perVpcHourUsd: number; readonly hoursPerMonth: number };
}

type SummaryVpc = RunSummary['vpcs'][number];
type SummaryAction = SummaryVpc['actions'][number];

/** A VPC of the report, with the scope it belongs to. */
interface ReportVpc extends SummaryVpc {
  readonly accountId: string;
  readonly region: string;
  /** Its verdicts over the runs, oldest first (cli/runs.ts). */
  readonly verdicts: readonly VerdictKind[];
}

interface JourneyStep {
  readonly action: SummaryAction;
  readonly entry?: AuditEntry;
  readonly approval?: Approval;
}

export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** VPCs up to this many get their journey and blockers open; above it, closed `<details>` keep it short. */
const OPEN_DETAILS_UP_TO = 12;
/** Above this many VPCs in several scopes, the estate is one collapsed table per account + Region. */
const GROUP_SCOPES_ABOVE = 200;

/**
 * HTML-escapes text and attribute values (both quote kinds, so it is safe in either), after `displayText`:
 * HTML escaping leaves bidi overrides, zero-width characters and controls, which a browser renders (a name
 * reading backwards) or hides; they show as visible escapes instead.
 */
export function esc(value: unknown): string {
  return displayText(String(value ?? '')).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 2026-11-24T02:13:24.348Z → 2026-11-24 02:13:24 UTC (no locale: the page reads the same everywhere). */
function when(iso: string | undefined): string {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return esc(m ? `${m[1]} ${m[2]} UTC` : iso);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const badge = (cls: string, text: string, title?: string) =>
  `<span class="badge ${cls}"${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</span>`;

function verdictBadge(verdict: VerdictKind | null): string {
  if (verdict === null) return badge('none', 'new', 'not in the first audit of the run');
  return badge(`v-${verdict}`, verdict, VERDICT_STYLE[verdict].label);
}

/** Before → after as badges, or the whole path when the VPC went elsewhere between runs (drift). */
const verdictPath = (v: ReportVpc) =>
  shownVerdicts(v.before, v.after, v.verdicts).map(verdictBadge).join('<span class="arrow">→</span>');

const named = (name: string | undefined, id: string) =>
  name && name !== id ? `<strong>${esc(name)}</strong> <code>${esc(id)}</code>` : `<code>${esc(id)}</code>`;

const isEnforced = (v: VerdictKind | null) => v === 'ENFORCED' || v === 'ENFORCED_WITH_EXCLUSIONS';

/** Resource ids an action's one-line summary names ("move i-0a… in vpc-0b… (legacy) …"). */
function idsIn(text: string): string[] {
  return text.match(/\b(?:vpc|i|eni|tgw|pcx|tgw-attach)-[0-9a-f]{8,17}\b/g) ?? [];
}

/**
 * Pairs every action of the summary with its audit entry (for the time and the approval): the summary keeps
 * the audit log's order but not the action id, so each action takes the first unused entry of the same kind,
 * outcome and approver on the VPC or on a resource its summary names.
 */
function journeys(
  summary: RunSummary,
  entries: readonly AuditEntry[],
  approvals: ReadonlyMap<string, Approval>,
): { byVpc: Map<string, JourneyStep[]>; unmatched: AuditEntry[] } {
  const byResource = new Map<string, AuditEntry[]>();
  for (const e of entries) byResource.set(e.resourceId, [...(byResource.get(e.resourceId) ?? []), e]);
  const used = new Set<AuditEntry>();
  const byVpc = new Map<string, JourneyStep[]>();
  for (const v of summary.vpcs) {
    byVpc.set(
      v.vpcId,
      v.actions.map((action) => {
        const candidates = [v.vpcId, ...idsIn(action.summary)].flatMap((id) => byResource.get(id) ?? []);
        const entry = candidates
          .filter(
            (e) =>
              !used.has(e) &&
              e.kind === action.kind &&
              e.outcome === action.outcome &&
              e.approvedBy === action.approvedBy,
          )
          .sort((a, b) => a.at.localeCompare(b.at))[0];
        if (!entry) return { action };
        used.add(entry);
        const approval = entry.approvalId ? approvals.get(entry.approvalId) : undefined;
        return { action, entry, ...(approval ? { approval } : {}) };
      }),
    );
  }
  return { byVpc, unmatched: entries.filter((e) => !used.has(e)) };
}

/** The monthly cost the approval priced for an audit entry's action (0 when unpriced: not gated, or free). */
function costOf(entry: AuditEntry, approvals: ReadonlyMap<string, Approval>): number {
  const approval = entry.approvalId ? approvals.get(entry.approvalId) : undefined;
  return approval?.actions.find((a) => a.actionId === entry.actionId)?.monthlyCostDeltaUsd ?? 0;
}

/** Who decided and when, or how it ended without anyone deciding. */
function decisionText(a: Approval): string {
  const reason = a.reason ? ` (“${esc(a.reason)}”)` : '';
  if (a.status === 'pending') return `waiting; expires ${when(a.expiresAt)}`;
  if (a.status === 'expired' && !a.decidedBy) return `nobody answered before ${when(a.expiresAt)}`;
  return `${esc(a.status)} by <code class="arn">${esc(a.decidedBy ?? 'unknown')}</code> on ${when(a.decidedAt)}${reason}`;
}

function approverText(approvedBy: string, approval: Approval | undefined): string {
  if (approvedBy === 'auto') return `${badge('auto', 'auto')} the policy lets this run without approval`;
  const at = approval?.decidedAt ? ` on ${when(approval.decidedAt)}` : '';
  return `approved by <code class="arn">${esc(approvedBy)}</code>${at}`;
}

const OUTCOME_CLASS: Readonly<Record<string, string>> = {
  applied: 'ok',
  'dry-run': 'info',
  'already-so': 'muted',
  failed: 'bad',
  refused: 'warn',
};
const outcomeBadge = (outcome: string) => badge(`o-${OUTCOME_CLASS[outcome] ?? 'muted'}`, outcome);

const DECISION_CLASS: Readonly<Record<Approval['status'], string>> = {
  approved: 'ok',
  rejected: 'bad',
  expired: 'warn',
  pending: 'muted',
};

const SEVERITY_ORDER: readonly Finding['Severity']['Label'][] = [
  'CRITICAL',
  'HIGH',
  'MEDIUM',
  'LOW',
  'INFORMATIONAL',
];

const TGW_CLASS: Readonly<Record<string, string>> = { enabled: 'ok', enabling: 'info', disabled: 'bad' };

function guidanceForKind(kind: string): string {
  return Object.hasOwn(BLOCKER_GUIDANCE, kind) ? BLOCKER_GUIDANCE[kind as keyof typeof BLOCKER_GUIDANCE] : '';
}

/** The resource id a finding is about (its first resource's ARN, last path segment). */
function findingResourceId(f: Finding): string | undefined {
  return f.Resources[0]?.Id.split('/').pop();
}

function styles(): string {
  const verdictRules = VERDICTS_BY_RANK.map(
    (k) => `.v-${k}{background:${VERDICT_STYLE[k].colour};color:${VERDICT_STYLE[k].ink}}`,
  ).join('');
  return `
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 48px}
header.top{background:#0d1117;color:#f0f6fc;padding:24px 20px}
header.top .wrap{max-width:1180px;margin:0 auto}
header.top h1{margin:0 0 4px;font-size:24px}
header.top p{margin:4px 0;color:#c9d1d9}
header.top .meta{display:flex;flex-wrap:wrap;gap:6px 20px;margin-top:10px;font-size:13px}
header.top .meta b{color:#f0f6fc;font-weight:600}
.mode{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:12px}
.mode.dry{background:#d4a72c;color:#1f2328}.mode.live{background:#1a7f37;color:#fff}
nav.toc{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 16px;font-size:13px}
nav.toc a{color:#0969da;text-decoration:none}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:0 0 20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:26px;font-weight:600;line-height:1.3}
.card .sub{color:var(--muted);font-size:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:0 0 20px}
section h2{margin:0 0 4px;font-size:18px}
section>p.lede{margin:0 0 12px;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f6f8fa;font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff2f5;padding:1px 4px;border-radius:4px}
code{white-space:nowrap}
code.arn{white-space:normal;word-break:break-all}
td.decision{min-width:260px}
td.when{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11px;font-weight:600;white-space:nowrap;background:#eaeef2;color:var(--ink)}
${verdictRules}
.badge.none{background:#eaeef2;color:var(--muted)}
.o-ok,.d-ok,.t-ok,.c-PASSED{background:#1a7f37;color:#fff}
.o-bad,.d-bad,.t-bad,.c-FAILED{background:#cf222e;color:#fff}
.o-warn,.d-warn,.c-WARNING{background:#d4a72c;color:#1f2328}
.o-info,.t-info{background:#0969da;color:#fff}
.o-muted,.d-muted,.auto,.c-NOT_AVAILABLE{background:#eaeef2;color:var(--ink)}
.arrow{color:var(--muted);margin:0 4px}
.chart{width:100%;height:auto;max-width:900px;display:block}
.chart .grid{stroke:#e6eaef}.chart .axis{stroke:#59636e}
.chart text{font:12px system-ui,sans-serif;fill:#1f2328}.chart .tick{fill:#59636e}.chart .axis-label{fill:#59636e;font-size:12px}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:#fff}
details>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details[open]>summary{border-bottom:1px solid var(--line)}
details .body{padding:8px 12px 10px}
ol.steps{margin:0;padding-left:22px}ol.steps li{margin:4px 0 8px}
.step-head{display:flex;flex-wrap:wrap;gap:6px;align-items:baseline}
.step-meta{color:var(--muted);font-size:12px}
.err{color:#cf222e}
ul.tight{margin:4px 0;padding-left:18px}
.guidance{background:#fff8c5;border-left:3px solid #d4a72c;padding:6px 10px;margin:4px 0;border-radius:0 4px 4px 0}
.empty{color:var(--muted);font-style:italic}
.total{font-size:20px;font-weight:600}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
`;
}

export function renderReportHtml(input: ReportInput): string {
  const folded = foldRunsByScope(input.summaries);
  const summaries = folded.map((f) => f.summary);
  const runIds = [...new Set(input.summaries.map((s) => s.runId))];
  /** Whether an audit entry belongs to a folded scope: same account and Region, one of its runs. */
  const inScope = (e: AuditEntry, i: number) =>
    e.accountId === summaries[i]?.accountId &&
    e.region === summaries[i]?.region &&
    (folded[i]?.runIds.includes(e.runId) ?? false);
  const approvals = input.approvals
    .filter((a) => runIds.includes(a.runId))
    .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  const approvalsById = new Map(approvals.map((a) => [a.approvalId, a]));
  const entries = input.auditLog
    .filter((e) => summaries.some((_, i) => inScope(e, i)))
    .sort((a, b) => a.at.localeCompare(b.at));
  const multiScope = summaries.length > 1;

  const vpcs: ReportVpc[] = folded.flatMap(({ summary: s, verdicts }) =>
    s.vpcs.map((v) => ({
      ...v,
      accountId: s.accountId,
      region: s.region,
      verdicts: verdicts.get(v.vpcId) ?? [],
    })),
  );
  const stepsByVpc = new Map<string, JourneyStep[]>();
  const unmatched: AuditEntry[] = [];
  for (const [i, s] of summaries.entries()) {
    const j = journeys(
      s,
      entries.filter((e) => inScope(e, i)),
      approvalsById,
    );
    for (const [id, steps] of j.byVpc) stepsByVpc.set(`${s.accountId}/${s.region}/${id}`, steps);
    unmatched.push(...j.unmatched);
  }
  /** Names repeat across accounts and Regions: with several, each VPC says where it is. */
  const whereOf = (v: ReportVpc) =>
    multiScope ? ` <span class="step-meta">${esc(v.accountId)} ${esc(v.region)}</span>` : '';
  const stepsOf = (v: ReportVpc) => stepsByVpc.get(`${v.accountId}/${v.region}/${v.vpcId}`) ?? [];
  const tgwIds = new Set(summaries.flatMap((s) => s.transitGateways.map((t) => t.id)));
  const otherEntries = unmatched.filter((e) => !tgwIds.has(e.resourceId));

  const findingByResource = new Map<string, Finding>();
  for (const f of input.findings) {
    const id = findingResourceId(f);
    if (id && f.RecordState === 'ACTIVE' && !findingByResource.has(id)) findingByResource.set(id, f);
  }

  // Cost: what the applied (or, in a dry run, planned) actions add to the monthly bill, as the approvals priced it.
  const costOutcome = input.dryRun ? 'dry-run' : 'applied';
  const costLines = entries
    .filter((e) => e.outcome === costOutcome)
    .map((e) => ({ entry: e, usd: costOf(e, approvalsById) }))
    .filter((l) => l.usd !== 0);
  const costTotal = costLines.reduce((sum, l) => sum + l.usd, 0);
  const declined = approvals.filter((a) => a.status === 'rejected' || a.status === 'expired');
  const declinedUsd = declined.reduce((sum, a) => sum + a.monthlyCostUsd, 0);

  const total = (f: (s: RunSummary) => number) => summaries.reduce((sum, s) => sum + f(s), 0);
  const enforcedBefore = vpcs.filter((v) => isEnforced(v.before)).length;
  const enforcedAfter = vpcs.filter((v) => isEnforced(v.after)).length;
  const compliantBefore = vpcs.filter((v) => v.before !== null && COMPLIANT_VERDICTS.has(v.before)).length;
  const compliantAfter = vpcs.filter((v) => COMPLIANT_VERDICTS.has(v.after)).length;
  const attention = vpcs.filter((v) => v.remaining.length > 0 || v.blockers.length > 0).sort(byAttention);
  const open = vpcs.length <= OPEN_DETAILS_UP_TO ? ' open' : '';

  const scopesText = [...new Set(summaries.map((s) => `${s.accountId} ${s.region}`))];
  const started = summaries.map((s) => s.startedAt).sort()[0];
  const finished = summaries
    .map((s) => s.finishedAt)
    .sort()
    .at(-1);
  const title = input.scenario ? `vecguard report — ${input.scenario.name}` : 'vecguard report';

  const header = `<header class="top"><div class="wrap">
<h1>${esc(title)}</h1>
${input.scenario?.description ? `<p>${esc(input.scenario.description)}</p>` : ''}
<div class="meta">
<span>${input.dryRun ? '<span class="mode dry">DRY RUN — nothing was changed</span>' : '<span class="mode live">changes applied</span>'}</span>
<span><b>Scope</b> ${esc(scopesText.slice(0, 20).join(', '))}${scopesText.length > 20 ? ` and ${scopesText.length - 20} more` : ''}</span>
<span><b>Run</b> ${esc(runIds.join(', '))} · ${plural(
    total((s) => s.iterations),
    'iteration',
  )}</span>
<span><b>From</b> ${when(started)} <b>to</b> ${when(finished)}</span>
<span><b>Report</b> ${when(input.generatedAt)}</span>
</div></div></header>`;

  // From the page's audit entries rather than summed per run: an action that failed in an event-driven run
  // and again in the sweep is one failed action, and one fixed in the sweep is not failed.
  const counts = countActionOutcomes(entries);
  const retried =
    counts.failedAttempts > counts.failed ? ` (${plural(counts.failedAttempts, 'attempt')})` : '';
  const cards = `<div class="cards">
<div class="card" id="headline-enforced"><div class="label">VPCs enforced</div><div class="value">${enforcedBefore} → ${enforcedAfter}</div><div class="sub">of ${plural(vpcs.length, 'VPC')}; compliant (incl. exempt) ${compliantBefore} → ${compliantAfter}</div></div>
<div class="card" id="headline-actions"><div class="label">${input.dryRun ? 'Actions planned (dry run)' : 'Actions applied'}</div><div class="value">${input.dryRun ? counts.dryRun : counts.applied}</div><div class="sub">${counts.failed} failed${retried} · ${counts.refused} refused · ${counts.alreadySo} already so</div></div>
<div class="card" id="headline-approvals"><div class="label">Approvals</div><div class="value">${total((s) => s.approvals.approved)} / ${total((s) => s.approvals.requested)}</div><div class="sub">${total((s) => s.approvals.approved)} approved · ${total((s) => s.approvals.rejected)} rejected · ${total((s) => s.approvals.expired)} expired${total((s) => s.approvals.pending) > 0 ? ` · ${total((s) => s.approvals.pending)} pending` : ''}</div></div>
<div class="card" id="headline-cost"><div class="label">Monthly cost ${input.dryRun ? 'it would add' : 'added'}</div><div class="value">${esc(formatUsd(costTotal))}</div><div class="sub">${input.pricing ? `at ${esc(formatUsd(input.pricing.perVpcHourUsd))} per VPC-hour` : 'at the policy’s price'}</div></div>
<div class="card" id="headline-attention"><div class="label">Need attention</div><div class="value">${attention.length}</div><div class="sub">VPCs not where the policy wants them</div></div>
</div>`;

  const toc = `<nav class="toc"><a href="#chart">Verdicts per iteration</a><a href="#estate">Estate</a><a href="#journeys">Journeys</a><a href="#blockers">Blockers</a><a href="#approvals">Approvals</a><a href="#cost">Cost</a><a href="#tgw">Transit Gateways</a><a href="#findings">Findings</a></nav>`;

  const points = mergeVerdictSeries(summaries.map((s) => s.verdictsPerIteration));
  const chart = `<section id="chart"><h2>Verdicts per iteration</h2>
<p class="lede">How many VPCs had each verdict when each iteration started its audit, and after the last change.</p>
${points.length > 0 ? verdictChartSvg(points) : '<p class="empty">No audit ran.</p>'}
</section>`;

  // Several scopes and many VPCs: one table per scope, each collapsed under its counts, so the page opens on
  // where each account and Region stands and still holds every VPC.
  const groupByScope = multiScope && vpcs.length > GROUP_SCOPES_ABOVE;
  const scopeColumn = multiScope && !groupByScope;
  const estateRow = (v: ReportVpc) => {
    const finding = findingByResource.get(v.vpcId);
    const appliedCount = stepsOf(v).filter((s) => s.action.outcome === costOutcome).length;
    return `<tr data-vpc-id="${esc(v.vpcId)}"><td>${esc(v.name)}</td><td><code>${esc(v.vpcId)}</code></td>${scopeColumn ? `<td>${esc(v.accountId)} ${esc(v.region)}</td>` : ''}<td>${verdictPath(v)}</td><td>${v.exclusions.length > 0 ? v.exclusions.map((x) => `<code>${esc(x)}</code>`).join(' ') : '<span class="empty">none</span>'}</td><td class="num">${appliedCount}</td><td>${finding?.Compliance ? badge(`c-${finding.Compliance.Status}`, finding.Compliance.Status, finding.Title) : '—'}</td></tr>`;
  };
  const estateTable = (rows: readonly ReportVpc[]) =>
    `<table><thead><tr><th>Name</th><th>VPC</th>${scopeColumn ? '<th>Account · Region</th>' : ''}<th>Before → after</th><th>Exclusions (end)</th><th class="num">${input.dryRun ? 'Planned' : 'Applied'}</th><th>Finding</th></tr></thead>
<tbody>${[...rows].sort(byAttention).map(estateRow).join('\n')}</tbody></table>`;
  const scopeGroup = (s: RunSummary) => {
    const of = vpcs.filter((v) => v.accountId === s.accountId && v.region === s.region);
    const after = new Map<VerdictKind, number>();
    for (const v of of) after.set(v.after, (after.get(v.after) ?? 0) + 1);
    const counts = VERDICTS_BY_RANK.filter((k) => after.has(k))
      .reverse()
      .map((k) => `${verdictBadge(k)} ${after.get(k)}`)
      .join(' ');
    const needing = of.filter((v) => v.remaining.length > 0 || v.blockers.length > 0).length;
    return `<details class="scope" data-scope="${esc(s.accountId)}/${esc(s.region)}"><summary><strong>${esc(s.accountId)} ${esc(s.region)}</strong> · ${plural(of.length, 'VPC')} · enforced ${of.filter((v) => isEnforced(v.before)).length} → ${of.filter((v) => isEnforced(v.after)).length} · ${needing} need attention · ${counts}</summary><div class="body">${estateTable(of)}</div></details>`;
  };
  const estate = `<section id="estate"><h2>Estate</h2>
<p class="lede">Every VPC's verdict at the start of the run and at the end, the exclusions enabled at the end, and its Security Hub finding. VPCs that need attention first.${groupByScope ? ' One table per account and Region: open one to see its VPCs.' : ''}</p>
${groupByScope ? summaries.map(scopeGroup).join('\n') : estateTable(vpcs)}</section>`;

  /** Approvals of a target that ended without applying anything: part of its journey too. */
  const declinedFor = (targetId: string) =>
    approvals.filter((a) => a.target.id === targetId && a.status !== 'approved');
  const declinedStep = (a: Approval) =>
    `<li class="declined"><div class="step-head">${badge(`d-${DECISION_CLASS[a.status]}`, `not applied: ${a.status}`)} ${esc(a.actions.map((x) => x.summary).join('; '))}</div>` +
    `<div class="step-meta">${decisionText(a)} · <code>${esc(a.approvalId)}</code></div></li>`;
  /** A VPC's actions and declined approvals, in time order. */
  const journeyItems = (v: ReportVpc): { at: string; html: string }[] => {
    let last = '';
    const items = stepsOf(v).map((s) => {
      last = s.entry?.at ?? last;
      return { at: last, html: step(s) };
    });
    for (const a of declinedFor(v.vpcId)) {
      const at = a.decidedAt ?? a.expiresAt;
      const index = items.findIndex((i) => i.at > at);
      items.splice(index === -1 ? items.length : index, 0, { at, html: declinedStep(a) });
    }
    return items;
  };
  const step = ({ action, entry, approval }: JourneyStep) =>
    `<li><div class="step-head">${outcomeBadge(action.outcome)} <code>${esc(action.kind)}</code> ${esc(action.summary)}</div>` +
    `<div class="step-meta">${entry ? `${when(entry.at)} · ` : ''}${approverText(action.approvedBy, approval)}${entry?.approvalId ? ` · <code>${esc(entry.approvalId)}</code>` : ''}</div>` +
    `${entry?.error ? `<div class="err">${esc(entry.error)}</div>` : ''}</li>`;
  const journeyList = vpcs
    .map((v) => ({ vpc: v, items: journeyItems(v) }))
    .sort((a, b) => a.vpc.name.localeCompare(b.vpc.name));
  const untouched = journeyList.filter((j) => j.items.length === 0).map((j) => j.vpc);
  const journeyHtml = journeyList
    .filter((j) => j.items.length > 0)
    .map(({ vpc: v, items }) => {
      const declined = declinedFor(v.vpcId).length;
      const counts = [
        stepsOf(v).length > 0 ? plural(stepsOf(v).length, 'action') : '',
        declined > 0 ? `${declined} not approved` : '',
      ].filter(Boolean);
      return (
        `<details class="journey"${open} data-vpc-id="${esc(v.vpcId)}"><summary>${named(v.name, v.vpcId)}${whereOf(v)} ${verdictPath(v)} · ${counts.join(' · ')}</summary>` +
        `<div class="body"><ol class="steps">${items.map((i) => i.html).join('')}</ol></div></details>`
      );
    });
  const other = otherEntries.map(
    (e) =>
      `<li><div class="step-head">${outcomeBadge(e.outcome)} <code>${esc(e.kind)}</code> <code>${esc(e.resourceId)}</code></div><div class="step-meta">${when(e.at)} · ${approverText(e.approvedBy, e.approvalId ? approvalsById.get(e.approvalId) : undefined)}</div></li>`,
  );
  const journeysSection = `<section id="journeys"><h2>Journeys</h2>
<p class="lede">Every action on each VPC in the order it ran: its outcome, when, and who approved it; and what was asked but not approved. Transit Gateway changes are under <a href="#tgw">Transit Gateways</a>.</p>
${journeyHtml.join('\n') || '<p class="empty">No action ran on any VPC.</p>'}
${other.length > 0 ? `<details class="journey"${open}><summary>Other changes · ${plural(other.length, 'action')}</summary><div class="body"><ol class="steps">${other.join('')}</ol></div></details>` : ''}
${untouched.length > 0 ? `<details><summary>No action on ${plural(untouched.length, 'VPC')}</summary><div class="body">${untouched.map((v) => `${named(v.name, v.vpcId)} ${verdictBadge(v.after)}`).join(' · ')}</div></details>` : ''}
</section>`;

  const kinds = new Map<string, { vpcs: Set<string>; guidance: string }>();
  for (const v of attention)
    for (const b of v.blockers) {
      const k = kinds.get(b.kind) ?? {
        vpcs: new Set<string>(),
        guidance: b.guidance ?? guidanceForKind(b.kind),
      };
      k.vpcs.add(v.vpcId);
      kinds.set(b.kind, k);
    }
  const kindRows = [...kinds.entries()]
    .sort((a, b) => b[1].vpcs.size - a[1].vpcs.size || a[0].localeCompare(b[0]))
    .map(
      ([kind, k]) =>
        `<tr><td><code>${esc(kind)}</code></td><td class="num">${k.vpcs.size}</td><td>${esc(k.guidance) || '—'}</td></tr>`,
    );
  const blockerCards = attention.map(
    (v) =>
      `<details class="blocker"${open} data-vpc-id="${esc(v.vpcId)}"><summary>${named(v.name, v.vpcId)}${whereOf(v)} ${verdictBadge(v.after)}${v.blockers.length > 0 ? ` · ${plural(v.blockers.length, 'blocker')}` : ''}</summary><div class="body">` +
      (v.blockers.length > 0
        ? `<ul class="tight">${v.blockers.map((b) => `<li><code>${esc(b.id)}</code> ${badge('o-bad', b.kind)}${b.guidance ? `<div class="guidance">${esc(b.guidance)}</div>` : ''}</li>`).join('')}</ul>`
        : '') +
      `${v.remaining.map((r) => `<div class="guidance">${esc(r)}</div>`).join('')}</div></details>`,
  );
  const blockers = `<section id="blockers"><h2>Blockers and what to do</h2>
<p class="lede">What keeps VPCs from where the policy wants them, and how to clear it. vecguard does not move these for you.</p>
${
  attention.length === 0
    ? '<p class="empty">Nothing left: every VPC is where the policy wants it.</p>'
    : `${kindRows.length > 0 ? `<table><thead><tr><th>Blocker kind</th><th class="num">VPCs</th><th>Guidance</th></tr></thead><tbody>${kindRows.join('')}</tbody></table>` : ''}
<h3>By VPC</h3>${blockerCards.join('\n')}`
}
</section>`;

  const approvalRows = approvals.map(
    (a) =>
      `<tr data-approval-id="${esc(a.approvalId)}"><td class="when">${when(a.requestedAt)}<div class="step-meta"><code>${esc(a.approvalId)}</code></div></td><td>${esc(a.target.type)} ${named(a.target.name, a.target.id)}</td>` +
      `<td><ul class="tight">${a.actions.map((x) => `<li>${esc(x.summary)}</li>`).join('')}</ul></td><td class="num">${esc(formatUsd(a.monthlyCostUsd, true))}</td>` +
      `<td class="decision">${badge(`d-${DECISION_CLASS[a.status]}`, a.status)}<div class="step-meta">${decisionText(a)}</div></td></tr>`,
  );
  const approvalsSection = `<section id="approvals"><h2>Approvals</h2>
<p class="lede">Every change a person had to approve: what was asked, who decided, and when.</p>
${approvals.length === 0 ? '<p class="empty">No approval was requested.</p>' : `<table><thead><tr><th>Requested</th><th>Target</th><th>What</th><th class="num">Monthly cost</th><th>Decision</th></tr></thead><tbody>${approvalRows.join('\n')}</tbody></table>`}
</section>`;

  const costRows = costLines.map(({ entry, usd }) => {
    const approval = entry.approvalId ? approvalsById.get(entry.approvalId) : undefined;
    const summary = approval?.actions.find((x) => x.actionId === entry.actionId)?.summary ?? entry.kind;
    return `<tr><td>${approval ? named(approval.target.name, approval.target.id) : `<code>${esc(entry.resourceId)}</code>`}</td><td>${esc(summary)}</td><td class="when">${when(entry.at)}</td><td class="num">${esc(formatUsd(usd, true))}</td></tr>`;
  });
  const price = input.pricing
    ? `at the policy’s price of ${esc(formatUsd(input.pricing.perVpcHourUsd))} per VPC-hour × ${esc(input.pricing.hoursPerMonth)} hours a month`
    : 'at the policy’s price, as each approval priced it';
  const cost = `<section id="cost"><h2>Cost</h2>
<p class="lede">VPC Encryption Controls bill per VPC-hour, in monitor mode too. ${input.dryRun ? 'What the planned changes would add' : 'What the applied changes add'} to the monthly bill, ${price}.</p>
<p class="total">${esc(formatUsd(costTotal, true))} a month</p>
${costRows.length > 0 ? `<table><thead><tr><th>Target</th><th>Change</th><th>When</th><th class="num">Monthly</th></tr></thead><tbody>${costRows.join('')}</tbody><tfoot><tr><th colspan="3">Total</th><th class="num">${esc(formatUsd(costTotal, true))}</th></tr></tfoot></table>` : '<p class="empty">Nothing that costs money was applied.</p>'}
${declined.length > 0 ? `<p class="step-meta">Not added: ${plural(declined.length, 'approval')} rejected or expired, worth ${esc(formatUsd(declinedUsd))} a month.</p>` : ''}
</section>`;

  const tgws = summaries.flatMap((s) => s.transitGateways);
  const tgwRows = tgws.map((t) => {
    const changes = [
      ...entries
        .filter((e) => e.resourceId === t.id)
        .map(
          (e) =>
            `<div>${outcomeBadge(e.outcome)} <code>${esc(e.kind)}</code> ${when(e.at)}<div class="step-meta">${approverText(e.approvedBy, e.approvalId ? approvalsById.get(e.approvalId) : undefined)}</div></div>`,
        ),
      ...declinedFor(t.id).map(
        (a) =>
          `<div>${badge(`d-${DECISION_CLASS[a.status]}`, `not applied: ${a.status}`)}<div class="step-meta">${decisionText(a)}</div></div>`,
      ),
    ];
    const finding = findingByResource.get(t.id);
    return `<tr data-tgw-id="${esc(t.id)}"><td>${named(t.name, t.id)}</td><td>${badge(`t-${TGW_CLASS[t.encryptionSupport] ?? 'info'}`, t.encryptionSupport)}</td><td>${changes.join('') || '<span class="empty">none</span>'}</td><td>${finding?.Compliance ? badge(`c-${finding.Compliance.Status}`, finding.Compliance.Status, finding.Title) : '—'}</td></tr>`;
  });
  const tgwSection = `<section id="tgw"><h2>Transit Gateways</h2>
<p class="lede">A VPC attached to a Transit Gateway without encryption support cannot enforce; enabling it can take up to 14 days.</p>
${tgws.length === 0 ? '<p class="empty">No Transit Gateway in scope.</p>' : `<table><thead><tr><th>Transit Gateway</th><th>Encryption support</th><th>Changes this run</th><th>Finding</th></tr></thead><tbody>${tgwRows.join('')}</tbody></table>`}
</section>`;

  const statusCounts = new Map<string, number>();
  for (const f of input.findings) {
    const status = f.Compliance?.Status ?? 'NOT_AVAILABLE';
    statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
  }
  const findingRows = [...input.findings]
    .sort(
      (a, b) =>
        SEVERITY_ORDER.indexOf(a.Severity.Label) - SEVERITY_ORDER.indexOf(b.Severity.Label) ||
        a.Id.localeCompare(b.Id),
    )
    .map(
      (f) =>
        `<tr><td>${esc(f.Title)}</td><td>${esc(f.Severity.Label)}</td><td>${f.Compliance ? badge(`c-${f.Compliance.Status}`, f.Compliance.Status) : '—'}</td><td>${esc(f.RecordState)}</td><td>${esc(f.Remediation?.Recommendation.Text ?? '')}${safeLink(f.Remediation?.Recommendation.Url)}</td></tr>`,
    );
  const findingsSection = `<section id="findings"><h2>Security Hub findings</h2>
<p class="lede">${input.findings.length === 0 ? 'No finding was published (a dry run publishes none).' : [...statusCounts].map(([s, n]) => `${badge(`c-${s}`, s)} ${n}`).join(' · ')}</p>
${input.findings.length > 0 ? `<details${input.findings.length <= OPEN_DETAILS_UP_TO ? ' open' : ''}><summary>${plural(input.findings.length, 'finding')}</summary><div class="body"><table><thead><tr><th>Title</th><th>Severity</th><th>Compliance</th><th>State</th><th>Remediation</th></tr></thead><tbody>${findingRows.join('')}</tbody></table></div></details>` : ''}
</section>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="vecguard">
<title>${esc(title)}</title>
<style>${styles()}</style>
</head>
<body>
${header}
<main>
${cards}
${toc}
${chart}
${estate}
${journeysSection}
${blockers}
${approvalsSection}
${cost}
${tgwSection}
${findingsSection}
<footer>Generated by vecguard on ${when(input.generatedAt)}. This page is self-contained: it loads nothing from the network.</footer>
</main>
</body>
</html>
`;
}

/** Needing attention first (by the verdict's rank), then by name. */
function byAttention(a: ReportVpc, b: ReportVpc): number {
  return VERDICT_STYLE[b.after].rank - VERDICT_STYLE[a.after].rank || a.name.localeCompare(b.name);
}

/** A link to documentation (never loaded: an `<a>` is followed only when clicked); https only. */
function safeLink(url: string | undefined): string {
  if (!url || !/^https:\/\/[^\s"'<>]+$/.test(url)) return '';
  return ` <a href="${esc(url)}" rel="noreferrer">docs</a>`;
}
