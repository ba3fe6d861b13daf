/**
 * `vecguard scan` with a policy that targets OUs, against a sandbox whose scenario has an organisation: the
 * scan reads the scanned account's OUs as the loop does, so its verdicts follow the OU targets; and when
 * Organizations refuses the credentials in use, it stops with the one line that says why and what to do,
 * rather than judge without the OUs.
 */

import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditReportSchema } from '../../functions/domain/verdict.ts';
import { run } from './helpers.ts';

const POLICY = 'test/fixtures/policies/ou-targets.policy.yaml';
let full: Sandbox;

beforeAll(async () => {
  full = await startSandbox({ scenario: 'test/fixtures/scenarios/organization.yaml', port: 0 });
  for (const [key, value] of Object.entries(full.env)) vi.stubEnv(key, value);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await full.stop();
});

describe('vecguard scan with OU targets', () => {
  it('judges the management account by its OU’s target, reading only its chain', async () => {
    const since = full.calls.lastSeq;
    const r = await run('scan', '--policy', POLICY, '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = AuditReportSchema.parse(JSON.parse(r.stdout));
    // tools is ready to enforce, but the platform OU asks for monitor.
    expect(report.vpcs[0]).toMatchObject({
      name: 'tools',
      verdict: 'READY_TO_ENFORCE',
      desiredMode: 'monitor',
      policySource: 'target:platform',
    });
    const organizations = full.calls.query({ service: 'organizations', sinceSeq: since });
    expect(organizations.map((c) => c.action)).toEqual(['ListParents', 'ListParents']);
    expect(full.calls.query({ sinceSeq: since, mutating: true })).toEqual([]);
  });

  it('the table says there is nothing to do where the OU asks for monitor', async () => {
    const r = await run('scan', '--policy', POLICY);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^tools\s+vpc-\S+\s+READY_TO_ENFORCE\s+monitor\/available\s+0\s+none \(policy asks monitor\)$/m,
    );
  });

  it('a member account’s credentials: refused by Organizations, one line, exit 3', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDSANDBOX333333333333');
    try {
      const r = await run('scan', '--policy', POLICY);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /^vecguard: organizations ListParents failed: AccessDeniedException: the policy targets organizational units \(ou-vg01-sandbox1, ou-vg01-platform, ou-vg01-workload\), so vecguard reads AWS Organizations, and the account of these credentials \(333333333333\) may not read it: run it in the organization's management account or a delegated administrator account, .*or target accounts instead of OUs\. /,
      );
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', full.env.AWS_ACCESS_KEY_ID ?? '');
    }
  });

  it('a policy without OU targets never calls Organizations', async () => {
    const since = full.calls.lastSeq;
    expect((await run('scan')).code).toBe(0);
    expect(full.calls.query({ service: 'organizations', sinceSeq: since })).toEqual([]);
  });
});
