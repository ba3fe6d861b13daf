/**
 * report.html as text: built from a real run of the loop (test/fixtures/report), it names every VPC, charts
 * every verdict the run saw, tells each VPC's journey with who approved what, loads nothing from the
 * network, and escapes what users wrote.
 */
import { describe, expect, it } from 'vitest';
import { VERDICT_STYLE } from '../../cli/report/chart.ts';
import { CONTENT_SECURITY_POLICY, renderReportHtml } from '../../cli/report/html.ts';
import { VERDICT_KINDS } from '../../functions/domain/verdict.ts';
import { defaultRun, estateOf } from './report-fixture.ts';

const run = defaultRun();
const summary = run.summaries[0];
if (!summary) throw new Error('the fixture has no summary');
const html = renderReportHtml(run);
const vpc = (name: string) => {
  const v = summary.vpcs.find((x) => x.name === name);
  if (!v) throw new Error(`no VPC ${name} in the fixture`);
  return v;
};

/** The HTML of one element, found by an attribute value (enough for the page's own markup). */
function element(page: string, tag: string, attribute: string, value: string): string {
  const at = page.indexOf(`${attribute}="${value}"`);
  const start = page.lastIndexOf(`<${tag} `, at);
  const end = page.indexOf(`</${tag}>`, at);
  if (at === -1 || start === -1 || end === -1) throw new Error(`no <${tag} ${attribute}="${value}">`);
  return page.slice(start, end);
}

const section = (id: string) => element(html, 'section', 'id', id);

describe('report.html from a real run of the default scenario', () => {
  it('names every VPC of the summary, with its id, in the estate table', () => {
    const estate = section('estate');
    expect(summary.vpcs.length).toBe(7);
    for (const v of summary.vpcs) {
      const row = element(estate, 'tr', 'data-vpc-id', v.vpcId);
      expect(row).toContain(`>${v.name}<`);
      expect(row).toContain(`>${v.after}<`);
    }
  });

  it('charts one series per verdict kind the run saw, no more, each in its badge colour', () => {
    const seen = new Set(summary.verdictsPerIteration.flatMap((p) => Object.keys(p)));
    const chart = element(section('chart'), 'svg', 'class', 'chart');
    const series = [...chart.matchAll(/<g class="series" data-verdict="(\w+)" fill="(#[0-9a-f]{6})">/g)];
    expect(new Set(series.map((m) => m[1]))).toEqual(seen);
    expect(series).toHaveLength(seen.size);
    const legend = [...chart.matchAll(/<g class="legend-item" data-verdict="(\w+)">/g)].map((m) => m[1]);
    expect(new Set(legend)).toEqual(seen);
    for (const [, kind, fill] of series) {
      expect(fill).toBe(VERDICT_STYLE[kind as keyof typeof VERDICT_STYLE].colour);
      // The badges of the tables use the same colour.
      expect(html).toContain(`.v-${kind}{background:${fill};`);
    }
    // One bar per iteration point and kind with a count: the stacks add up to the estate.
    const rects = [...chart.matchAll(/<rect [^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]);
    const expected = summary.verdictsPerIteration.flatMap((p) =>
      Object.values(p).filter((n) => (n ?? 0) > 0),
    );
    expect(rects).toHaveLength(expected.length);
    expect(chart).toContain('>VPCs</text>');
    expect(chart).toMatch(/>start<\/text>.*>end<\/text>/);
  });

  it('gives distinct colours to every verdict kind', () => {
    const colours = VERDICT_KINDS.map((k) => VERDICT_STYLE[k].colour);
    expect(new Set(colours).size).toBe(VERDICT_KINDS.length);
  });

  it('tells payments’ journey in order, with when and who approved, from the audit log', () => {
    const journey = element(section('journeys'), 'details', 'data-vpc-id', vpc('payments').vpcId);
    const kinds = [
      ...journey.matchAll(/<code>(enable-exclusion|switch-to-enforce|disable-exclusion)<\/code>/g),
    ].map((m) => m[1]);
    expect(kinds).toEqual(['enable-exclusion', 'switch-to-enforce', 'disable-exclusion']);
    const entries = run.auditLog.filter((e) => e.resourceId === vpc('payments').vpcId);
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      expect(journey).toContain(e.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
      expect(journey).toContain(`<code>${e.approvalId}</code>`);
    }
    expect(journey).toContain('approved by <code class="arn">arn:aws:iam::111111111111:root</code>');
  });

  it('puts the rejected approval in fresh’s journey and in the approvals table, with who rejected it', () => {
    const rejected = run.approvals.find((a) => a.status === 'rejected');
    expect(rejected?.target.name).toBe('fresh');
    const journey = element(section('journeys'), 'details', 'data-vpc-id', vpc('fresh').vpcId);
    expect(journey).toContain('not applied: rejected');
    expect(journey).toContain(`rejected by <code class="arn">${rejected?.decidedBy}</code>`);
    const approvals = section('approvals');
    for (const a of run.approvals) {
      const row = element(approvals, 'tr', 'data-approval-id', a.approvalId);
      expect(row).toContain(`>${a.status}</span>`);
    }
  });

  it('explains what is left: the Gateway Load Balancer in inspection, the Auto Scaling member in legacy', () => {
    const blockers = section('blockers');
    const inspection = element(blockers, 'details', 'data-vpc-id', vpc('inspection').vpcId);
    expect(inspection).toContain('gateway-load-balancer');
    expect(inspection).toMatch(/Gateway Load Balancer .*cannot be enforced/);
    const legacy = element(blockers, 'details', 'data-vpc-id', vpc('legacy').vpcId);
    expect(legacy).toMatch(/Auto Scaling group legacy-workers/);
    // VPCs where the policy wants them are not listed.
    expect(blockers).not.toContain(vpc('payments').vpcId);
  });

  it('adds up the monthly cost of what was applied, at the approvals’ prices, not of what was rejected', () => {
    const applied = run.auditLog.filter((e) => e.outcome === 'applied');
    const expected = applied.reduce((sum, e) => {
      const action = run.approvals
        .find((a) => a.approvalId === e.approvalId)
        ?.actions.find((a) => a.actionId === e.actionId);
      return sum + (action?.monthlyCostDeltaUsd ?? 0);
    }, 0);
    expect(expected).toBe(547.5);
    expect(section('cost')).toContain('+$547.50 a month');
    expect(section('cost')).toContain('1 approval rejected or expired, worth $109.50 a month');
    expect(html).toMatch(/id="headline-cost".*\$547\.50/);
    expect(html).toMatch(/id="headline-enforced".*>0 → 3</);
  });

  it('shows the Transit Gateway, its encryption support and the change that enabled it', () => {
    const [tgw] = summary.transitGateways;
    const row = element(section('tgw'), 'tr', 'data-tgw-id', tgw?.id ?? '');
    expect(row).toContain('>enabled</span>');
    expect(row).toContain('<code>enable-tgw-encryption</code>');
  });

  it('loads nothing: a strict CSP, no script, no src, no stylesheet link, no url(), links only as <a href>', () => {
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    );
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|\ssrc=|url\(|@import/i);
    const urls = [...html.matchAll(/(.{0,16})(https?:\/\/)/g)];
    for (const [, before] of urls) expect(before).toMatch(/<a href="$/);
  });
});

describe('report.html with what users wrote', () => {
  const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
  const [first] = summary.vpcs;
  if (!first) throw new Error('no VPC');
  const page = renderReportHtml({
    ...run,
    scenario: { name: hostile, description: hostile },
    summaries: [
      {
        ...summary,
        vpcs: [
          {
            ...first,
            name: hostile,
            remaining: [hostile],
            blockers: [{ id: hostile, kind: hostile, guidance: hostile }],
            actions: [{ kind: hostile, summary: hostile, outcome: hostile, approvedBy: hostile }],
          },
        ],
        transitGateways: [{ id: 'tgw-0', name: hostile, encryptionSupport: hostile }],
      },
    ],
    approvals: run.approvals.map((a) => ({ ...a, reason: hostile, target: { ...a.target, name: hostile } })),
  });

  it('escapes a VPC name, tags and reasons, so nothing of them becomes markup', () => {
    expect(page).not.toMatch(/<script|<img/i);
    expect(page).toContain(
      '&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#62;&#60;img src=x onerror=alert(2)&#62;',
    );
    // In the title and every section where the name appears.
    expect(page.match(/&#60;script&#62;alert\(1\)/g)?.length).toBeGreaterThan(8);
  });
});

describe('report.html at the two ends of the scale', () => {
  it('reads well for a single VPC: its journey and blockers open', () => {
    const legacy = vpc('legacy');
    const page = renderReportHtml({ ...run, summaries: [{ ...summary, vpcs: [legacy] }] });
    const journeys = element(page, 'section', 'id', 'journeys');
    expect(element(journeys, 'details', 'data-vpc-id', legacy.vpcId)).toMatch(
      /^<details class="journey" open/,
    );
    const blockers = element(page, 'section', 'id', 'blockers');
    expect(element(blockers, 'details', 'data-vpc-id', legacy.vpcId)).toMatch(
      /^<details class="blocker" open/,
    );
    expect(page).toContain('of 1 VPC;');
  });

  it('renders 1,000 VPCs in under 4 MB (2.8 KB a VPC), journeys collapsed, every VPC in the table', () => {
    const big = estateOf(1000);
    const started = performance.now();
    const page = renderReportHtml(big);
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(page);
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
    expect(ms).toBeLessThan(2_000);
    const rows = element(page, 'section', 'id', 'estate').match(/<tr data-vpc-id=/g) ?? [];
    expect(rows).toHaveLength(1000);
    expect(page).not.toMatch(/<details class="journey" open/);
    expect(page).toContain('of 1000 VPCs;');
  });

  it('covers two Regions in one page: a Region column, and the chart adding both up', () => {
    const west = (r: string) => (r === 'us-east-1' ? 'eu-west-1' : r);
    const page = renderReportHtml({
      ...run,
      summaries: [summary, { ...summary, region: 'eu-west-1' }],
      auditLog: [...run.auditLog, ...run.auditLog.map((e) => ({ ...e, region: west(e.region) }))],
    });
    expect(page).toContain('<th>Account · Region</th>');
    expect(page).toContain('111111111111 us-east-1, 111111111111 eu-west-1');
    expect(element(page, 'section', 'id', 'estate').match(/<tr data-vpc-id=/g)).toHaveLength(14);
    const end = summary.verdictsPerIteration.at(-1) ?? {};
    expect(page).toContain(`end: ${(end.ENFORCED ?? 0) * 2} ENFORCED`);
    // Each Region's journey is told from its own audit entries.
    const journeys = element(page, 'section', 'id', 'journeys');
    expect(journeys.match(/<code>disable-exclusion<\/code>/g)).toHaveLength(2);
  });

  it('holds 4 scopes of 250 VPCs as one collapsed table per account and Region, every VPC in them', () => {
    const big = estateOf(250);
    const [one] = big.summaries;
    if (!one) throw new Error('no summary');
    const scopes = ['111111111111', '222222222222'].flatMap((accountId) =>
      ['us-east-1', 'eu-west-1'].map((region) => ({ accountId, region })),
    );
    const page = renderReportHtml({ ...big, summaries: scopes.map((s) => ({ ...one, ...s })) });
    const estate = element(page, 'section', 'id', 'estate');
    const groups = [...estate.matchAll(/<details class="scope" data-scope="([^"]+)">/g)].map((m) => m[1]);
    expect(groups).toEqual(scopes.map((s) => `${s.accountId}/${s.region}`));
    expect(estate.match(/<tr data-vpc-id=/g)).toHaveLength(1000);
    for (const scope of groups) {
      const group = element(estate, 'details', 'data-scope', scope ?? '');
      expect(group.match(/<tr data-vpc-id=/g)).toHaveLength(250);
      expect(group).toMatch(/<summary><strong>\d+ [a-z]+-[a-z]+-\d<\/strong> · 250 VPCs · enforced /);
    }
    // Inside a scope's table the scope goes without saying.
    expect(estate).not.toContain('<th>Account · Region</th>');
    expect(page).toContain('of 1000 VPCs;');
  });

  it('shows the drift a later run found between "before" and "after"', () => {
    const payments = vpc('payments');
    const later = {
      ...summary,
      runId: 'run-later',
      startedAt: '2099-01-01T00:00:00.000Z',
      vpcs: [{ ...payments, before: 'DRIFTED' as const, after: 'ENFORCED' as const, actions: [] }],
    };
    const page = renderReportHtml({ ...run, summaries: [summary, later] });
    const row = element(element(page, 'section', 'id', 'estate'), 'tr', 'data-vpc-id', payments.vpcId);
    const shown = [...row.matchAll(/class="badge v-(\w+)"/g)].map((m) => m[1]);
    expect(shown).toEqual(['READY_TO_ENFORCE', 'ENFORCED', 'DRIFTED', 'ENFORCED']);
  });

  it('says a dry run changed nothing and prices what it would have applied', () => {
    const page = renderReportHtml({
      ...run,
      dryRun: true,
      auditLog: run.auditLog.map((e) => ({ ...e, outcome: 'dry-run' as const })),
      summaries: [{ ...summary, dryRun: true }],
    });
    expect(page).toContain('DRY RUN — nothing was changed');
    expect(page).toMatch(/id="headline-cost".*Monthly cost it would add.*\$547\.50/);
  });
});
