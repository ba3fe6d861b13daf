/**
 * `vecguard events classify`: one JSON line per event of the files, decided by the on-event function's own
 * classifier; exit 1 when any event is invalid, exit 2 (one line, nothing printed) when a file cannot be read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { run } from './helpers.ts';

const FILES = 'test/fixtures/event-files';
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('vecguard events classify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecguard-events-'));

  it('a CloudTrail log file: one line a record, the runs it starts or why not; exit 1 for the invalid one', async () => {
    const r = await run('events', 'classify', `${FILES}/cloudtrail-log-file.json`);
    expect(r.code).toBe(1);
    const out = lines(r.stdout);
    expect(out.map((l) => [l.at, l.outcome])).toEqual([
      ['Records[0]', 'ignored'],
      ['Records[1]', 'run'],
      ['Records[2]', 'ignored'],
      ['Records[3]', 'run'],
      ['Records[4]', 'invalid'],
    ]);
    expect(out[1]).toMatchObject({
      via: ['cloudtrail-record'],
      scopes: [
        {
          accountId: '111111111111',
          region: 'us-east-1',
          vpcIds: ['vpc-0a1b2c3d4e5f60718'],
          reason: 'CreateVpc: a VPC was created',
          executionName: expect.stringMatching(/^ct-111111111111-us-east-1-/),
        },
      ],
    });
    expect(out[3]).toMatchObject({ scopes: [{ accountId: '222222222222', region: 'eu-west-1' }] });
    expect(out[2]).toMatchObject({ reason: 'DescribeVpcs does not change encryption posture' });
    expect(out[4]).toMatchObject({ reason: 'EventBridge event: account is missing (expected string)' });
    expect(r.stderr).toBe('5 events: 2 would start runs (2 scopes), 2 ignored, 1 invalid\n');
  });

  it('gzip is recognised by its magic bytes, whatever the name, and reads the same', async () => {
    const plain = await run('events', 'classify', `${FILES}/cloudtrail-log-file.json`);
    const gz = await run('events', 'classify', `${FILES}/cloudtrail-log-file.json.gz`);
    const renamed = join(dir, 'log.json');
    writeFileSync(renamed, gzipSync(JSON.stringify({ Records: [] })));
    expect((await run('events', 'classify', renamed)).code).toBe(0);
    const strip = (s: string) => lines(s).map(({ file, ...rest }) => rest);
    expect(strip(gz.stdout)).toEqual(strip(plain.stdout));
    expect(gz.code).toBe(1);
  });

  it('a raw record, an SNS notification and JSON Lines; all valid is exit 0', async () => {
    const r = await run(
      'events',
      'classify',
      `${FILES}/cloudtrail-record.json`,
      `${FILES}/sns-notification.json`,
      'test/fixtures/events/cloudtrail-create-vpc.json',
    );
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    // Delivered as is, in an SNS message or as the bare record: the same scope and VPCs. (The execution name
    // differs: an event's id is EventBridge's envelope id with the record's, and a bare record has no envelope.)
    const scopes = out.map((l) =>
      JSON.stringify(
        (l.scopes as { accountId: string; region: string; vpcIds: unknown }[]).map((s) => [
          s.accountId,
          s.region,
          s.vpcIds,
        ]),
      ),
    );
    expect(new Set(scopes).size).toBe(1);
    expect(out.map((l) => l.via)).toEqual([['cloudtrail-record'], ['sns'], []]);
    const jsonl = await run('events', 'classify', `${FILES}/events.jsonl`);
    expect(lines(jsonl.stdout).map((l) => [l.at, l.outcome])).toEqual([
      ['line 1', 'run'],
      ['line 3', 'ignored'],
      ['line 4', 'invalid'],
    ]);
  });

  it('a sweep covers the scopes of the policy given, as on-event would', async () => {
    const policy = join(dir, 'targets.yaml');
    writeFileSync(
      policy,
      'version: 1\ntargets:\n  - { name: prod, accounts: ["222222222222", "333333333333"], regions: [eu-west-1, us-east-1], mode: enforce }\n',
    );
    const r = await run('events', 'classify', `${FILES}/lambda-sns-batch.json`, '--policy', policy);
    const [sweep, message] = lines(r.stdout);
    expect(
      ((sweep?.scopes ?? []) as { accountId: string; region: string }[]).map(
        (s) => `${s.accountId}/${s.region}`,
      ),
    ).toEqual([
      '111111111111/us-east-1',
      '222222222222/eu-west-1',
      '222222222222/us-east-1',
      '333333333333/eu-west-1',
      '333333333333/us-east-1',
    ]);
    expect(message).toMatchObject({
      outcome: 'invalid',
      reason: expect.stringMatching(/^the SNS message is not JSON/),
    });
    expect(r.code).toBe(1);
  });

  it('a file that cannot be read, or is not JSON, is exit 2 in one line, before any event is printed', async () => {
    const notJson = join(dir, 'notes.txt');
    writeFileSync(notJson, 'CreateVpc at 01:30\n');
    const badLine = join(dir, 'bad.jsonl');
    writeFileSync(badLine, '{"a":1}\n{"b":\n');
    const badGzip = join(dir, 'cut.gz');
    writeFileSync(badGzip, gzipSync('{"Records": []}').subarray(0, 12));
    for (const [file, message] of [
      [join(dir, 'nope.json'), `${join(dir, 'nope.json')}: no such file`],
      [dir, `${dir}: is a directory; name the event files inside it`],
      [notJson, `${notJson}: not JSON (`],
      [badLine, `${badLine}: line 2 is not JSON (`],
      [badGzip, `${badGzip}: starts like gzip but does not unzip (`],
    ] as const) {
      const r = await run('events', 'classify', `${FILES}/cloudtrail-record.json`, file);
      expect(r.code, file).toBe(2);
      expect(r.stdout, file).toBe('');
      expect(r.stderr.startsWith(`vecguard: ${message}`), r.stderr).toBe(true);
      expect(r.stderr.trim().split('\n'), file).toHaveLength(1);
    }
  });

  it('usage: no FILE or an unknown subcommand is exit 2; --help exits 0', async () => {
    expect((await run('events', 'classify')).code).toBe(2);
    expect((await run('events', 'frob')).code).toBe(2);
    const help = await run('events', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('vecguard events classify FILE...');
  });
});
