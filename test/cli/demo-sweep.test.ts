/**
 * `vecguard demo` run in-process with fake streams, on estates of several accounts and Regions: the sweep
 * covers every scope of the estate, progress is a bar on a terminal and plain lines without one, a large
 * estate ends with counts rather than a table, and a drift between sweeps shows in each VPC's verdicts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTENTION_SHOWN, COMPACT_ABOVE } from '../../cli/demo/results.ts';
import type { DemoSummary } from '../../cli/demo/summary.ts';
import { main } from '../../cli/main.ts';

/** 2 accounts × 2 Regions × 11 VPCs: more VPCs than a table shows, small enough to sweep in seconds. */
const ESTATE = `description: Two accounts in two Regions.
generate:
  seed: 11
  accounts: 2
  regions: [us-east-1, eu-west-1]
  vpcsPerRegion: 11
  blockedShare: 0.3
  monitoredShare: 0.8
  internetGatewayShare: 0.2
`;
const SCOPES = ['200000000001', '200000000002'].flatMap((a) => [`${a}/us-east-1`, `${a}/eu-west-1`]);

/** `vecguard demo --json …` in this process; stderr a terminal when `tty`. */
async function demo(args: string[], stderr: { isTTY?: boolean; columns?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vecguard-demo-sweep-'));
  let stdout = '';
  let err = '';
  const code = await main(['demo', '--json', '--out', dir, ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (err += s), ...stderr },
  });
  const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}') as DemoSummary;
  return { code, stdout, stderr: err, summary, dir };
}

function estateFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vecguard-estate-')), 'four-scopes.yaml');
  writeFileSync(file, ESTATE);
  return file;
}

describe('vecguard demo on an estate of several accounts and Regions', () => {
  it('sweeps every account × Region, prints plain progress lines when piped, and counts instead of a table', async () => {
    const { code, stdout, stderr, summary } = await demo(['--scenario', estateFile(), '--approve', 'none']);
    expect(code).toBe(0);
    // One run per scope, all of them the sweep.
    expect(summary.runs.map((r) => r.label).sort()).toEqual(SCOPES.map((s) => `scheduled sweep ${s}`).sort());
    expect(summary.runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    // --json lists every VPC, each in its scope.
    expect(summary.vpcs).toHaveLength(44);
    expect(new Set(summary.vpcs.map((v) => `${v.accountId}/${v.region}`))).toEqual(new Set(SCOPES));

    expect(stderr).not.toContain('\r');
    expect(stderr).toMatch(/^scheduled sweep 4\/4 scopes/m);

    // More than COMPACT_ABOVE VPCs: counts before → after and per scope, and a capped list.
    expect(summary.vpcs.length).toBeGreaterThan(COMPACT_ABOVE);
    expect(stdout).toContain('44 VPCs in 4 scopes (account/Region)');
    for (const verdict of new Set(summary.vpcs.map((v) => v.after))) {
      const before = summary.vpcs.filter((v) => v.before === verdict).length;
      const after = summary.vpcs.filter((v) => v.after === verdict).length;
      expect(stdout).toMatch(new RegExp(`^  ${verdict} +${before} +→ +${after}$`, 'm'));
    }
    for (const scope of SCOPES) expect(stdout).toMatch(new RegExp(`^${scope} +11 `, 'm'));
    const attention = summary.vpcs.filter((v) => v.remaining.length > 0).length;
    expect(attention).toBeGreaterThan(ATTENTION_SHOWN);
    expect(stdout).toContain(
      `${attention} VPCs need attention; the first ${ATTENTION_SHOWN}, most urgent first:`,
    );
    expect(stdout).toContain(`… and ${attention - ATTENTION_SHOWN} more (see `);
    expect(stdout).not.toMatch(/^VPC +verdict before → after/m);
  });

  it('on a terminal, rewrites one status line whose bar reaches 4/4 scopes', async () => {
    const { code, stderr } = await demo(['--scenario', estateFile(), '--approve', 'none'], {
      isTTY: true,
      columns: 120,
    });
    expect(code).toBe(0);
    const redraws = stderr.split('\r\x1b[2K').slice(1);
    expect(redraws.length).toBeGreaterThan(1);
    expect(stderr).toContain('scheduled sweep ▕░░░░░░░░░░░░▏ 0/4 scopes');
    // The full bar is the last redraw of the sweep, ended with a newline so that it stays on screen.
    const full = redraws.find((line) => line.startsWith('scheduled sweep ▕████████████▏ 4/4 scopes'));
    expect(full?.split('\n')).toHaveLength(2);
    for (const line of redraws) expect(line.split('\n')[0]?.length ?? 0).toBeLessThan(120);
  });
});

describe('vecguard demo --scenario drift', () => {
  it('shows the drift between the two sweeps in the table and in --json, not ENFORCED → ENFORCED', async () => {
    const { code, stdout, summary } = await demo(['--scenario', 'drift', '--approve', 'all']);
    expect(code).toBe(0);
    const orders = summary.vpcs.find((v) => v.name === 'orders');
    // before/after as documented: first and last; the path in between in `verdicts`.
    expect(orders).toMatchObject({ before: 'ENFORCED', after: 'ENFORCED' });
    expect(orders?.verdicts).toEqual(['ENFORCED', 'DRIFTED', 'ENFORCED']);
    expect(orders?.actions).toHaveLength(1);
    expect(stdout).toMatch(/^orders +ENFORCED → DRIFTED → ENFORCED +1/m);
    // Untouched by the drift: before → after as always.
    expect(summary.vpcs.find((v) => v.name === 'search')?.verdicts).toEqual(['ENFORCED']);
    expect(stdout).toMatch(/^search +ENFORCED → ENFORCED +0/m);
  });
});
