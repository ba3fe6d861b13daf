/**
 * The on-event handler against the sandbox's Step Functions with the real SFNClient: one execution per scope
 * with the loop's input, a re-delivered event starts nothing new, invalid events are refused with an
 * InvalidInputError (so that Lambda dead-letters them), ignored events start nothing. A tiny fake
 * implementing only `send(StartExecutionCommand)` covers the one case the sandbox cannot produce on demand:
 * Step Functions failing for one scope of several.
 */
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  type StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type Sandbox, type ScenarioOrganizationInput, startSandbox } from '@vecguard/sandbox';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OrganizationsReadClient } from '../../functions/adapters/organizations.ts';
import { ScopeLeaseStore } from '../../functions/adapters/store/scope-leases.ts';
import { createTable, stateTableClient } from '../../functions/adapters/store/table.ts';
import { validatePolicy } from '../../functions/domain/policy.ts';
import { executionName } from '../../functions/domain/triggers.ts';
import {
  batchHandler,
  handler,
  loadOnEventConfig,
  type OnEventConfig,
  type OnEventDeps,
  onEvent,
  type RunStarted,
  resetOnEventConfig,
} from '../../functions/handlers/on-event.ts';
import { resetConfig } from '../../functions/shared/config.ts';
import { AccessError, AwsCallError, InvalidInputError, PolicyError } from '../../functions/shared/errors.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/events', `${name}.json`), 'utf8'));

const V1 = 'vpc-0a1b2c3d4e5f60718';
const V2 = 'vpc-0fedcba9876543210';
/** Holds each execution RUNNING (the sandbox clock does not move), like a loop waiting for an approval. */
const HOLD_MACHINE = JSON.stringify({
  StartAt: 'Hold',
  States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } },
});
const PASS_MACHINE = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } });

const ROOT = 'r-vg01';
const WORKLOADS = 'ou-vg01-workload';
const PROD = 'ou-vg01-prod0001';
const SANDBOX_OU = 'ou-vg01-sandbox1';
/** root ─ 111 (the hub: management account) · workloads ─ prod ─ 222 · sandbox ─ 333, 444 (suspended) */
const ORGANIZATION: ScenarioOrganizationInput = {
  managementAccount: '111111111111',
  rootId: ROOT,
  organizationalUnits: [
    {
      name: 'workloads',
      id: WORKLOADS,
      organizationalUnits: [
        { name: 'prod', id: PROD, accounts: ['222222222222'] },
        {
          name: 'sandbox',
          id: SANDBOX_OU,
          accounts: ['333333333333', { id: '444444444444', state: 'SUSPENDED' }],
        },
      ],
    },
  ],
};

/** Organizations must not be called: a policy without OU targets needs nothing from it. */
const NO_ORGANIZATIONS = {
  send: () => Promise.reject(new Error('Organizations was called for a policy without OU targets')),
} as unknown as OrganizationsReadClient;

const policy = validatePolicy({
  version: 1,
  approval: { timeoutMinutes: 120 },
  targets: [
    { name: 'prod', accounts: ['222222222222'], regions: ['eu-west-1', 'us-east-1'], mode: 'enforce' },
  ],
});

describe('onEvent', () => {
  let sandbox: Sandbox;
  let sfn: SFNClient;
  let holdArn: string;
  let passArn: string;
  let ddb: DynamoDBClient;
  let leases: ScopeLeaseStore;
  let tables = 0;

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock: { speed: 0 },
      organizations: { organization: ORGANIZATION },
    });
    sfn = new SFNClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
    const create = async (name: string, definition: string) =>
      (
        await sfn.send(
          new CreateStateMachineCommand({ name, definition, roleArn: 'arn:aws:iam::000000000000:role/loop' }),
        )
      ).stateMachineArn ?? '';
    holdArn = await create('vecguard-loop-hold', HOLD_MACHINE);
    passArn = await create('vecguard-loop-pass', PASS_MACHINE);
    ddb = new DynamoDBClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: sandbox.clientCredentials,
    });
  });
  // Each case starts with no scope held: a state table of its own.
  beforeEach(async () => {
    tables += 1;
    const tableName = `vecguard-state-${tables}`;
    await createTable(ddb, tableName);
    leases = new ScopeLeaseStore({ client: stateTableClient(ddb), tableName });
  });
  afterAll(async () => {
    ddb?.destroy();
    sfn?.destroy();
    await sandbox?.stop();
  });

  const organizationsAs = (accountId: string) => {
    const key = `AKIDORG${accountId}`;
    sandbox.registerCredentials(key, accountId);
    return new OrganizationsClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key, secretAccessKey: 'sandbox' },
      maxAttempts: 1,
    });
  };

  const deps = (over: Partial<OnEventConfig> = {}, org?: OrganizationsReadClient): OnEventDeps => ({
    sfn,
    executionStatus: sfn,
    organizations: org ?? organizationsAs('111111111111'),
    leases,
    config: { stateMachineArn: holdArn, memberRoleName: 'vecguard-member', policy, ...over },
    clock: () => new Date('2026-11-24T01:31:00Z'),
  });

  const executions = async (stateMachineArn: string) =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];

  const inputOf = async (executionArn: string) =>
    JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn }))).input ?? '');

  it('a CloudTrail CreateVpc starts one execution for its VPC, with the input docs/loop.md defines', async () => {
    const result = await onEvent(fixture('cloudtrail-create-vpc'), deps());
    expect(result.outcome).toBe('started');
    if (result.outcome !== 'started') return;
    expect(result.runs).toHaveLength(1);
    const [run] = result.runs;
    expect(run).toMatchObject({
      accountId: '111111111111',
      region: 'us-east-1',
      vpcIds: [V1],
      status: 'started',
    });
    expect(run?.executionName).toMatch(/^ct-111111111111-us-east-1-20261124T013000Z-[0-9a-f]{16}$/);
    expect(await inputOf(run?.executionArn ?? '')).toEqual({
      runId: run?.runId,
      accountId: '111111111111',
      region: 'us-east-1',
      roleArn: 'arn:aws:iam::111111111111:role/vecguard-member',
      vpcIds: [V1],
      organizationalUnitIds: [],
      sweepId: null,
      maxIterations: 6,
      pollSeconds: 30,
      maxPolls: 40,
      approvalTimeoutSeconds: 7200,
    });
  });

  it('a CloudTrail call forwarded from a member account starts a run for that account, with its member role', async () => {
    // EventBridge keeps the source account in the envelope of an event a member's rule forwards to the hub's
    // bus (infra/constructs/event-forwarder.ts): the event the hub receives is the member's own.
    const member = '222222222222';
    const forwarded = JSON.parse(
      JSON.stringify(fixture('cloudtrail-create-vpc')).replaceAll('111111111111', member),
    ) as Record<string, unknown>;
    expect(forwarded.account).toBe(member);
    const result = await onEvent(forwarded, deps());
    if (result.outcome !== 'started') throw new Error(`expected a run, got ${JSON.stringify(result)}`);
    expect(result.runs.map((r) => [r.accountId, r.region, r.vpcIds, r.status])).toEqual([
      [member, 'us-east-1', [V1], 'started'],
    ]);
    expect(result.runs[0]?.executionName).toMatch(/^ct-222222222222-us-east-1-/);
    expect(await inputOf(result.runs[0]?.executionArn ?? '')).toMatchObject({
      accountId: member,
      region: 'us-east-1',
      roleArn: `arn:aws:iam::${member}:role/vecguard-member`,
      vpcIds: [V1],
    });
  });

  it('a re-delivery while the first run is still going starts nothing new (it joins the running one)', async () => {
    const event = fixture('cloudtrail-attach-internet-gateway');
    const first = await onEvent(event, deps());
    const again = await onEvent(event, deps());
    expect(first.outcome === 'started' && again.outcome === 'started').toBe(true);
    if (first.outcome !== 'started' || again.outcome !== 'started') return;
    expect(again.runs[0]?.executionArn).toBe(first.runs[0]?.executionArn);
    const named = (await executions(holdArn)).filter((e) => e.name === first.runs[0]?.executionName);
    expect(named).toHaveLength(1);
  });

  it('a re-delivery after the first run ended is reported as a duplicate, not an error, and starts nothing', async () => {
    const event = fixture('cloudtrail-run-instances');
    const first = await onEvent(event, deps({ stateMachineArn: passArn }));
    if (first.outcome !== 'started') throw new Error('expected a run');
    // The loop's Report releases the scope when the run ends (this machine has none).
    await leases.release(first.runs[0] as RunStarted, first.runs[0]?.runId ?? '');
    for (let i = 0; i < 200; i++) {
      const { status } = await sfn.send(
        new DescribeExecutionCommand({ executionArn: first.runs[0]?.executionArn }),
      );
      if (status !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = await onEvent(event, deps({ stateMachineArn: passArn }));
    expect(again).toEqual({
      outcome: 'started',
      runs: [{ ...first.runs[0], status: 'duplicate' }],
    });
    expect((await executions(passArn)).filter((e) => e.name === first.runs[0]?.executionName)).toHaveLength(
      1,
    );
  });

  it('a second event for a scope that is running starts nothing: its VPCs wait in the lease for a follow-up', async () => {
    const a = fixture('cloudtrail-create-flow-logs');
    const b = {
      ...a,
      id: 'another-eventbridge-id',
      detail: { ...(a.detail as object), eventID: 'another-ct-id' },
    };
    const [ra, rb] = [await onEvent(a, deps()), await onEvent(b, deps())];
    if (ra.outcome !== 'started' || rb.outcome !== 'started') throw new Error('expected runs');
    expect(rb.runs[0]).toMatchObject({ status: 'coalesced', executionArn: ra.runs[0]?.executionArn });
    const lease = await leases.get({ accountId: '111111111111', region: 'us-east-1' });
    expect(lease?.pending.vpcIds).toEqual(ra.runs[0]?.vpcIds);
    const started = (await executions(holdArn)).filter((e) => e.name === ra.runs[0]?.executionName);
    expect(started).toHaveLength(1);
  });

  it('a scope held by a run that ended without releasing it is taken over by a later event, with what it left pending', async () => {
    const a = fixture('cloudtrail-create-flow-logs');
    const first = await onEvent(a, deps({ stateMachineArn: passArn }));
    if (first.outcome !== 'started') throw new Error('expected a run');
    // This machine ends without Report: its lease stays, like a run aborted by hand.
    for (let i = 0; i < 200; i++) {
      const { status } = await sfn.send(
        new DescribeExecutionCommand({ executionArn: first.runs[0]?.executionArn }),
      );
      if (status !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const meanwhile = {
      ...a,
      id: 'meanwhile',
      detail: {
        ...(a.detail as object),
        eventID: 'meanwhile',
        requestParameters: { resourceIds: [V2], resourceType: 'VPC' },
      },
    };
    // Within the start grace a lease is never taken: its run may be starting.
    expect(await onEvent(meanwhile, deps({ stateMachineArn: passArn }))).toMatchObject({
      runs: [{ status: 'coalesced' }],
    });
    const later = { ...a, id: 'later', detail: { ...(a.detail as object), eventID: 'later' } };
    const taken = await onEvent(later, {
      ...deps({ stateMachineArn: passArn }),
      clock: () => new Date('2026-11-24T02:00:00Z'),
    });
    expect(taken).toMatchObject({ outcome: 'started', runs: [{ status: 'started' }] });
    if (taken.outcome !== 'started') return;
    expect(taken.runs[0]?.vpcIds).toEqual(expect.arrayContaining([V2]));
    expect((await leases.get({ accountId: '111111111111', region: 'us-east-1' }))?.runId).toBe(
      taken.runs[0]?.runId,
    );
  });

  it('a Security Hub custom action starts one execution per scope of its findings', async () => {
    const result = await onEvent(fixture('securityhub-custom-action'), deps());
    if (result.outcome !== 'started') throw new Error('expected runs');
    expect(result.runs.map((r) => [r.accountId, r.region, r.vpcIds, r.status])).toEqual([
      ['111111111111', 'us-east-1', [V1, V2], 'started'],
      ['222222222222', 'eu-west-1', null, 'started'],
    ]);
    expect(await inputOf(result.runs[1]?.executionArn ?? '')).toMatchObject({
      accountId: '222222222222',
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::222222222222:role/vecguard-member',
      vpcIds: null,
    });
  });

  it('the schedule sweeps every scope the policy names, each its own execution', async () => {
    const result = await onEvent(fixture('scheduled-sweep'), deps({ memberRoleName: undefined }));
    if (result.outcome !== 'started') throw new Error('expected runs');
    expect(result.runs.map((r) => `${r.accountId}/${r.region}`)).toEqual([
      '111111111111/us-east-1',
      '222222222222/eu-west-1',
      '222222222222/us-east-1',
    ]);
    expect(new Set(result.runs.map((r) => r.executionArn)).size).toBe(3);
    expect(await inputOf(result.runs[0]?.executionArn ?? '')).toMatchObject({ roleArn: null, vpcIds: null });
    // One sweep, one change budget: every scope's run names the same sweep (limits.maxChangesPerSweep).
    const sweepIds = await Promise.all(
      result.runs.map(async (r) => ((await inputOf(r.executionArn)) as { sweepId: unknown }).sweepId),
    );
    expect(new Set(sweepIds).size).toBe(1);
    expect(sweepIds[0]).toMatch(/^sweep-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  });

  describe('a policy that targets organizational units', () => {
    const ouPolicy = validatePolicy({
      version: 1,
      targets: [
        { name: 'sandbox', organizationalUnits: [SANDBOX_OU], mode: 'monitor' },
        { name: 'workloads', organizationalUnits: [WORKLOADS], regions: ['eu-west-1'], mode: 'enforce' },
      ],
    });
    const organizationsCalls = (since: number) =>
      sandbox.calls.query({ service: 'organizations', sinceSeq: since }).map((c) => c.action);

    it('the schedule sweeps every active account below the OUs, each run told where its account sits', async () => {
      const since = sandbox.calls.lastSeq;
      const result = await onEvent(fixture('scheduled-sweep'), deps({ policy: ouPolicy }));
      if (result.outcome !== 'started') throw new Error('expected runs');
      // 222 and 333 are named by no account list: only their OUs bring them in. 444 is suspended.
      expect(result.runs.map((r) => [`${r.accountId}/${r.region}`, r.organizationalUnitIds])).toEqual([
        ['111111111111/us-east-1', [ROOT]],
        ['222222222222/eu-west-1', [PROD, WORKLOADS, ROOT]],
        ['333333333333/eu-west-1', [SANDBOX_OU, WORKLOADS, ROOT]],
        ['333333333333/us-east-1', [SANDBOX_OU, WORKLOADS, ROOT]],
      ]);
      expect(await inputOf(result.runs[3]?.executionArn ?? '')).toMatchObject({
        accountId: '333333333333',
        roleArn: 'arn:aws:iam::333333333333:role/vecguard-member',
        organizationalUnitIds: [SANDBOX_OU, WORKLOADS, ROOT],
      });
      // The organisation was read once, as a tree.
      expect(organizationsCalls(since).filter((a) => a === 'ListRoots')).toHaveLength(1);
    });

    it('an event climbs its own account’s chain, without reading the whole organisation', async () => {
      const member = '222222222222';
      const forwarded = JSON.parse(
        JSON.stringify(fixture('cloudtrail-attach-internet-gateway')).replaceAll('111111111111', member),
      ) as Record<string, unknown>;
      const since = sandbox.calls.lastSeq;
      const result = await onEvent(forwarded, deps({ policy: ouPolicy }));
      if (result.outcome !== 'started') throw new Error('expected a run');
      expect(await inputOf(result.runs[0]?.executionArn ?? '')).toMatchObject({
        accountId: member,
        organizationalUnitIds: [PROD, WORKLOADS, ROOT],
      });
      expect(organizationsCalls(since)).toEqual(['ListParents', 'ListParents', 'ListParents']);
    });

    it('a refused read fails the invocation with one line, before any run starts', async () => {
      const before = (await executions(holdArn)).length;
      // The hub deployed in a member account: Organizations answers AccessDeniedException.
      const error = await onEvent(
        fixture('scheduled-sweep'),
        deps({ policy: ouPolicy }, organizationsAs('333333333333')),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessError);
      const message = (error as Error).message;
      expect(message).not.toMatch(/\n/);
      expect(message).toMatch(
        /^organizations ListRoots failed: AccessDeniedException: the policy targets organizational units \(ou-vg01-sandbox1, ou-vg01-workload\), so vecguard reads AWS Organizations, and the hub account may not read it: run it in the organization's management account or a delegated administrator account, .*or target accounts instead of OUs\. Organizations said: /,
      );
      expect((await executions(holdArn)).length).toBe(before);
    });

    it('an event whose account’s OUs cannot be read fails the same way, starting nothing', async () => {
      const before = (await executions(holdArn)).length;
      const error = await onEvent(
        fixture('cloudtrail-create-flow-logs'),
        deps({ policy: ouPolicy }, organizationsAs('333333333333')),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessError);
      expect((error as Error).message).toMatch(
        /^organizations ListParents failed: AccessDeniedException: the policy targets organizational units/,
      );
      expect((await executions(holdArn)).length).toBe(before);
    });

    it('a policy without OU targets never calls Organizations', async () => {
      const since = sandbox.calls.lastSeq;
      const result = await onEvent(fixture('scheduled-sweep'), deps({}, NO_ORGANIZATIONS));
      expect(result.outcome).toBe('started');
      if (result.outcome === 'started') {
        expect(result.runs.every((r) => r.organizationalUnitIds.length === 0)).toBe(true);
      }
      expect(organizationsCalls(since)).toEqual([]);
    });
  });

  it('an invalid event is refused with an InvalidInputError, one line, and starts nothing', async () => {
    const before = (await executions(holdArn)).length;
    const error = await onEvent(fixture('invalid-missing-detail'), deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'EventBridge event: detail is missing (expected record); the event is kept in the dead-letter queue: fix its producer or the EventBridge rule, then redrive it',
    );
    expect((await executions(holdArn)).length).toBe(before);
  });

  it('an ignored event starts nothing and says why', async () => {
    const before = (await executions(holdArn)).length;
    expect(await onEvent(fixture('cloudtrail-create-vpc-unauthorized'), deps())).toEqual({
      outcome: 'ignored',
      reason: 'CreateVpc failed with Client.UnauthorizedOperation: nothing changed',
    });
    expect((await executions(holdArn)).length).toBe(before);
  });

  it('a missing state machine fails the invocation with an AwsCallError, so that Lambda retries', async () => {
    const missing = holdArn.replace(/vecguard-loop-hold$/, 'gone');
    await expect(
      onEvent(fixture('cloudtrail-delete-vpc'), deps({ stateMachineArn: missing })),
    ).rejects.toMatchObject({
      name: 'AwsCallError',
      code: 'StateMachineDoesNotExist',
    });
  });
});

describe('onEvent when Step Functions fails for one scope of several (fake client)', () => {
  it('still starts the other scopes, then throws so that the retry finishes the job', async () => {
    const sandbox = await startSandbox({ clock: { speed: 0 } });
    const ddb = new DynamoDBClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: sandbox.clientCredentials,
    });
    await createTable(ddb, 'vecguard-state');
    const leases = new ScopeLeaseStore({ client: stateTableClient(ddb), tableName: 'vecguard-state' });
    const names: string[] = [];
    let failing = true;
    const sfn = {
      async send(command: StartExecutionCommand) {
        const name = command.input.name ?? '';
        names.push(name);
        if (failing && name.includes('-eu-west-1-')) {
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        }
        return {
          executionArn: `arn:aws:states:us-east-1:000000000000:execution:loop:${name}`,
          startDate: new Date(),
        };
      },
    };
    const event = fixture('securityhub-custom-action');
    const error = await onEvent(event, {
      sfn,
      executionStatus: { send: async () => ({ status: 'RUNNING' as const }) },
      organizations: NO_ORGANIZATIONS,
      leases,
      config: { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:loop', policy },
      clock: () => new Date('2026-11-24T01:46:00Z'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ code: 'ThrottlingException', retryable: true });
    expect(names).toHaveLength(2);
    expect(names).toContain(
      executionName({
        accountId: '111111111111',
        region: 'us-east-1',
        vpcIds: [V1, V2],
        reason: 'x',
        source: 'securityhub-action',
        eventId: 'e350a722-6cf8-4419-85ba-1567a0027a20',
        time: '2026-11-24T01:45:00Z',
      }),
    );
    // The scope that failed gave its lease up: the retry starts it (the other joins its own running run).
    failing = false;
    const retry = await onEvent(event, {
      sfn,
      executionStatus: { send: async () => ({ status: 'RUNNING' as const }) },
      organizations: NO_ORGANIZATIONS,
      leases,
      config: { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:loop', policy },
      clock: () => new Date('2026-11-24T01:47:00Z'),
    });
    if (retry.outcome !== 'started') throw new Error('expected runs');
    expect(retry.runs.map((r) => `${r.region}:${r.status}`).sort()).toEqual([
      'eu-west-1:started',
      'us-east-1:coalesced',
    ]);
    ddb.destroy();
    await sandbox.stop();
  });
});

/** The events as the queue's event source mapping delivers them: messages `m0`, `m1`, … */
function sqsBatch(...events: unknown[]): SQSEvent {
  return {
    Records: events.map((event, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body: JSON.stringify(event),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1795483869111',
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: '1795483869111',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:vecguard-events',
      awsRegion: 'us-east-1',
    })),
  };
}

describe('handler (the middy chain Lambda runs)', () => {
  const context = {
    functionName: 'vecguard-on-event',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:vecguard-on-event',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/vecguard-on-event',
    logStreamName: '2026/11/24/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;

  afterEach(() => {
    vi.unstubAllEnvs();
    resetConfig();
    resetOnEventConfig();
  });

  function stubEnv(
    extra: Record<string, string> = {},
    policyText = 'version: 1\napproval:\n  timeoutMinutes: 30\n',
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-on-event-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText);
    vi.stubEnv('VECGUARD_TABLE_NAME', 'vecguard-state');
    vi.stubEnv('VECGUARD_TOPIC_ARN', 'arn:aws:sns:us-east-1:111111111111:vecguard');
    vi.stubEnv('VECGUARD_POLICY_FILE', policyFile);
    vi.stubEnv(
      'VECGUARD_STATE_MACHINE_ARN',
      'arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop',
    );
    for (const [k, v] of Object.entries(extra)) vi.stubEnv(k, v);
  }

  it('answers an invalid event as a batch item failure (to the dead-letter queue after its receives), with an InvalidInputError', async () => {
    stubEnv();
    const batch = sqsBatch(fixture('invalid-account'), fixture('config-s3-bucket'));
    await expect(handler(batch, context)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const { outcomes } = await batchHandler(batch, context);
    expect(outcomes[0]).toMatchObject({ outcome: 'failed', error: expect.any(InvalidInputError) });
  });

  it('answers an ignored event without calling AWS: the message is done', async () => {
    stubEnv();
    const batch = sqsBatch(fixture('config-s3-bucket'));
    await expect(handler(batch, context)).resolves.toEqual({ batchItemFailures: [] });
    expect((await batchHandler(batch, context)).outcomes).toEqual([
      { outcome: 'ignored', reason: expect.stringMatching(/not a resource type/) },
    ]);
  });

  it('refuses an invocation that is not an SQS batch, naming what it expects', async () => {
    stubEnv();
    await expect(handler(fixture('config-s3-bucket') as never, context)).rejects.toThrow(
      /expected an SQS batch \(Records\)/,
    );
  });

  it('fails a sweep whose OU targets the hub cannot read, so that the event lands in the dead-letter queue', async () => {
    // The hub (the sandbox's default account) is a member of an organisation it does not manage.
    const sandbox = await startSandbox({
      clock: { speed: 0 },
      organizations: { organization: { managementAccount: '999999999999', accounts: ['111111111111'] } },
    });
    try {
      stubEnv(
        sandbox.env,
        `version: 1\ntargets:\n  - { name: prod, organizationalUnits: [${PROD}], mode: enforce }\n`,
      );
      const batch = sqsBatch(fixture('scheduled-sweep'));
      await expect(handler(batch, context)).resolves.toEqual({
        batchItemFailures: [{ itemIdentifier: 'm0' }],
      });
      const [outcome] = (await batchHandler(batch, context)).outcomes;
      const error = outcome?.outcome === 'failed' ? outcome.error : undefined;
      expect(error).toBeInstanceOf(AccessError);
      expect((error as Error).message).toMatch(
        /^organizations ListRoots failed: AccessDeniedException: the policy targets organizational units \(ou-vg01-prod0001\), .* or target accounts instead of OUs\. Organizations said: You don't have permissions/,
      );
      expect(sandbox.calls.query({ service: 'states' })).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('loadOnEventConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetConfig();
  });

  const env = (over: Record<string, string | undefined> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'vecguard-on-event-'));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ version: 1, approval: { timeoutMinutes: 15 } }));
    const all: Record<string, string | undefined> = {
      VECGUARD_TABLE_NAME: 'vecguard-state',
      VECGUARD_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vecguard',
      VECGUARD_POLICY_FILE: policyFile,
      VECGUARD_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop',
      ...over,
    };
    for (const [k, v] of Object.entries(all)) vi.stubEnv(k, v);
    return all;
  };

  it('reads the state machine, the member role and the policy', () => {
    const e = env({ VECGUARD_MEMBER_ROLE_NAME: 'vecguard-member' });
    const loaded = loadOnEventConfig(e);
    expect(loaded.stateMachineArn).toBe('arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop');
    expect(loaded.memberRoleName).toBe('vecguard-member');
    expect(loaded.policy.approval.timeoutMinutes).toBe(15);
  });

  it('says which variable to set when the state machine is missing', () => {
    const e = env({ VECGUARD_STATE_MACHINE_ARN: undefined });
    expect(() => loadOnEventConfig(e)).toThrow(/VECGUARD_STATE_MACHINE_ARN is not set/);
  });

  it('refuses a member role name that is not an IAM role name', () => {
    const e = env({ VECGUARD_MEMBER_ROLE_NAME: 'arn:aws:iam::1:role/x' });
    expect(() => loadOnEventConfig(e)).toThrow(/VECGUARD_MEMBER_ROLE_NAME is not an IAM role name/);
  });

  it('treats an empty member role name as unset', () => {
    expect(loadOnEventConfig(env({ VECGUARD_MEMBER_ROLE_NAME: '' })).memberRoleName).toBeUndefined();
  });

  it('refuses a policy over the size limit or an alias bomb as bad input (PolicyError), never parsing it whole', () => {
    const e = env();
    const file = e.VECGUARD_POLICY_FILE as string;
    writeFileSync(file, '');
    truncateSync(file, 2 * 1024 * 1024);
    expect(() => loadOnEventConfig(e)).toThrow(PolicyError);
    expect(() => loadOnEventConfig(e)).toThrow(/the file is 2 MiB; a policy may be at most 1 MiB/);
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    writeFileSync(file, levels.join('\n'));
    expect(() => loadOnEventConfig(e)).toThrow(/YAML aliases \(\*name\) expand past vecguard's limit/);
  });
});
