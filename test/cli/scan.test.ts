/**
 * `vecguard scan` and `vecguard plan` against the sandbox's default estate, through the environment a shell
 * would have (AWS_ENDPOINT_URL and the sandbox's keys), with the sandbox's call log as the witness that
 * nothing was changed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FindingSchema } from '../../functions/domain/asff.ts';
import { RemediationPlanSchema } from '../../functions/domain/remediation-plan.ts';
import { AuditReportSchema } from '../../functions/domain/verdict.ts';
import { run } from './helpers.ts';

/** What the loop's first audit of the default estate says (test/e2e/loop.test.ts, `before`). */
const LOOP_VERDICTS = {
  payments: 'READY_TO_ENFORCE',
  legacy: 'UNMONITORED',
  edge: 'READY_TO_ENFORCE',
  analytics: 'UNMONITORED',
  inspection: 'UNMONITORED',
  shared: 'EXEMPT',
};

let full: Sandbox;

beforeAll(async () => {
  full = await startSandbox({ scenario: 'default', port: 0 });
  for (const [key, value] of Object.entries(full.env)) vi.stubEnv(key, value);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await full.stop();
});

/** Run a command and return what it did, plus the calls the sandbox received meanwhile. */
async function runWatched(...argv: string[]) {
  const since = full.calls.lastSeq;
  const result = await run(...argv);
  const calls = full.calls.query({ sinceSeq: since });
  return { ...result, calls, mutating: calls.filter((c) => c.mutating) };
}

function tableVerdicts(stdout: string): Record<string, string> {
  const rows = [...stdout.matchAll(/^(\w+)\s+(vpc-[0-9a-f]+)\s+([A-Z_]+)\s/gm)];
  return Object.fromEntries(rows.map((m) => [m[1], m[3]]));
}

describe('vecguard scan', () => {
  it('prints the verdicts the loop computes for the same estate, and makes no mutating call', async () => {
    const r = await runWatched('scan');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tableVerdicts(r.stdout)).toEqual(LOOP_VERDICTS);
    expect(r.stdout).toContain('account 111111111111 · us-east-1 · 6 VPCs · policy built-in example');
    expect(r.stdout).toMatch(/^legacy\s+vpc-\S+\s+UNMONITORED\s+no control\s+0\s+create a monitor control$/m);
    expect(r.stdout).toMatch(
      /^edge\s+vpc-\S+\s+READY_TO_ENFORCE\s+monitor\/available\s+2\s+switch to enforce/m,
    );
    expect(r.stdout).toMatch(
      /^core \(tgw-\S+\)\s+TGW_ENCRYPTION_DISABLED\s+disabled\s+2\s+enable encryption/m,
    );
    expect(r.stdout).toMatch(/^pcx-\S+\s+payments ↔ analytics\s+PEERING_NEEDS_EXCLUSION/m);
    // The account came from STS, the estate from EC2 reads, and nothing else was called.
    expect(r.calls.some((c) => c.service === 'sts' && c.action === 'GetCallerIdentity')).toBe(true);
    expect(r.calls.filter((c) => c.service === 'ec2').length).toBeGreaterThan(5);
    expect(r.mutating).toEqual([]);
    expect(new Set(r.calls.map((c) => c.service))).toEqual(new Set(['sts', 'ec2']));
  });

  it('--format json prints the audit report', async () => {
    const r = await run('scan', '--format', 'json');
    expect(r.code).toBe(0);
    const report = AuditReportSchema.parse(JSON.parse(r.stdout));
    expect(Object.fromEntries(report.vpcs.map((v) => [v.name, v.verdict]))).toEqual(LOOP_VERDICTS);
    expect(report).toMatchObject({ accountId: '111111111111', region: 'us-east-1', managedElsewhere: false });
  });

  it('--format asff prints the findings as the loop would import them', async () => {
    const r = await runWatched('scan', '--format', 'asff');
    expect(r.code).toBe(0);
    const findings = (JSON.parse(r.stdout) as unknown[]).map((f) => FindingSchema.parse(f));
    // 6 VPCs, 1 Transit Gateway, 1 peering.
    expect(findings).toHaveLength(8);
    expect(findings.every((f) => f.ProductArn.endsWith(':product/111111111111/default'))).toBe(true);
    const vpcStatus = Object.fromEntries(
      findings
        .filter((f) => f.Id.endsWith('/vpc-encryption-enforced'))
        .map((f) => [f.ProductFields?.['vecguard/verdict'], f.Compliance?.Status]),
    );
    expect(vpcStatus).toMatchObject({ EXEMPT: 'PASSED', UNMONITORED: 'FAILED', READY_TO_ENFORCE: 'FAILED' });
    // Printing findings imports nothing.
    expect(r.calls.filter((c) => c.service === 'securityhub')).toEqual([]);
  });

  it('--fail-on exits 1 when a verdict matches, 0 when none does', async () => {
    const matched = await run('scan', '--fail-on', 'BLOCKED,UNMONITORED');
    expect(matched.code).toBe(1);
    expect(matched.stderr).toBe(
      'vecguard: 3 resources matched --fail-on BLOCKED,UNMONITORED: legacy UNMONITORED, inspection UNMONITORED, analytics UNMONITORED\n',
    );
    expect(await run('scan', '--fail-on', 'BLOCKED', '--fail-on', 'drifted')).toMatchObject({
      code: 0,
      stderr: '',
    });
    expect((await run('scan', '--fail-on', 'PEERING_NEEDS_EXCLUSION')).code).toBe(1);
  });

  it('--fail-on any-failed counts FAILED findings; the output stays valid JSON', async () => {
    const r = await run('scan', '--fail-on', 'any-failed', '--format', 'json');
    expect(r.code).toBe(1);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toMatch(/^vecguard: 7 resources matched --fail-on any-failed: /);
    expect(r.stderr).not.toMatch(/shared/);
  });

  it('--policy judges against the given file: an estate the policy ignores passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-scan-'));
    const file = join(dir, 'ignore-all.yaml');
    writeFileSync(file, 'version: 1\ndefaults:\n  mode: ignore\n');
    const r = await run('scan', '--policy', file, '--fail-on', 'any-failed');
    expect(r.stdout).toContain(`policy ${file}`);
    expect(Object.values(tableVerdicts(r.stdout))).toEqual(Array(6).fill('EXEMPT'));
    // The Transit Gateway finding does not depend on the VPC policy: still FAILED.
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toMatch(/matched --fail-on any-failed: core TGW_ENCRYPTION_DISABLED/);
  });

  it('--help names the default policy and shows examples', async () => {
    const r = await run('scan', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('default: the built-in example policy');
    expect(r.stdout).toContain('Examples:');
  });
});

describe('vecguard plan', () => {
  it('lists the ordered actions with gates, risks and costs, and changes nothing', async () => {
    const r = await runWatched('plan');
    expect(r.code).toBe(0);
    expect(r.mutating).toEqual([]);
    expect(tableVerdicts(r.stdout)).toEqual(LOOP_VERDICTS);
    expect(r.stdout).toContain(
      'plan (dry run: nothing was changed) · 13 actions: 12 ready (12 need approval)',
    );
    expect(r.stdout).toMatch(
      /^1\s+ready\s+approval\s+cost\s+\+\$109\.50\s+create an encryption control in monitor mode on vpc-\S+ \(legacy\)$/m,
    );
    expect(r.stdout).toMatch(
      /^\d+\s+ready\s+approval\s+disruptive\s+-\s+switch vpc-\S+ \(payments\) to enforce mode \(relying on the VpcPeering exclusion\)$/m,
    );
    expect(r.stdout).toMatch(
      /^\d+\s+ready\s+approval\s+cost\s+\+\$219\.00\s+enable encryption support on Transit/m,
    );
    expect(r.stdout).toMatch(
      /^\d+\s+guidance\s+manual\s+-\s+-\s+for a person: Auto Scaling group legacy-workers/m,
    );
    expect(r.stdout).toMatch(/^\s+why: vpc-\S+ has no encryption control;/m);
  });

  it('--format json carries the audit and the plan, in dependency order', async () => {
    const r = await runWatched('plan', '--format', 'json', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.mutating).toEqual([]);
    const body = JSON.parse(r.stdout) as { audit: unknown; plan: unknown };
    AuditReportSchema.parse(body.audit);
    const plan = RemediationPlanSchema.parse(body.plan);
    expect(plan.dryRun).toBe(true);
    const seen = new Set<string>();
    for (const action of plan.actions) {
      expect(
        action.dependsOn.every((id) => seen.has(id)),
        action.id,
      ).toBe(true);
      seen.add(action.id);
    }
    expect(plan.actions.map((a) => a.kind)).toContain('switch-to-enforce');
    expect(plan.summary.monthlyCostDeltaUsd).toBeGreaterThan(0);
  });
});
