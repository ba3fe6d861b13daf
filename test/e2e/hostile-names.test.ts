/**
 * Issue 9, problem 8: a VPC's Name tag is written by whoever may tag the VPC. With ANSI escapes, an OSC-8
 * link, CR/LF, NUL, a C1 CSI, bidi and zero-width characters and a forged "all VPCs ENFORCED" line in it
 * (test/fixtures/scenarios/hostile-names.yaml), nothing a person reads — the CLI's tables, the demo's
 * lines and files, the approval text, the SNS messages, the Security Hub findings, the HTML report — carries
 * one of those characters raw, and the forged text never starts a line.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { approvalText } from '../../cli/commands/demo.ts';
import { run } from '../cli/helpers.ts';
import { ACCOUNT, REGION, runToEnd, startLoop, stopLoopsAfterEach } from './harness.ts';

const SCENARIO = join(import.meta.dirname, '../fixtures/scenarios/hostile-names.yaml');
const FORGED = 'all VPCs ENFORCED';

stopLoopsAfterEach();
afterEach(() => vi.unstubAllEnvs());

/**
 * The code points of a line that must never reach a person: C0 (LF aside: it is how lines end), DEL, C1,
 * bidi marks, embeddings, overrides and isolates, zero-width characters, line/paragraph separators.
 */
function isHostile(cp: number): boolean {
  const within = (from: number, to: number) => cp >= from && cp <= to;
  return (
    (within(0x00, 0x1f) && cp !== 0x0a) ||
    within(0x7f, 0x9f) ||
    cp === 0x061c ||
    within(0x200b, 0x200f) ||
    within(0x2028, 0x202e) ||
    within(0x2060, 0x2069) ||
    cp === 0xfeff ||
    within(0xd800, 0xdfff)
  );
}

function hostileIn(text: string): string[] {
  return [...text]
    .map((ch) => ch.codePointAt(0) ?? 0)
    .filter(isHostile)
    .map((cp) => `U+${cp.toString(16).padStart(4, '0')}`);
}

/** `text` as a person reads it: no hostile character on any line, and no line that starts with the forgery. */
function expectReadable(what: string, text: string): void {
  expect(hostileIn(text), what).toEqual([]);
  const forged = text.split('\n').filter((line) => line.trimStart().startsWith(FORGED));
  expect(forged, `${what}: a line starts with "${FORGED}"`).toEqual([]);
}

/** Every string inside a JSON value (a finding), each one read as text. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

describe('a hostile VPC Name tag', () => {
  it('reaches no terminal, message, finding or report raw: plan, the loop, and their records', async () => {
    const loop = await startLoop({ scenario: SCENARIO });
    const { result, approvals, summary } = await runToEnd(loop, () => true);
    expect(result.status).toBe('SUCCEEDED');
    // The tag did reach vecguard: the run knows the VPC by it, raw, as AWS returned it.
    const hostile = summary?.vpcs.find((v) => v.name.includes(FORGED));
    expect(hostile?.name).toContain('\u001b[2J');

    // The approval a person is asked (the demo's approval text), for each request of the run.
    expect(approvals.length).toBeGreaterThan(0);
    expect(approvals.some((a) => a.target.name?.includes(FORGED))).toBe(true);
    for (const a of approvals) expectReadable(`approval ${a.approvalId}`, approvalText(a));

    // Every SNS message (approval requests, the run report): subject and body.
    const messages = loop.sandbox.sns.messagesFor(loop.topicArn);
    expect(messages.some((m) => m.message.includes(FORGED))).toBe(true);
    for (const m of messages) {
      expectReadable(`SNS subject ${m.subject}`, m.subject ?? '');
      expectReadable(`SNS message ${m.messageId}`, m.message);
    }

    // Every text of every finding Security Hub holds (title, description, details).
    const findings = loop.sandbox.securityHub.findings(ACCOUNT, REGION);
    // The title names the VPC escaped (cut, with a count, to leave room for the verdict).
    expect(findings.some((f) => /^VPC \\x1b\[2J\\x1b\[Hprod.*more characters\]/.test(f.Title ?? ''))).toBe(
      true,
    );
    for (const f of findings) for (const text of stringsOf(f)) expectReadable(`finding ${f.Id}`, text);

    // The CLI, pointed at the same estate: scan's and plan's tables, and --fail-on's line.
    for (const [key, value] of Object.entries(loop.sandbox.env)) vi.stubEnv(key, value);
    for (const command of ['scan', 'plan']) {
      const out = await run(command, '--region', REGION, '--fail-on', 'any-failed');
      expect(out.stdout).toContain(FORGED);
      expectReadable(`vecguard ${command} stdout`, out.stdout);
      expectReadable(`vecguard ${command} stderr`, out.stderr);
    }
    // JSON for machines: the same value as AWS returned it, escaped so a terminal shows it harmlessly.
    for (const format of ['json', 'asff']) {
      const out = await run('scan', '--region', REGION, '--format', format);
      expectReadable(`vecguard scan --format ${format}`, out.stdout);
      expect(JSON.stringify(JSON.parse(out.stdout))).toContain(FORGED);
    }
    const scanned = JSON.parse((await run('scan', '--region', REGION, '--format', 'json')).stdout) as {
      vpcs: { name: string }[];
    };
    expect(scanned.vpcs.map((v) => v.name)).toContain(hostile?.name);
  });

  it('reaches none of the demo’s lines, its summary, or the files it writes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vecguard-hostile-'));
    const demo = await run('demo', '--scenario', SCENARIO, '--approve', 'all', '--out', out, '--json');
    expect(demo.code, demo.stderr).toBe(0);
    // The approval lines name the VPC, escaped.
    expect(demo.stderr).toMatch(/approval apr-\S+ for \\x1b\[2J\\x1b\[Hprod.*: approved/);
    expectReadable('demo stderr (progress, approvals)', demo.stderr);
    expectReadable('demo stdout (summary, --json)', demo.stdout);
    const summary = JSON.parse(demo.stdout.trim().split('\n').at(-1) ?? '') as { vpcs: { name: string }[] };
    expect(summary.vpcs.some((v) => v.name.startsWith('\u001b[2J'))).toBe(true);

    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain(FORGED);
    expectReadable('report.html', report);
    for (const line of readFileSync(join(out, 'notifications.jsonl'), 'utf8').trim().split('\n')) {
      const m = JSON.parse(line) as { subject?: string; message: string };
      expectReadable('notifications.jsonl subject', m.subject ?? '');
      expectReadable('notifications.jsonl message', m.message);
    }
    const findings = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as unknown[];
    for (const text of stringsOf(findings)) expectReadable('findings.json', text);
  });
});
