/**
 * The demo as a rehearsal tool: `--events` delivers a file's events to on-event as EventBridge would, the
 * out folder holds every AWS call the run made (calls.jsonl), and the summary counts executions started and
 * approval requests sent.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../cli/demo/summary.ts';

async function demo(...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'vecguard-rehearsal-'));
  const result = await promisify(execFile)(
    process.execPath,
    ['cli/bin/vecguard.ts', 'demo', '--json', '--out', out, ...args],
    { maxBuffer: 32 * 1024 * 1024, env: { ...process.env, CI: 'true' } },
  ).catch((e: { code: number; stdout: string; stderr: string }) => e);
  const code = 'code' in result ? result.code : 0;
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  return { code, summary: JSON.parse(last.startsWith('{') ? last : '{}') as DemoSummary, ...result, out };
}

const jsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The EC2 actions that make each kind's change, one call per action (an instance move is three). */
const KINDS_OF_CALL: Record<string, readonly string[]> = {
  CreateVpcEncryptionControl: ['create-monitor-control'],
  ModifyVpcEncryptionControl: [
    'switch-to-enforce',
    'restore-enforce',
    'enable-exclusion',
    'disable-exclusion',
  ],
  ModifyTransitGateway: ['enable-tgw-encryption'],
  CreateFlowLogs: ['create-flow-log'],
};

/** Every successful mutating call of calls.jsonl has an audit entry of a kind that makes it. */
function expectEveryChangeRecorded(out: string) {
  const calls = jsonl(join(out, 'calls.jsonl')).filter(
    (c) => c.service === 'ec2' && c.mutating === true && c.dryRun === false && (c.status as number) < 300,
  );
  const changes = jsonl(join(out, 'audit-log.jsonl')).filter(
    (e) => e.outcome === 'applied' || (e.outcome === 'failed' && e.intentAt),
  );
  for (const [action, kinds] of Object.entries(KINDS_OF_CALL)) {
    const made = calls.filter((c) => c.action === action).length;
    const recorded = changes.filter((e) => kinds.includes(e.kind as string)).length;
    expect(recorded, `${action}: ${made} successful call(s)`).toBeGreaterThanOrEqual(made);
  }
}

describe('vecguard demo as a rehearsal', () => {
  it('--events delivers the file’s events as EventBridge would; calls.jsonl and the counts tell what the run did', async () => {
    const { code, summary, stderr, out } = await demo(
      '--approve',
      'all',
      '--events',
      'test/fixtures/event-files/demo-events.json',
    );
    expect(code).toBe(0);
    // The AttachInternetGateway on payments started a run; DescribeVpcs is ignored; the bad account refused.
    expect(summary.events).toEqual({ delivered: 3, started: 1, ignored: 1, invalid: 1, deadLettered: 0 });
    expect(summary.runs.map((r) => r.label)).toContain('demo-events.json [0]');
    expect(stderr).toContain(
      'event demo-events.json [1]: ignored: DescribeVpcs does not change encryption posture',
    );
    expect(stderr).toMatch(/event demo-events\.json \[2\]: invalid: EventBridge event: account: /);
    expect(summary.runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);

    const calls = jsonl(join(out, 'calls.jsonl'));
    expect(calls.length).toBeGreaterThan(100);
    for (const c of calls) {
      expect(c).toMatchObject({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        service: expect.any(String),
        action: expect.any(String),
        mutating: expect.any(Boolean),
      });
    }
    // The recorded CreateVpc, the event's run and the sweep: one StartExecution each, all in the call log.
    const starts = calls.filter(
      (c) => c.service === 'states' && c.action === 'StartExecution' && !c.errorCode,
    );
    expect(summary.executionsStarted).toBe(3);
    expect(starts).toHaveLength(3);
    // Every EC2 change vecguard made is a line (the summary's mutatingCalls counts its own, not the replay's).
    const ec2Changes = calls.filter((c) => c.service === 'ec2' && c.mutating && !c.dryRun);
    expect(ec2Changes.length).toBeGreaterThanOrEqual(summary.mutatingCalls);
    const requests = jsonl(join(out, 'notifications.jsonl')).filter(
      (m) =>
        (m.messageAttributes as { kind?: { StringValue?: string } }).kind?.StringValue === 'approval-request',
    );
    expect(summary.approvalRequests).toBe(requests.length);
    expect(summary.approvalRequests).toBeGreaterThanOrEqual(summary.approvals.requested);
  });

  it('an --events file that cannot be read is exit 2 in one line, before any sandbox starts', async () => {
    const { code, stderr } = await demo('--events', 'test/fixtures/event-files/nowhere.json');
    expect(code).toBe(2);
    expect(stderr).toBe('vecguard: test/fixtures/event-files/nowhere.json: no such file\n');
  });

  it('--faults injects the control API’s rules, `after` included: the first control is created, later ones refused', async () => {
    const { summary, out } = await demo(
      '--approve',
      'all',
      '--faults',
      'test/fixtures/faults/refuse-after-first-control.yaml',
    );
    const creates = jsonl(join(out, 'calls.jsonl')).filter(
      (c) => c.action === 'CreateVpcEncryptionControl' && !c.dryRun,
    );
    expect(creates[0]?.errorCode).toBeUndefined();
    expect(creates.slice(1).length).toBeGreaterThan(0);
    expect(creates.slice(1).every((c) => c.errorCode === 'UnauthorizedOperation')).toBe(true);
    expect(summary.actions.failed).toBeGreaterThan(0);
  });

  it('an event on-event fails on is delivered again, as Lambda retries: StartExecution unavailable 4 times, then the run', async () => {
    const { code, summary, out } = await demo(
      '--approve',
      'all',
      '--faults',
      'test/fixtures/faults/start-execution-unavailable.yaml',
    );
    expect(code).toBe(0);
    const starts = jsonl(join(out, 'calls.jsonl')).filter((c) => c.action === 'StartExecution');
    expect(starts.map((c) => c.errorCode ?? 'ok')).toEqual([
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ok',
      'ok',
    ]);
    expect(summary.executionsStarted).toBe(2);
    expect(summary.runs.map((r) => [r.label, r.status])).toEqual([
      ['CreateVpc by alex', 'SUCCEEDED'],
      ['scheduled sweep', 'SUCCEEDED'],
    ]);
  });

  it('--faults die: Apply dies between its change and its record; the run fails and its failure report says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-die-'));
    const file = join(dir, 'die.yaml');
    writeFileSync(file, 'die:\n  - { handler: Apply, point: after-change, times: 1 }\n');
    const { code, summary, out } = await demo('--approve', 'all', '--faults', file);
    expect(code).toBe(3);
    expect(summary.runs.filter((r) => r.status === 'FAILED')).toHaveLength(1);
    const failures = jsonl(join(out, 'notifications.jsonl')).filter(
      (m) =>
        (m.messageAttributes as { kind?: { StringValue?: string } }).kind?.StringValue === 'failure-report',
    );
    expect(failures.map((m) => m.message).join('\n')).toContain('Apply died at after-change');
    // The faults end with the sweeps; one more sweep runs, and every change the product made is in the log.
    expect(summary.runs.at(-1)).toMatchObject({ label: 'sweep after the faults ended', status: 'SUCCEEDED' });
    expectEveryChangeRecorded(out);
  });

  it('--faults: DynamoDB failing from the first change on never ends in a stack trace; every change is recorded in the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-ddb-'));
    const file = join(dir, 'ddb.yaml');
    writeFileSync(
      file,
      'faults:\n  - { service: dynamodb, errorCode: InternalServerError, after: { service: ec2, action: CreateVpcEncryptionControl } }\n',
    );
    const { code, summary, stderr, out } = await demo('--approve', 'all', '--faults', file);
    expect(code).toBe(3);
    expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(summary.runs.some((r) => r.status === 'FAILED')).toBe(true);
    expect(summary.runs.at(-1)).toMatchObject({ label: 'sweep after the faults ended', status: 'SUCCEEDED' });
    expectEveryChangeRecorded(out);
  });

  it('a bad faults file is exit 2 in one line naming the path inside it, before any sandbox starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-faults-'));
    const cases = [
      ['faults: [{ service: ec2, errorCode: X, errorRate: 2 }]', 'faults[0].errorRate: '],
      ['faults: [{ service: ec2 }]', 'faults[0]: a fault needs errorCode and/or latencyMs'],
      ['fault: []', '(top level): Unrecognized key: "fault"'],
      ['faults: [\n', 'line 2, column 1: '],
      ['die: [{ handler: Apply }]', 'die[0].point: '],
      ['die: [{ handler: Apply, point: before-lunch }]', 'die[0]: unknown point: the points are Apply: '],
    ] as const;
    for (const [i, [text, message]] of cases.entries()) {
      const file = join(dir, `f${i}.yaml`);
      writeFileSync(file, text);
      const { code, stderr } = await demo('--faults', file);
      expect(code, text).toBe(2);
      expect(stderr.startsWith(`vecguard: ${file}: ${message}`), stderr).toBe(true);
      expect(stderr.trim().split('\n'), text).toHaveLength(1);
    }
  });
});
