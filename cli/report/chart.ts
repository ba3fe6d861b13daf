/**
 * The verdicts-per-iteration chart of report.html: stacked bars, one series per verdict kind present, as
 * inline SVG (the page loads nothing, so no charting library). Colours come from `VERDICT_STYLE`, the same
 * ones the badges of the page use.
 */
import { VERDICT_KINDS, type VerdictKind } from '../../functions/domain/verdict.ts';

export interface VerdictStyle {
  /** Fill of the bar and of the badge. */
  readonly colour: string;
  /** Text on that fill (contrast ≥ 4.5:1). */
  readonly ink: string;
  /** What it means, in a few words, for the legend's tooltip and the table's badge. */
  readonly label: string;
  /** Compliant verdicts first: the bottom of a stack, the end of the "what needs attention" order. */
  readonly rank: number;
}

/** One colour per verdict, for the chart and every badge (a Record, so a new verdict kind fails to compile). */
export const VERDICT_STYLE: Readonly<Record<VerdictKind, VerdictStyle>> = {
  ENFORCED: { colour: '#1a7f37', ink: '#ffffff', label: 'enforced', rank: 0 },
  ENFORCED_WITH_EXCLUSIONS: {
    colour: '#0b7a75',
    ink: '#ffffff',
    label: 'enforced, with exclusions',
    rank: 1,
  },
  EXEMPT: { colour: '#6e7781', ink: '#ffffff', label: 'exempt by policy', rank: 2 },
  MANAGED_ELSEWHERE: { colour: '#424a53', ink: '#ffffff', label: 'managed by a declarative policy', rank: 3 },
  TRANSITIONING: { colour: '#8250df', ink: '#ffffff', label: 'changing mode', rank: 4 },
  READY_TO_ENFORCE: { colour: '#0969da', ink: '#ffffff', label: 'ready to enforce', rank: 5 },
  UNMONITORED: { colour: '#d4a72c', ink: '#1f2328', label: 'no encryption control', rank: 6 },
  DRIFTED: { colour: '#e16f24', ink: '#1f2328', label: 'drifted from enforce', rank: 7 },
  BLOCKED: { colour: '#cf222e', ink: '#ffffff', label: 'blocked', rank: 8 },
  TRANSITION_FAILED: { colour: '#82071e', ink: '#ffffff', label: 'mode change failed', rank: 9 },
};

/** Verdict kinds from compliant to needing attention (the stacking order, bottom to top). */
export const VERDICTS_BY_RANK: readonly VerdictKind[] = [...VERDICT_KINDS].sort(
  (a, b) => VERDICT_STYLE[a].rank - VERDICT_STYLE[b].rank,
);

export type VerdictCounts = Readonly<Partial<Record<VerdictKind, number>>>;

/**
 * Adds up several scopes' series index by index. A scope whose run took fewer iterations keeps its last
 * counts: its VPCs are still there while the other scopes iterate.
 */
export function mergeVerdictSeries(series: readonly (readonly VerdictCounts[])[]): VerdictCounts[] {
  const length = Math.max(0, ...series.map((s) => s.length));
  const merged: VerdictCounts[] = [];
  for (let i = 0; i < length; i++) {
    const counts: Partial<Record<VerdictKind, number>> = {};
    for (const s of series) {
      const point = s[Math.min(i, s.length - 1)] ?? {};
      for (const kind of VERDICT_KINDS) {
        const n = point[kind] ?? 0;
        if (n > 0) counts[kind] = (counts[kind] ?? 0) + n;
      }
    }
    merged.push(counts);
  }
  return merged;
}

/** The kinds with a count in any point, in stacking order. */
export function kindsPresent(points: readonly VerdictCounts[]): VerdictKind[] {
  return VERDICTS_BY_RANK.filter((kind) => points.some((p) => (p[kind] ?? 0) > 0));
}

/** A round step giving about `target` ticks up to `max` (1, 2, 2.5, 5 × 10ⁿ, whole numbers only). */
function tickStep(max: number, target = 5): number {
  const raw = Math.max(1, max / target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw && Number.isInteger(s)) ??
    10 * magnitude;
  return Math.max(1, step);
}

/** "start", then each later iteration's number, and "end" for the audit after the last change. */
export function pointLabel(index: number, count: number): string {
  if (index === 0) return 'start';
  if (index === count - 1) return 'end';
  return `iteration ${index + 1}`;
}

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The chart as an `<svg>` element. Each series is a `<g data-verdict="KIND">` of rects with a `<title>`
 * (hover text); the legend lists the same kinds in the same colours.
 */
export function verdictChartSvg(points: readonly VerdictCounts[]): string {
  const kinds = kindsPresent(points);
  const totals = points.map((p) => kinds.reduce((sum, k) => sum + (p[k] ?? 0), 0));
  const step = tickStep(Math.max(1, ...totals));
  const yMax = Math.max(step, Math.ceil(Math.max(1, ...totals) / step) * step);

  const width = 820;
  const plot = { left: 64, top: 16, right: 250, bottom: 56 };
  const plotWidth = width - plot.left - plot.right;
  const plotHeight = 240;
  const height = plot.top + plotHeight + plot.bottom;
  const slot = plotWidth / Math.max(1, points.length);
  const barWidth = Math.min(72, slot * 0.6);
  const y = (value: number) => plot.top + plotHeight - (value / yMax) * plotHeight;
  const fmt = (n: number) => Number(n.toFixed(2)).toString();

  const grid: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(
      `<line class="grid" x1="${plot.left}" x2="${plot.left + plotWidth}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`,
      `<text class="tick" x="${plot.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v}</text>`,
    );
  }
  const xLabels = points.map((_, i) => {
    const x = plot.left + slot * i + slot / 2;
    return `<text class="tick" x="${fmt(x)}" y="${plot.top + plotHeight + 18}" text-anchor="middle">${escapeXml(pointLabel(i, points.length))}</text>`;
  });

  const series = kinds.map((kind) => {
    const style = VERDICT_STYLE[kind];
    const rects = points.map((p, i) => {
      const n = p[kind] ?? 0;
      if (n === 0) return '';
      const below = kinds.slice(0, kinds.indexOf(kind)).reduce((sum, k) => sum + (p[k] ?? 0), 0);
      const x = plot.left + slot * i + (slot - barWidth) / 2;
      const top = y(below + n);
      const tip = `${pointLabel(i, points.length)}: ${n} ${kind}`;
      return `<rect x="${fmt(x)}" y="${fmt(top)}" width="${fmt(barWidth)}" height="${fmt(y(below) - top)}"><title>${escapeXml(tip)}</title></rect>`;
    });
    return `<g class="series" data-verdict="${kind}" fill="${style.colour}">${rects.join('')}</g>`;
  });

  const legend = kinds.map((kind, i) => {
    const ly = plot.top + i * 22;
    const lx = plot.left + plotWidth + 24;
    return (
      `<g class="legend-item" data-verdict="${kind}"><rect x="${lx}" y="${ly}" width="14" height="14" rx="2" fill="${VERDICT_STYLE[kind].colour}"/>` +
      `<text x="${lx + 20}" y="${ly + 11}">${kind}</text></g>`
    );
  });

  const axes =
    `<line class="axis" x1="${plot.left}" x2="${plot.left}" y1="${plot.top}" y2="${plot.top + plotHeight}"/>` +
    `<line class="axis" x1="${plot.left}" x2="${plot.left + plotWidth}" y1="${plot.top + plotHeight}" y2="${plot.top + plotHeight}"/>` +
    `<text class="axis-label" x="${plot.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">audit at the start of each iteration, and at the end of the run</text>` +
    `<text class="axis-label" transform="translate(16 ${plot.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">VPCs</text>`;

  const description = points
    .map(
      (p, i) =>
        `${pointLabel(i, points.length)}: ${kinds
          .filter((k) => (p[k] ?? 0) > 0)
          .map((k) => `${p[k]} ${k}`)
          .join(', ')}`,
    )
    .join('; ');
  return (
    `<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${width} ${height}">` +
    `<title id="chart-title">VPC verdicts per iteration</title><desc id="chart-desc">${escapeXml(description)}</desc>` +
    `${grid.join('')}${series.join('')}${axes}${xLabels.join('')}${legend.join('')}</svg>`
  );
}
