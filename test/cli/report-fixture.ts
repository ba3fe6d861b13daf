/**
 * Inputs for report.html tests: a real run of the loop on the default scenario (regenerate with
 * `node test/fixtures/report/generate.ts`), and estates of any size grown from it.
 */
import { readFileSync } from 'node:fs';
import type { ReportInput } from '../../cli/report/html.ts';
import { ApprovalSchema } from '../../functions/adapters/store/approvals.ts';
import { AuditEntrySchema } from '../../functions/adapters/store/audit-log.ts';
import { parseStoredFinding } from '../../functions/domain/asff.ts';
import type { RunSummary } from '../../functions/handlers/report.ts';

const FIXTURE = new URL('../fixtures/report/default-run.json', import.meta.url);

/** The recorded run, read through the stores' schemas so a fixture that drifted from them fails here. */
export function defaultRun(): ReportInput & { summaries: RunSummary[] } {
  const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
    summaries: RunSummary[];
    approvals: unknown[];
    auditLog: unknown[];
    findings: unknown[];
    scenario: { name: string; description: string };
    generatedAt: string;
    dryRun: boolean;
  };
  return {
    ...raw,
    approvals: raw.approvals.map((a) => ApprovalSchema.parse(a)),
    auditLog: raw.auditLog.map((e) => AuditEntrySchema.parse(e)),
    findings: raw.findings.map(parseStoredFinding),
  };
}

const scaled = <T extends Record<string, number>>(counts: T, by: number): T =>
  Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n * by])) as T;

/** Hex digits for a made-up resource id: `n` padded, so ids stay unique and AWS-shaped. */
const hex = (n: number, width = 17) => n.toString(16).padStart(width, '0');

/**
 * The recorded run's estate copied until it has `count` VPCs, each copy with its own ids, names, audit
 * entries and approvals, and the chart's counts scaled to match.
 */
export function estateOf(count: number): ReportInput & { summaries: RunSummary[] } {
  const run = defaultRun();
  const [summary] = run.summaries;
  if (!summary) throw new Error('the fixture has no summary');
  const copies = Math.ceil(count / summary.vpcs.length);
  const vpcs: RunSummary['vpcs'][number][] = [];
  const auditLog: ReportInput['auditLog'][number][] = [];
  const approvals: ReportInput['approvals'][number][] = [];
  for (let c = 0; c < copies; c++) {
    // Every id of the copy is rewritten: the same id in the same place, another number.
    const rename = <T>(value: T): T =>
      JSON.parse(
        JSON.stringify(value).replace(
          /\b(vpc|i|eni|tgw|pcx|apr)-([0-9a-f]{16,17})\b/g,
          (_m, prefix: string, id: string) => `${prefix}-${hex(c, 5)}${id.slice(5)}`,
        ),
      ) as T;
    for (const v of summary.vpcs) vpcs.push({ ...rename(v), name: `${v.name}-${c}` });
    auditLog.push(...run.auditLog.map((e) => ({ ...rename(e), actionId: `${rename(e.actionId)}` })));
    approvals.push(...run.approvals.map((a) => rename(a)));
  }
  const kept = vpcs.slice(0, count);
  const scale = count / summary.vpcs.length;
  return {
    ...run,
    summaries: [
      {
        ...summary,
        vpcs: kept,
        actions: scaled(summary.actions, copies),
        approvals: scaled(summary.approvals, copies),
        verdictsPerIteration: summary.verdictsPerIteration.map((p) =>
          Object.fromEntries(Object.entries(p).map(([k, n]) => [k, Math.round((n ?? 0) * scale)])),
        ),
      },
    ],
    auditLog,
    approvals,
  };
}
