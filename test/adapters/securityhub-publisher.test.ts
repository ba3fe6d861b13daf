import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { DEFAULT_ACCOUNT_ID, type Sandbox, type SecurityHubEmulator, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '#adapters/rate-limit.ts';
import { publishFindings } from '#adapters/securityhub-publisher.ts';
import type { Finding } from '#domain/asff.ts';
import { findingForVerdict } from '#domain/findings.ts';
import { type VpcVerdict, VpcVerdictSchema } from '#domain/verdict.ts';
import { AccessError, AwsCallError } from '#shared/errors.ts';

const ACCOUNT = DEFAULT_ACCOUNT_ID;
const RUN_1 = '2026-11-24T01:00:00.000Z';
const RUN_2 = '2026-11-24T02:00:00.000Z';

/** A clock that never waits for real and remembers how long it was asked to wait. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

function blocked(vpcId: string, region: string, over: Partial<VpcVerdict> = {}): VpcVerdict {
  return VpcVerdictSchema.parse({
    vpcId,
    name: `app-${vpcId}`,
    accountId: ACCOUNT,
    region,
    verdict: 'BLOCKED',
    desiredMode: 'enforce',
    policySource: 'defaults',
    currentMode: 'monitor',
    controlState: 'available',
    reasons: ['An instance type cannot encrypt in transit.'],
    blockers: [{ id: `eni-${vpcId}`, type: 'x', description: '', isExcludable: false, kind: 'instance' }],
    exclusionsNeeded: [],
    exclusionsRefused: [],
    exclusionsEnabled: [],
    ...over,
  });
}

const findingsFor = (vpcIds: readonly string[], region: string, takenAt: string): Finding[] =>
  vpcIds.map((id) => findingForVerdict(blocked(id, region), { takenAt }));

describe('publishFindings against the sandbox Security Hub', () => {
  let sandbox: Sandbox;
  let hub: SecurityHubEmulator;
  const clients = new Map<string, SecurityHubClient>();
  const client = (region: string): SecurityHubClient => {
    let c = clients.get(region);
    if (c === undefined) {
      c = new SecurityHubClient({
        endpoint: sandbox.url,
        region,
        credentials: sandbox.clientCredentials,
        maxAttempts: 1,
      });
      clients.set(region, c);
    }
    return c;
  };
  const importCalls = (region: string, sinceSeq: number) =>
    sandbox.calls.query({ service: 'securityhub', action: 'BatchImportFindings', region, sinceSeq });

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock: { speed: 0, startAt: Date.parse('2026-11-24T03:00:00Z') },
    });
    sandbox.registerCredentials('AKIDMEMBERPUB', '222222222222');
    hub = sandbox.securityHub;
  });
  afterAll(() => sandbox.stop());

  it('creates findings on the first run, then resolves a problem that is gone and archives a resource that is gone', async () => {
    const region = 'us-east-1';
    const first = await publishFindings({
      client: client(region),
      accountId: ACCOUNT,
      region,
      findings: findingsFor(['vpc-a', 'vpc-b', 'vpc-c'], region, RUN_1),
      takenAt: RUN_1,
      liveResourceIds: new Set(['vpc-a', 'vpc-b', 'vpc-c']),
      clock: fakeClock(),
    });
    expect(first).toEqual({ imported: 3, failed: [], resolved: 0, archived: 0, unreadable: [] });
    const stored = hub.findings(ACCOUNT, region);
    expect(stored).toHaveLength(3);
    expect(stored.every((f) => f.Compliance?.Status === 'FAILED' && f.RecordState === 'ACTIVE')).toBe(true);

    // Second run: vpc-b's problem is gone (no finding), vpc-c no longer exists. `previous` is read back from
    // Security Hub with GetFindings.
    const [a, b, c] = stored.map((f) => f.Id as string);
    const laterRun = () =>
      publishFindings({
        client: client(region),
        accountId: ACCOUNT,
        region,
        findings: findingsFor(['vpc-a'], region, RUN_2),
        takenAt: RUN_2,
        liveResourceIds: new Set(['vpc-a', 'vpc-b']),
        clock: fakeClock(),
      });
    const second = await laterRun();
    expect(second).toEqual({ imported: 3, failed: [], resolved: 1, archived: 1, unreadable: [] });
    expect(hub.finding(ACCOUNT, region, a as string)).toMatchObject({
      UpdatedAt: RUN_2,
      CreatedAt: RUN_1,
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
    });
    expect(hub.finding(ACCOUNT, region, b as string)).toMatchObject({
      Compliance: { Status: 'PASSED' },
      RecordState: 'ACTIVE',
    });
    expect(hub.finding(ACCOUNT, region, c as string)?.RecordState).toBe('ARCHIVED');

    // A third identical run sends nothing new for the resolved and archived ones.
    const third = await laterRun();
    expect(third).toMatchObject({ imported: 1, resolved: 0, archived: 0 });
  });

  it('returns a finding Security Hub refuses, with its code and message, and imports the rest', async () => {
    const region = 'us-east-2';
    const [good, bad] = findingsFor(['vpc-good', 'vpc-bad'], region, RUN_1) as [Finding, Finding];
    const broken = { ...bad, Severity: { Label: 'SEVERE' } } as unknown as Finding;
    const result = await publishFindings({
      client: client(region),
      accountId: ACCOUNT,
      region,
      findings: [good, broken],
      previous: [],
      takenAt: RUN_1,
      clock: fakeClock(),
    });
    expect(result.imported).toBe(1);
    expect(result.failed).toEqual([
      { id: bad.Id, code: 'InvalidInput', message: expect.stringContaining('Severity.Label') },
    ]);
    expect(hub.findings(ACCOUNT, region).map((f) => f.Id)).toEqual([good.Id]);
  });

  it('reports every finding as failed when Security Hub is not enabled in the scope', async () => {
    const region = 'eu-west-1';
    hub.setEnabled(ACCOUNT, region, false);
    const result = await publishFindings({
      client: client(region),
      accountId: ACCOUNT,
      region,
      findings: findingsFor(['vpc-x', 'vpc-y'], region, RUN_1),
      previous: [],
      takenAt: RUN_1,
      clock: fakeClock(),
    });
    expect(result.imported).toBe(0);
    expect(result.failed.map((f) => f.code)).toEqual(['InvalidAccess', 'InvalidAccess']);
  });

  it('imports 250 findings in 3 calls spaced for 10 TPS, and reads them back over 3 pages', async () => {
    const region = 'us-west-2';
    const ids = Array.from({ length: 250 }, (_, i) => `vpc-${String(i).padStart(5, '0')}`);
    const since = sandbox.calls.lastSeq;
    const clock = fakeClock();
    const result = await publishFindings({
      client: client(region),
      accountId: ACCOUNT,
      region,
      findings: findingsFor(ids, region, RUN_1),
      takenAt: RUN_1,
      liveResourceIds: new Set(ids),
      clock,
    });
    expect(result).toMatchObject({ imported: 250, failed: [] });
    expect(importCalls(region, since)).toHaveLength(3);
    expect(hub.findings(ACCOUNT, region)).toHaveLength(250);
    // 3 calls at 10 per second: two waits of 100 ms between them.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(200);

    // All 250 come back through GetFindings' pages: every one is resolved when none is produced again.
    const sinceSecond = sandbox.calls.lastSeq;
    const second = await publishFindings({
      client: client(region),
      accountId: ACCOUNT,
      region,
      findings: [],
      takenAt: RUN_2,
      liveResourceIds: new Set(ids),
      clock: fakeClock(),
    });
    expect(second).toMatchObject({ imported: 250, resolved: 250, archived: 0, failed: [] });
    expect(
      sandbox.calls.query({ service: 'securityhub', action: 'GetFindings', region, sinceSeq: sinceSecond }),
    ).toHaveLength(3);
  });

  it('throws an AwsCallError when a whole call is refused', async () => {
    const region = 'us-west-1';
    const member = new SecurityHubClient({
      endpoint: sandbox.url,
      region,
      credentials: {
        accessKeyId: 'AKIDMEMBERPUB',
        secretAccessKey: sandbox.clientCredentials.secretAccessKey,
      },
      maxAttempts: 1,
    });
    // Findings for the default account sent with the member account's keys: AccessDenied for the whole call.
    const error = await publishFindings({
      client: member,
      accountId: ACCOUNT,
      region,
      findings: findingsFor(['vpc-z'], region, RUN_1),
      previous: [],
      takenAt: RUN_1,
      clock: fakeClock(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toBeInstanceOf(AccessError);
    expect(error).toMatchObject({
      service: 'securityhub',
      action: 'BatchImportFindings',
      code: 'AccessDeniedException',
    });
  });
});
