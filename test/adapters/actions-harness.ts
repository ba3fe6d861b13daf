/**
 * Set-up for the action tests: a sandbox on a manual clock loaded with one estate, gateways (live or dry-run)
 * with the real EC2 client, an `ActionContext` whose sleep moves the sandbox clock, planned actions, and the
 * call log read back as "which EC2 actions did the unit call".
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  type CallRecord,
  type Ec2Durations,
  type Sandbox,
  type ScenarioInput,
  startSandbox,
} from '@vecguard/sandbox';
import type { ActionContext } from '../../functions/adapters/actions/types.ts';
import { Ec2Gateway } from '../../functions/adapters/ec2-gateway.ts';
import { ACTION_RISKS, type ActionKind } from '../../functions/domain/action-kinds.ts';
import {
  type ActionParams,
  type PlannedAction,
  PlannedActionSchema,
} from '../../functions/domain/remediation-plan.ts';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const MINUTE = 60_000;

/** Durations the tests advance the clock by (explicit, so a changed emulator default does not move them). */
export const DURATIONS: Partial<Ec2Durations> = {
  controlCreateMs: 30_000,
  monitorMs: 5 * MINUTE,
  enforceMs: 10 * MINUTE,
  exclusionMs: 2 * MINUTE,
  controlDeleteMs: MINUTE,
  instanceStopMs: 30_000,
  instancePendingMs: 15_000,
  tgwEncryptionMs: 60 * MINUTE,
};

export interface ActionsHarness {
  readonly sandbox: Sandbox;
  /** A plain SDK client, for reading state back independently of the code under test. */
  readonly sdk: EC2Client;
  /** Scenario id of `<vpc>`, `<vpc>/<resource>` or `tgw/<name>`. */
  id(name: string): string;
  context(options?: { dryRun?: boolean; client?: EC2Client; poll?: ActionContext['poll'] }): ActionContext;
  /** A fresh client on the sandbox (to add test-only middleware). */
  client(): EC2Client;
  advance(ms: number): void;
  /** Every EC2 call answered after `seq`. */
  callsSince(seq: number): CallRecord[];
  stop(): Promise<void>;
}

export async function startActionsHarness(scenario: ScenarioInput): Promise<ActionsHarness> {
  const sandbox = await startSandbox({
    clock: { speed: 0, startAt: Date.parse('2026-11-24T00:00:00Z') },
    ec2: { scenario, durations: DURATIONS },
  });
  const client = () =>
    new EC2Client({
      endpoint: sandbox.url,
      region: REGION,
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
  return {
    sandbox,
    sdk: client(),
    client,
    id(name) {
      const found = sandbox.ec2.scenarioIds[`${ACCOUNT}/${REGION}/${name}`];
      if (found === undefined) throw new Error(`no scenario id for ${name}`);
      return found;
    },
    context(options = {}) {
      return {
        ec2: new Ec2Gateway({
          client: options.client ?? client(),
          limiter: null,
          dryRun: options.dryRun ?? false,
        }),
        now: () => new Date(sandbox.clock.now()),
        sleep: async (ms) => {
          sandbox.clock.advance(ms);
        },
        poll: options.poll ?? { intervalMs: 10_000, maxTries: 6 },
      };
    },
    advance: (ms) => {
      sandbox.clock.advance(ms);
    },
    callsSince: (seq) => sandbox.calls.query({ service: 'ec2', sinceSeq: seq }),
    stop: () => sandbox.stop(),
  };
}

export function planned(
  kind: ActionKind,
  target: { resourceId: string; vpcId?: string },
  params: ActionParams = {},
  extra: Partial<PlannedAction> = {},
): PlannedAction {
  return PlannedActionSchema.parse({
    id: `${kind}:${target.resourceId}`,
    kind,
    accountId: ACCOUNT,
    region: REGION,
    ...target,
    gate: kind === 'manual-guidance' ? 'manual' : 'auto',
    status: kind === 'manual-guidance' ? 'guidance' : 'ready',
    risks: [...ACTION_RISKS[kind]],
    monthlyCostDeltaUsd: 0,
    reason: `test: ${kind}`,
    dependsOn: [],
    params,
    ...extra,
  });
}

const MONITOR = { mode: 'monitor' as const };

/** One estate with a VPC (or TGW) in the right shape for each action and each refusal. */
export const ESTATE: ScenarioInput = {
  accounts: [
    {
      id: ACCOUNT,
      regions: [
        {
          name: REGION,
          vpcs: [
            // create-monitor-control, create-flow-log: no control, an old default-format flow log.
            { name: 'bare', instances: [{ name: 'web', type: 'm6i.large' }], flowLogs: [{ name: 'old' }] },
            // switch-to-enforce relying on InternetGateway, already enabled.
            {
              name: 'edge',
              internetGateway: true,
              encryptionControl: { ...MONITOR, exclusions: ['InternetGateway'] },
              instances: [{ name: 'api', type: 'c7g.large' }],
            },
            // enable-exclusion NatGateway; enforce refused while the NAT gateway is not excluded.
            { name: 'gated', natGateways: [{ name: 'nat' }], encryptionControl: MONITOR },
            // disable-exclusion VpcPeering, which nothing needs any more.
            { name: 'loose', encryptionControl: { ...MONITOR, exclusions: ['VpcPeering'] } },
            // restore-enforce: enforced, then drifted to monitor by the test.
            { name: 'drifted', encryptionControl: { mode: 'enforce' } },
            // move-instance and its refusals; enforce refused on a non-excludable blocker.
            {
              name: 'legacy',
              encryptionControl: MONITOR,
              instances: [
                { name: 'old', type: 'm5.large' },
                { name: 'parked', type: 'm5.large', state: 'stopped' },
                { name: 'xen', type: 'm4.large' },
                { name: 'xen-old-ami', type: 'm4.large', enaSupport: false },
                { name: 'member', type: 'm5.large', tags: { 'aws:autoscaling:groupName': 'orders-asg' } },
              ],
            },
          ],
          transitGateways: [
            { name: 'core', attachments: [{ name: 'bare', type: 'vpc', vpc: 'bare' }] },
            { name: 'meshed', multicast: true },
          ],
        },
      ],
    },
  ],
};
