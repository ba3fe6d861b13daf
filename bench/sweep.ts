/**
 * bench:sweep — an organisation sweep of the `large` estate with EC2 throttling on: how many EC2 calls and
 * how much time it takes, next to the lower bounds the API allows.
 *
 * - The sweep: one execution of the enforcement loop per scope (account + Region), all started at once, as
 *   an organisation sweep fans out. Each assumes the scope's member role, so every scope has its own EC2
 *   buckets (per account, Region and action, as EC2 keeps them).
 * - An audit that changes nothing: the policy (bench/audit-sweep.policy.yaml) sets every gate `off`, so the
 *   plan has no ready action and each execution goes Inventory → Audit → PublishFindings → Plan → Report:
 *   it reads the scope exactly once (no second inventory; Report re-reads only after an applied change).
 * - Throttling: EC2's documented buckets (reads 100 burst / 20 per s, writes 50 / 5), refilled SPEED times
 *   faster than EC2 in real time to keep the run short; the handlers' client-side limiter is sized with the
 *   same factor (VECGUARD_EC2_RATE_SCALE), and the time bound uses the same rates. Bursts are not scaled.
 * - Lower bounds, from the estate (the sandbox's state), per scope:
 *   calls = every list the inventory needs at its largest page size (ceil(items / page), at least one call;
 *           pages: 1000, egress-only gateways 255, instance types 100; DescribeVpnGateways and
 *           DescribeAccountVpcEncryptionControl are single calls), instance types = the capable catalogue
 *           plus the in-use types it does not hold, and one GetVpcResourcesBlockingEncryptionEnforcement
 *           (per 1000 blockers) per VPC whose control is in monitor — the only VPCs whose verdict needs it;
 *   time  = max over (scope, action) of max(0, calls − burst) / refill: buckets refill in parallel per
 *           action and per scope, so the slowest bucket bounds the sweep.
 * - Measured: EC2 calls from the sandbox call log (every attempt, throttled ones included), wall time from
 *   the first execution's start to the last one's end, task attempts that failed with ThrottlingError or a
 *   RequestLimitExceeded cause in the executions' histories (throttled-to-sfn), and RequestLimitExceeded
 *   answers from the sandbox.
 *
 * Last line: `sweep: vpcs=N calls/bound=X.XX time/bound=Y.YY throttled-to-sfn=Z`.
 */
import { fileURLToPath } from 'node:url';
import { INSTANCE_TYPES, type RegionState } from '@vecguard/sandbox';
import { EC2_BUCKETS, isReadAction } from '../functions/adapters/rate-limit.ts';
import { startLocalLoop } from '../local/loop.ts';
import { recordResult } from './results.ts';

/** Real-time refill factor of EC2's buckets (sandbox and client alike). */
const SPEED = Number(process.env.BENCH_SWEEP_SPEED ?? 1);
const SCENARIO = process.env.BENCH_SWEEP_SCENARIO ?? 'large';
const POLICY = fileURLToPath(new URL('./audit-sweep.policy.yaml', import.meta.url));
const TIMEOUT_MS = 15 * 60_000;

const PAGE = 1000;
const EGRESS_ONLY_PAGE = 255;
const INSTANCE_TYPES_PAGE = 100;
const listCalls = (items: number, page = PAGE) => Math.max(1, Math.ceil(items / page));

interface Scope {
  readonly accountId: string;
  readonly region: string;
}
const scopeKey = (s: Scope) => `${s.accountId}/${s.region}`;

// ---- the estate and the sweep ----

const loop = await startLocalLoop({
  scenario: SCENARIO,
  policyFile: POLICY,
  // Sandbox time = real time: Step Functions retries and timeouts take as long as in AWS.
  speed: 1,
  throttle: true,
  throttleSpeed: SPEED,
});
const { sandbox } = loop;
const estate = loop.sandbox.scenario?.estate;
if (!estate) throw new Error(`scenario ${SCENARIO} has no estate`);
const scopes: Scope[] = estate.accounts.flatMap((a) =>
  a.regions.map((r) => ({ accountId: a.id, region: r.name })),
);

/** The fewest EC2 calls per action that an audit of the scope needs, from the sandbox's state. */
function lowerBound(state: RegionState): Record<string, number> {
  const peerings = [...sandbox.ec2.store.peerings.values()].filter((p) =>
    [p.requester, p.accepter].some((s) => s.ownerId === state.accountId && s.region === state.region),
  );
  const capable = [...INSTANCE_TYPES.values()].filter((t) => t.encryptionInTransitSupported);
  const capableNames = new Set(capable.map((t) => t.instanceType));
  const inUseElse = new Set(
    [...state.instances.values()].map((i) => i.instanceType).filter((t) => !capableNames.has(t)),
  );
  let blockerCalls = 0;
  for (const vpc of state.vpcs.values()) {
    if (vpc.control?.mode !== 'monitor') continue;
    blockerCalls += listCalls(sandbox.ec2.blockers(vpc.id, state.accountId, state.region).length);
  }
  return {
    DescribeVpcs: listCalls(state.vpcs.size),
    DescribeVpcEncryptionControls: listCalls(state.controls.size),
    DescribeAccountVpcEncryptionControl: 1,
    DescribeInstances: listCalls(state.instances.size),
    DescribeNetworkInterfaces: listCalls(state.networkInterfaces.size),
    DescribeTransitGateways: listCalls(state.transitGateways.size),
    DescribeTransitGatewayAttachments: listCalls(state.tgwAttachments.size),
    DescribeVpcPeeringConnections: listCalls(peerings.length),
    DescribeInternetGateways: listCalls(state.internetGateways.size),
    DescribeEgressOnlyInternetGateways: listCalls(state.egressOnlyInternetGateways.size, EGRESS_ONLY_PAGE),
    DescribeNatGateways: listCalls(state.natGateways.size),
    DescribeVpnGateways: 1,
    DescribeFlowLogs: listCalls(state.flowLogs.size),
    DescribeInstanceTypes:
      listCalls(capable.length, INSTANCE_TYPES_PAGE) +
      (inUseElse.size === 0 ? 0 : listCalls(inUseElse.size, INSTANCE_TYPES_PAGE)),
    ...(blockerCalls > 0 ? { GetVpcResourcesBlockingEncryptionEnforcement: blockerCalls } : {}),
  };
}

const bucketOf = (action: string) => (isReadAction(action) ? EC2_BUCKETS.read : EC2_BUCKETS.write);
/** Seconds the action's bucket needs to serve `calls` from full: max(0, calls − burst) / refill. */
const secondsFor = (action: string, calls: number) => {
  const b = bucketOf(action);
  return Math.max(0, calls - b.capacity) / (b.refillPerSecond * SPEED);
};

const bounds = new Map(
  scopes.map((s) => [scopeKey(s), lowerBound(sandbox.ec2.regionState(s.accountId, s.region))]),
);
const vpcsOf = new Map(
  scopes.map((s) => [scopeKey(s), sandbox.ec2.regionState(s.accountId, s.region).vpcs.size]),
);
const monitoredOf = new Map(
  scopes.map((s) => [
    scopeKey(s),
    [...sandbox.ec2.regionState(s.accountId, s.region).vpcs.values()].filter(
      (v) => v.control?.mode === 'monitor',
    ).length,
  ]),
);

sandbox.throttle.reset();
const sinceSeq = sandbox.calls.lastSeq;
// One scheduled event per scope, through on-event, as an organisation sweep fans out.
const runs = (await Promise.all(scopes.map((s) => loop.sweep(s)))).flat();
const results = await Promise.all(runs.map((r) => loop.wait(r.executionArn, TIMEOUT_MS)));
const executions = runs.map((r) => {
  const e = loop.sandbox.stepFunctions.runner.execution(r.executionArn);
  if (!e) throw new Error(`no execution ${r.executionArn}`);
  return e;
});

// ---- measure ----

const ec2Calls = sandbox.calls.query({ service: 'ec2', sinceSeq });
const measured = new Map<string, Record<string, number>>();
const throttledAt = new Map<string, number>();
for (const c of ec2Calls) {
  const key = `${c.accountId}/${c.region}`;
  const byAction = measured.get(key) ?? {};
  byAction[c.action] = (byAction[c.action] ?? 0) + 1;
  measured.set(key, byAction);
  if (c.errorCode === 'RequestLimitExceeded') throttledAt.set(key, (throttledAt.get(key) ?? 0) + 1);
}
const failedAttempts = executions.flatMap((e) =>
  e.history.filter((h) => h.type === 'LambdaFunctionFailed' || h.type === 'TaskFailed'),
);
const throttledToSfn = failedAttempts.filter(
  (h) => h.error === 'ThrottlingError' || (h.cause ?? '').includes('RequestLimitExceeded'),
).length;
const notSucceeded = results.filter((r) => r.status !== 'SUCCEEDED');
const startMs = Math.min(...executions.map((e) => e.startDate));
const stopMs = Math.max(...executions.map((e) => e.stopDate ?? Number.NaN));
const toSeconds = (ms: number) => ms / 1000 / sandbox.clock.speed;
const wallSeconds = toSeconds(stopMs - startMs);
const firstCallAt = Math.min(...ec2Calls.map((c) => c.at));
const lastCallAt = Math.max(...ec2Calls.map((c) => c.at));

/** Seconds a state took in one execution (entered → exited, first entry). */
function stateSeconds(history: (typeof executions)[number]['history'], state: string): number {
  const entered = history.find((h) => h.stateName === state && h.type.endsWith('StateEntered'));
  const exited = history.find((h) => h.stateName === state && h.type.endsWith('StateExited'));
  return entered && exited ? toSeconds(exited.timestamp - entered.timestamp) : Number.NaN;
}

// ---- print ----

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const f1 = (n: number) => n.toFixed(1);
const pad = (s: string | number, n: number) => String(s).padStart(n);

const totalVpcs = sum(vpcsOf.values());
const totalBound = sum([...bounds.values()].map((b) => sum(Object.values(b))));
const totalCalls = ec2Calls.length;
let timeBound = 0;
let binding = '';
for (const [key, b] of bounds) {
  for (const [action, calls] of Object.entries(b)) {
    const t = secondsFor(action, calls);
    if (t > timeBound) {
      timeBound = t;
      binding = `${action} in ${key}: ${calls} calls, burst ${bucketOf(action).capacity}, ${bucketOf(action).refillPerSecond * SPEED}/s`;
    }
  }
}
const throttledTotal = sum(throttledAt.values());

const lines: string[] = [];
lines.push(
  `scenario ${SCENARIO}: ${scopes.length} scopes (accounts × Regions), ${totalVpcs} VPCs; audit sweep (every gate off), all scopes at once`,
  `EC2 buckets per account/Region/action: reads ${EC2_BUCKETS.read.capacity} burst / ${EC2_BUCKETS.read.refillPerSecond * SPEED} per s, writes ${EC2_BUCKETS.write.capacity} / ${EC2_BUCKETS.write.refillPerSecond * SPEED} per s (EC2's rates × ${SPEED}, sandbox and client limiter alike)`,
  'bound: calls = each list at its largest page + one GetVpcResourcesBlockingEncryptionEnforcement per VPC in monitor;',
  '       time = max over (scope, action) of max(0, calls − burst) / refill',
  '',
  `${'scope'.padEnd(24)}${pad('VPCs', 6)}${pad('monitor', 8)}${pad('calls', 7)}${pad('bound', 7)}${pad('RLE', 5)}${pad('paced s', 9)}${pad('inventory s', 12)}${pad('execution s', 12)}${pad('bound s', 9)}`,
);
for (const [i, s] of scopes.entries()) {
  const key = scopeKey(s);
  const b = bounds.get(key) ?? {};
  const e = executions[i];
  const execSeconds = e ? toSeconds((e.stopDate ?? Number.NaN) - e.startDate) : Number.NaN;
  const [slowest = '', tb = 0] = Object.entries(b)
    .map(([a, n]) => [a, secondsFor(a, n)] as const)
    .reduce<readonly [string, number]>((m, x) => (x[1] > m[1] ? x : m), ['', 0]);
  // From the scope's first to its last call of the action that binds its bound: the paced part.
  const paced = ec2Calls.filter((c) => `${c.accountId}/${c.region}` === key && c.action === slowest);
  const pacedSeconds = paced.length > 1 ? toSeconds((paced.at(-1)?.at ?? 0) - (paced[0]?.at ?? 0)) : 0;
  lines.push(
    `${key.padEnd(24)}${pad(vpcsOf.get(key) ?? 0, 6)}${pad(monitoredOf.get(key) ?? 0, 8)}${pad(sum(Object.values(measured.get(key) ?? {})), 7)}${pad(sum(Object.values(b)), 7)}${pad(throttledAt.get(key) ?? 0, 5)}${pad(f1(pacedSeconds), 9)}${pad(f1(e ? stateSeconds(e.history, 'Inventory') : Number.NaN), 12)}${pad(f1(execSeconds), 12)}${pad(f1(tb), 9)}`,
  );
}
lines.push('', `${'action (all scopes)'.padEnd(46)}${pad('calls', 7)}${pad('bound', 7)}${pad('RLE', 5)}`);
const actions = new Set([
  ...[...bounds.values()].flatMap((b) => Object.keys(b)),
  ...ec2Calls.map((c) => c.action),
]);
for (const action of [...actions].sort()) {
  const calls = ec2Calls.filter((c) => c.action === action);
  lines.push(
    `${action.padEnd(46)}${pad(calls.length, 7)}${pad(sum([...bounds.values()].map((b) => b[action] ?? 0)), 7)}${pad(calls.filter((c) => c.errorCode === 'RequestLimitExceeded').length, 5)}`,
  );
}
const phases = ['Inventory', 'Audit', 'PublishFindings', 'Plan', 'Report'].map(
  (state) => `${state} ${f1(Math.max(...executions.map((e) => stateSeconds(e.history, state))))}`,
);
lines.push(
  '',
  `slowest state per execution (s): ${phases.join(', ')}`,
  `binding bucket: ${binding || 'none (every bucket within its burst)'}`,
  `EC2 calls per VPC: ${(totalCalls / totalVpcs).toFixed(3)} (bound ${(totalBound / totalVpcs).toFixed(3)}); calls ${totalCalls}, bound ${totalBound}`,
  `wall time: ${f1(wallSeconds)} s (bound ${f1(timeBound)} s); before the first EC2 call ${f1(toSeconds(firstCallAt - startMs))} s, after the last ${f1(toSeconds(stopMs - lastCallAt))} s (Audit … Report)`,
  `RequestLimitExceeded from the sandbox: ${throttledTotal}; task attempts failed by throttling (to Step Functions): ${throttledToSfn}`,
  `executions: ${results.length - notSucceeded.length}/${results.length} SUCCEEDED${notSucceeded.length ? ` (${notSucceeded.map((r) => `${r.status} ${r.error ?? ''}`).join('; ')})` : ''}`,
);
const last = `sweep: vpcs=${totalVpcs} calls/bound=${(totalCalls / totalBound).toFixed(2)} time/bound=${(wallSeconds / timeBound).toFixed(2)} throttled-to-sfn=${throttledToSfn}`;
for (const line of lines) console.log(line);
await loop.stop();
if (notSucceeded.length > 0) {
  console.log(last);
  process.exitCode = 1;
} else {
  await recordResult('bench:sweep', [...lines, last]);
  console.log(last);
}
