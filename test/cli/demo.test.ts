/**
 * `vecguard demo` as a user runs it: the real binary, no terminal (so approvals default to none), the
 * summary read from the last line of stdout.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../cli/demo/summary.ts';

async function demo(...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'vecguard-demo-'));
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['cli/bin/vecguard.ts', 'demo', '--json', '--out', out, ...args],
    {
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, CI: 'true' },
    },
  );
  const lines = stdout.trimEnd().split('\n');
  return { summary: JSON.parse(lines.at(-1) ?? '{}') as DemoSummary, stdout, stderr, out };
}

const vpc = (s: DemoSummary, name: string) => s.vpcs.find((v) => v.name === name);

describe('vecguard demo', () => {
  it('--approve all takes the default estate where the loop issue says, and writes the files', async () => {
    const { summary, out, stdout } = await demo('--approve', 'all');
    expect(vpc(summary, 'payments')).toMatchObject({
      before: 'READY_TO_ENFORCE',
      after: 'ENFORCED',
      exclusions: [],
    });
    expect(vpc(summary, 'analytics')).toMatchObject({ after: 'ENFORCED', exclusions: [] });
    expect(vpc(summary, 'edge')?.after).toBe('ENFORCED_WITH_EXCLUSIONS');
    expect([...(vpc(summary, 'edge')?.exclusions ?? [])].sort()).toEqual(['InternetGateway', 'NatGateway']);
    expect(vpc(summary, 'fresh')).toMatchObject({ before: 'UNMONITORED', after: 'ENFORCED' });
    expect(vpc(summary, 'legacy')?.after).toBe('BLOCKED');
    expect(vpc(summary, 'legacy')?.actions.filter((a) => a.startsWith('move '))).toHaveLength(3);
    expect(vpc(summary, 'inspection')?.after).toBe('BLOCKED');
    expect(vpc(summary, 'shared')).toMatchObject({ after: 'EXEMPT', actions: [] });
    expect(summary.transitGateways).toEqual([expect.objectContaining({ encryptionSupport: 'enabled' })]);
    expect(summary.approvals).toMatchObject({
      approved: summary.approvals.requested,
      rejected: 0,
      expired: 0,
    });
    expect(summary.mutatingCalls).toBeGreaterThan(10);
    expect(summary.runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    for (const file of ['report.html', 'findings.json', 'notifications.jsonl', 'audit-log.jsonl']) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const audit = readFileSync(join(out, 'audit-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { approvedBy: string });
    expect(audit.length).toBe(summary.actions.applied);
    expect(audit.every((e) => e.approvedBy.startsWith('arn:aws:'))).toBe(true);
    expect(stdout).toMatch(/payments\s+READY_TO_ENFORCE → ENFORCED/);
  });

  it('without a terminal approvals default to none: no risky action is applied, every request expires', async () => {
    const { summary } = await demo();
    expect(summary.approve).toBe('none');
    expect(summary.actions.applied).toBe(0);
    expect(summary.mutatingCalls).toBe(0);
    expect(summary.approvals.requested).toBeGreaterThan(0);
    expect(summary.approvals.expired).toBe(summary.approvals.requested);
  });

  it('--dry-run changes nothing, even approving everything', async () => {
    const { summary } = await demo('--dry-run', '--approve', 'all');
    expect(summary.dryRun).toBe(true);
    expect(summary.mutatingCalls).toBe(0);
    expect(summary.actions.applied).toBe(0);
    expect(summary.actions.dryRun).toBeGreaterThan(0);
    expect(vpc(summary, 'payments')?.after).toBe('READY_TO_ENFORCE');
  });

  it('bad flags and a broken policy are one line with exit 2', async () => {
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['cli/bin/vecguard.ts', 'demo', ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const badMode = await run('--approve', 'maybe');
    expect(badMode).toMatchObject({
      code: 2,
      stderr: 'vecguard: --approve takes ask, all or none, got "maybe"\n',
    });
    const badPolicy = await run('--policy', 'package.json');
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr.trim().split('\n')).toHaveLength(1);
    expect((await run('--scenario', 'nowhere')).stderr).toContain('scenario "nowhere" not found');
  });
});

describe('vecguard demo --approve ask', () => {
  it('shows each request and waits for y/n: a "n" leaves that VPC alone, the others proceed', async () => {
    const { spawn } = await import('node:child_process');
    const out = mkdtempSync(join(tmpdir(), 'vecguard-ask-'));
    const child = spawn(
      process.execPath,
      ['cli/bin/vecguard.ts', 'demo', '--approve', 'ask', '--json', '--out', out],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let answered = 0;
    const prompts: string[] = [];
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      // Answer every prompt shown so far: "n" for edge, "y" for everything else.
      const shown = stderr.split('Approve? [y/N]').slice(0, -1);
      while (answered < shown.length) {
        const request = shown[answered]?.split('Approval apr-').at(-1) ?? '';
        prompts.push(request);
        child.stdin.write(/ — edge \(/.test(request) ? 'n\n' : 'y\n');
        answered++;
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}') as DemoSummary;
    expect(prompts.length).toBe(summary.approvals.requested);
    expect(prompts.some((p) => p.includes('monthly cost: +$109.50'))).toBe(true);
    expect(summary.approvals.rejected).toBe(1);
    expect(vpc(summary, 'edge')).toMatchObject({ after: 'READY_TO_ENFORCE', actions: [] });
    expect(vpc(summary, 'payments')?.after).toBe('ENFORCED');
  });
});
