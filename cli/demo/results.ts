/**
 * What the demo prints on stdout at the end, from its summary: a table of every VPC for an estate a person
 * can read row by row, and above `COMPACT_ABOVE` VPCs a compact view instead — verdict counts before →
 * after, counts per scope, and the VPCs still needing attention, the first `ATTENTION_SHOWN` of them
 * (report.html and `--json` list every VPC).
 */
import { displayText } from '../../functions/domain/display-text.ts';
import { VERDICT_STYLE, VERDICTS_BY_RANK } from '../report/chart.ts';
import { shownVerdicts } from '../runs.ts';
import type { DemoSummary, DemoVpc } from './summary.ts';

/** Above this many VPCs, the compact view replaces the table. */
export const COMPACT_ABOVE = 40;
/** How many of the VPCs needing attention the compact view lists. */
export const ATTENTION_SHOWN = 20;

const LEFT_WIDTH = 90;

/**
 * "READY_TO_ENFORCE → ENFORCED", or the whole path when something happened between runs
 * ("ENFORCED → DRIFTED → ENFORCED"); "(new)" first for a VPC the first audit did not see.
 */
export function verdictText(v: Pick<DemoVpc, 'before' | 'after' | 'verdicts'>): string {
  return shownVerdicts(v.before, v.after, v.verdicts)
    .map((k) => k ?? '(new)')
    .join(' → ');
}

const scopeOf = (v: Pick<DemoVpc, 'accountId' | 'region'>) => `${v.accountId}/${v.region}`;

/**
 * Columns padded to their widest cell, the last one cut at `LEFT_WIDTH`. Cells are names and reasons from
 * AWS: each on one line (displayText) before it is measured.
 */
function columns(header: readonly string[], shownRows: readonly (readonly string[])[]): string[] {
  const rows = shownRows.map((r) => r.map((c) => displayText(c)));
  const last = header.length - 1;
  const widths = header.map((h, i) =>
    Math.min(
      i === last ? LEFT_WIDTH : Number.POSITIVE_INFINITY,
      Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
    ),
  );
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) =>
        i === last && c.length > LEFT_WIDTH ? `${c.slice(0, LEFT_WIDTH - 1)}…` : c.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '─'.repeat(w))), ...rows.map(fmt)];
}

/** One row per VPC: name (and scope, when there are several), verdicts, actions applied, what is left. */
function vpcTable(vpcs: readonly DemoVpc[], multiScope: boolean): string[] {
  const rows = vpcs.map((v) => [
    v.name,
    ...(multiScope ? [scopeOf(v)] : []),
    verdictText(v),
    String(v.actions.length),
    // The last line is the most actionable: guidance comes after the reasons.
    v.remaining.at(-1) ?? (v.exclusions.length ? `exclusions: ${v.exclusions.join(', ')}` : ''),
  ]);
  const header = [
    'VPC',
    ...(multiScope ? ['account/Region'] : []),
    'verdict before → after',
    'actions',
    'left, and why',
  ];
  return columns(header, rows);
}

const needsAttention = (v: DemoVpc) => v.remaining.length > 0;

/** Most in need first (the verdict's rank, as report.html orders them), then by name. */
function byAttention(a: DemoVpc, b: DemoVpc): number {
  return VERDICT_STYLE[b.after].rank - VERDICT_STYLE[a.after].rank || a.name.localeCompare(b.name);
}

function compact(summary: DemoSummary, reportPath: string): string[] {
  const { vpcs } = summary;
  const scopes = [...new Set(vpcs.map(scopeOf))];
  const multiScope = scopes.length > 1;
  const count = (of: readonly DemoVpc[], pick: (v: DemoVpc) => string | null) => {
    const counts = new Map<string | null, number>();
    for (const v of of) counts.set(pick(v), (counts.get(pick(v)) ?? 0) + 1);
    return counts;
  };
  const before = count(vpcs, (v) => v.before);
  const after = count(vpcs, (v) => v.after);
  const verdictRows = [...VERDICTS_BY_RANK]
    .reverse()
    .filter((k) => before.has(k) || after.has(k))
    .map((k) => [k, String(before.get(k) ?? 0), '→', String(after.get(k) ?? 0)]);
  if (before.has(null)) verdictRows.push(['(new)', String(before.get(null)), '', '']);

  const enforced = (v: string | null) => v === 'ENFORCED' || v === 'ENFORCED_WITH_EXCLUSIONS';
  const scopeRows = scopes.map((scope) => {
    const of = vpcs.filter((v) => scopeOf(v) === scope);
    return [
      scope,
      String(of.length),
      `${of.filter((v) => enforced(v.before)).length} → ${of.filter((v) => enforced(v.after)).length}`,
      String(of.filter(needsAttention).length),
    ];
  });

  const attention = vpcs.filter(needsAttention).sort(byAttention);
  const shown = attention.slice(0, ATTENTION_SHOWN);
  const more = attention.length - shown.length;
  const padded = (rows: string[][]) => {
    const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    return rows.map((r) =>
      `  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`.trimEnd(),
    );
  };
  return [
    `${vpcs.length} VPCs${multiScope ? ` in ${scopes.length} scopes (account/Region)` : ''}: too many for a table, so counts (every VPC is in ${reportPath} and in --json)`,
    '',
    'verdict before → after',
    ...padded(verdictRows),
    '',
    ...columns(['account/Region', 'VPCs', 'enforced before → after', 'need attention'], scopeRows),
    '',
    attention.length === 0
      ? 'no VPC needs attention: every one is where the policy wants it'
      : `${attention.length} VPCs need attention${more > 0 ? `; the first ${shown.length}, most urgent first` : ''}:`,
    ...(shown.length > 0 ? vpcTable(shown, multiScope) : []),
    ...(more > 0 ? [`… and ${more} more (see ${reportPath}, or --json)`] : []),
  ];
}

/** The VPCs as a table (up to `COMPACT_ABOVE`), or the compact view above that. */
export function vpcResults(summary: DemoSummary, reportPath: string): string {
  const lines =
    summary.vpcs.length > COMPACT_ABOVE
      ? compact(summary, reportPath)
      : vpcTable(summary.vpcs, new Set(summary.vpcs.map(scopeOf)).size > 1);
  return lines.join('\n');
}
