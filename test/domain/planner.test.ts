import { describe, expect, it } from 'vitest';
import { ACTION_KINDS, type ActionKind } from '../../functions/domain/action-kinds.ts';
import { audit } from '../../functions/domain/audit.ts';
import { BLOCKER_GUIDANCE, classifyBlocker } from '../../functions/domain/blockers.ts';
import { RECOMMENDED_FLOW_LOG_FORMAT } from '../../functions/domain/flow-logs.ts';
import type { InstanceTypeInfo, RawBlocker } from '../../functions/domain/model.ts';
import { plan } from '../../functions/domain/planner.ts';
import type { PolicyInput } from '../../functions/domain/policy.ts';
import type { PlannedAction, RemediationPlan } from '../../functions/domain/remediation-plan.ts';
import type { AuditReport, TransitGatewayVerdict, VpcVerdict } from '../../functions/domain/verdict.ts';
import {
  ACCOUNT_ID,
  blocker,
  control,
  gateway,
  peering,
  policy,
  REGION,
  snapshot,
  TAKEN_AT,
  transitGateway,
  vpc,
  vpcAttachment,
} from './fixtures.ts';

// --- builders -------------------------------------------------------------------------------------------

const CATALOGUE: InstanceTypeInfo[] = [
  {
    instanceType: 'm4.large',
    vcpus: 2,
    memoryMiB: 8192,
    architectures: ['x86_64'],
    hypervisor: 'xen',
    currentGeneration: false,
    encryptionInTransitSupported: false,
  },
  {
    instanceType: 'm5.large',
    vcpus: 2,
    memoryMiB: 8192,
    architectures: ['x86_64'],
    hypervisor: 'nitro',
    currentGeneration: true,
    encryptionInTransitSupported: false,
  },
  {
    instanceType: 'x1e.32xlarge',
    vcpus: 128,
    memoryMiB: 3997696,
    architectures: ['x86_64'],
    hypervisor: 'xen',
    currentGeneration: false,
    encryptionInTransitSupported: false,
  },
  {
    instanceType: 'm6i.large',
    vcpus: 2,
    memoryMiB: 8192,
    architectures: ['x86_64'],
    hypervisor: 'nitro',
    currentGeneration: true,
    encryptionInTransitSupported: true,
  },
];

function instance(instanceId: string, vpcId: string, instanceType: string, asg?: string) {
  return {
    instanceId,
    vpcId,
    instanceType,
    state: 'running',
    ...(asg === undefined ? {} : { autoScalingGroupName: asg, tags: { 'aws:autoscaling:groupName': asg } }),
  };
}

/** A verdict as the audit would write it; blockers are classified the way the audit does. */
function verdict(
  vpcId: string,
  kind: VpcVerdict['verdict'],
  over: Partial<Omit<VpcVerdict, 'blockers'>> & { blockers?: RawBlocker[] } = {},
): VpcVerdict {
  const { blockers = [], ...rest } = over;
  const currentMode =
    kind === 'UNMONITORED'
      ? null
      : kind === 'ENFORCED' || kind === 'ENFORCED_WITH_EXCLUSIONS'
        ? 'enforce'
        : 'monitor';
  return {
    vpcId,
    name: vpcId,
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: kind,
    desiredMode: 'enforce',
    policySource: 'defaults',
    currentMode,
    controlState: currentMode === null ? null : 'available',
    reasons: [],
    blockers: blockers.map((b) => classifyBlocker(b)),
    exclusionsNeeded: [],
    exclusionsRefused: [],
    exclusionsEnabled: [],
    ...rest,
  };
}

function report(vpcs: VpcVerdict[], transitGateways: TransitGatewayVerdict[] = []): AuditReport {
  return {
    accountId: ACCOUNT_ID,
    region: REGION,
    takenAt: TAKEN_AT,
    managedElsewhere: false,
    vpcs,
    transitGateways,
    peerings: [],
  };
}

function tgwVerdict(id: string, over: Partial<TransitGatewayVerdict> = {}): TransitGatewayVerdict {
  return {
    transitGatewayId: id,
    accountId: ACCOUNT_ID,
    region: REGION,
    verdict: 'TGW_ENCRYPTION_DISABLED',
    encryptionSupport: 'disable',
    unmetPreconditions: [],
    attachedVpcIds: [],
    reasons: [],
    ...over,
  };
}

/** Every gate auto unless said otherwise: the rails tests turn single ones off. */
function autoPolicy(input: Omit<PolicyInput, 'version'> = {}) {
  const actions = {
    'create-monitor-control': 'auto',
    'switch-to-enforce': 'auto',
    'enable-exclusion': 'auto',
    'disable-exclusion': 'auto',
    'move-instance': 'auto',
    'enable-tgw-encryption': 'auto',
    'create-flow-log': 'auto',
    'restore-enforce': 'auto',
  } as const;
  return policy({
    ...input,
    limits: { maxChangesPerRun: 100, maxMonthlyCostUsd: 10_000, ...input.limits },
    defaults: {
      acceptableExclusions: ['NatGateway', 'InternetGateway'],
      ...input.defaults,
      actions: { ...actions, ...input.defaults?.actions },
    },
  });
}

const ids = (p: RemediationPlan) => p.actions.map((a) => a.id);
const byId = (p: RemediationPlan, id: string): PlannedAction => {
  const found = p.actions.find((a) => a.id === id);
  if (!found) throw new Error(`no action ${id} in ${ids(p).join(', ')}`);
  return found;
};
const kinds = (p: RemediationPlan, vpcId?: string): ActionKind[] =>
  p.actions.filter((a) => vpcId === undefined || a.vpcId === vpcId).map((a) => a.kind);

const SNAP = snapshot({
  vpcs: [vpc('vpc-a', { tags: { Name: 'web' } })],
  instances: [
    instance('i-m5', 'vpc-a', 'm5.large'),
    instance('i-m4', 'vpc-a', 'm4.large'),
    instance('i-ok', 'vpc-a', 'm6i.large'),
    instance('i-asg1', 'vpc-a', 'm5.large', 'web-asg'),
    instance('i-asg2', 'vpc-a', 'm5.large', 'web-asg'),
    instance('i-other-vpc', 'vpc-b', 'm5.large'),
    { ...instance('i-gone', 'vpc-a', 'm5.large'), state: 'terminated' },
    instance('i-huge', 'vpc-a', 'x1e.32xlarge'),
    instance('i-unknown', 'vpc-a', 'zz9.large'),
  ],
  instanceTypes: CATALOGUE,
});

// --- per verdict ----------------------------------------------------------------------------------------

describe('UNMONITORED', () => {
  it('creates a monitor control costed at the policy price, and never enforces in the same run', () => {
    const p = plan(report([verdict('vpc-a', 'UNMONITORED')]), SNAP, autoPolicy());
    const monitor = byId(p, 'create-monitor-control:vpc-a');
    expect(monitor).toMatchObject({
      vpcId: 'vpc-a',
      resourceId: 'vpc-a',
      status: 'ready',
      gate: 'auto',
      risks: ['cost'],
    });
    expect(monitor.monthlyCostDeltaUsd).toBe(109.5);
    expect(monitor.params).toEqual({ mode: 'monitor' });
    expect(monitor.reason).toContain('$109.50');
    expect(kinds(p)).not.toContain('switch-to-enforce');
    expect(kinds(p)).not.toContain('restore-enforce');
  });

  it('for enforce, moves non-capable standalone instances from the inventory right away (no blockers yet)', () => {
    const p = plan(report([verdict('vpc-a', 'UNMONITORED')]), SNAP, autoPolicy());
    const moves = p.actions.filter((a) => a.kind === 'move-instance');
    expect(moves.map((m) => m.resourceId)).toEqual(['i-m4', 'i-m5']);
    expect(byId(p, 'move-instance:i-m4').params).toEqual({
      instanceId: 'i-m4',
      fromInstanceType: 'm4.large',
      toInstanceType: 'm6i.large',
      driverCheckRequired: true,
    });
    expect(byId(p, 'move-instance:i-m5').params.driverCheckRequired).toBe(false);
    // Moves do not wait for the monitor control.
    expect(byId(p, 'move-instance:i-m5').dependsOn).toEqual([]);
  });

  it('never moves an ASG member: one guidance per group about its launch template', () => {
    const p = plan(report([verdict('vpc-a', 'UNMONITORED')]), SNAP, autoPolicy());
    const asg = byId(p, 'manual-guidance:vpc-a:asg/web-asg');
    expect(asg).toMatchObject({ gate: 'manual', status: 'guidance', risks: [] });
    expect(asg.params).toMatchObject({ resourceIds: ['i-asg1', 'i-asg2'], autoScalingGroupName: 'web-asg' });
    expect(asg.reason).toContain('RequireEncryptionInTransit');
    expect(asg.reason).toContain('instance refresh');
    expect(asg.reason).toContain('m5.large → m6i.large');
    expect(p.actions.filter((a) => a.kind === 'move-instance').map((a) => a.resourceId)).not.toContain(
      'i-asg1',
    );
  });

  it('skips capable, terminated, unknown-type and other-VPC instances; guides when no capable type fits', () => {
    const p = plan(report([verdict('vpc-a', 'UNMONITORED')]), SNAP, autoPolicy());
    const targets = p.actions.map((a) => a.id).join(' ');
    for (const id of ['i-ok', 'i-gone', 'i-unknown', 'i-other-vpc']) expect(targets).not.toContain(id);
    expect(byId(p, 'manual-guidance:vpc-a:i-huge').reason).toContain('cannot choose a capable type');
  });

  it('leaves acceptable exclusions for the next iteration (a new control cannot be modified yet); refused ones become guidance now', () => {
    const v = verdict('vpc-a', 'UNMONITORED', {
      exclusionsNeeded: ['InternetGateway', 'VpcPeering'],
      exclusionsRefused: ['VpcPeering'],
    });
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(p.actions.filter((a) => a.kind === 'enable-exclusion')).toEqual([]);
    expect(byId(p, 'manual-guidance:vpc-a:exclusion/VpcPeering').reason).toContain('does not accept');
    expect(ids(p)[0]).toBe('create-monitor-control:vpc-a');
  });

  it('for monitor, only the monitor control', () => {
    const v = verdict('vpc-a', 'UNMONITORED', { desiredMode: 'monitor', exclusionsNeeded: ['NatGateway'] });
    expect(ids(plan(report([v]), SNAP, autoPolicy()))).toEqual(['create-monitor-control:vpc-a']);
  });

  it('for ignore, nothing', () => {
    const v = verdict('vpc-a', 'UNMONITORED', { desiredMode: 'ignore' });
    expect(plan(report([v]), SNAP, autoPolicy()).actions).toEqual([]);
  });
});

describe('READY_TO_ENFORCE', () => {
  const ready = verdict('vpc-a', 'READY_TO_ENFORCE', {
    blockers: [blocker('igw-1'), blocker('nat-1')],
    exclusionsNeeded: ['InternetGateway', 'NatGateway'],
    exclusionsEnabled: ['InternetGateway'],
  });

  it('enables each missing exclusion, then switches to enforce depending on all of them', () => {
    const p = plan(report([ready]), SNAP, autoPolicy());
    expect(ids(p)).toEqual(['enable-exclusion:vpc-a:NatGateway', 'switch-to-enforce:vpc-a']);
    const enforce = byId(p, 'switch-to-enforce:vpc-a');
    expect(enforce.dependsOn).toEqual(['enable-exclusion:vpc-a:NatGateway']);
    expect(enforce.params).toEqual({ mode: 'enforce', exclusions: ['InternetGateway', 'NatGateway'] });
    expect(enforce.risks).toEqual(['disruptive']);
    expect(byId(p, 'enable-exclusion:vpc-a:NatGateway')).toMatchObject({
      risks: ['posture'],
      params: { exclusion: 'NatGateway' },
    });
  });

  it('with nothing to exclude, enforce alone', () => {
    const p = plan(report([verdict('vpc-a', 'READY_TO_ENFORCE')]), SNAP, autoPolicy());
    expect(p.actions).toHaveLength(1);
    expect(p.actions[0]).toMatchObject({
      id: 'switch-to-enforce:vpc-a',
      dependsOn: [],
      params: { exclusions: [] },
    });
  });

  it('trusts the audit when it accepts a VpcPeering exclusion for now that the policy does not list', () => {
    const v = verdict('vpc-a', 'READY_TO_ENFORCE', {
      blockers: [blocker('pcx-1')],
      exclusionsNeeded: ['VpcPeering'],
    });
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(ids(p)).toEqual(['enable-exclusion:vpc-a:VpcPeering', 'switch-to-enforce:vpc-a']);
  });

  it('desired monitor: never enforce', () => {
    const p = plan(report([{ ...ready, desiredMode: 'monitor' }]), SNAP, autoPolicy());
    expect(p.actions).toEqual([]);
  });
});

describe('BLOCKED', () => {
  const snap = snapshot({
    vpcs: [vpc('vpc-a', { control: control('monitor') })],
    instances: [
      instance('i-m4', 'vpc-a', 'm4.large'),
      instance('i-asg', 'vpc-a', 'm5.large', 'web-asg'),
      instance('i-huge', 'vpc-a', 'x1e.32xlarge'),
      instance('i-cap', 'vpc-a', 'm6i.large'),
    ],
    instanceTypes: CATALOGUE,
  });
  const blocked = verdict('vpc-a', 'BLOCKED', {
    blockers: [
      blocker('i-m4'),
      blocker('i-asg'),
      blocker('nat-1'),
      blocker('pcx-1'),
      blocker('vpce-gwlb', { description: 'Gateway Load Balancer endpoint' }),
      blocker('arn:aws:rds:eu-west-1:111122223333:db:orders', { isExcludable: false }),
    ],
    exclusionsNeeded: ['NatGateway', 'VpcPeering'],
    exclusionsRefused: ['VpcPeering'],
  });

  it('plans what each blocker needs, and no enforce while any is uncovered', () => {
    const p = plan(report([blocked]), snap, autoPolicy());
    expect(ids(p)).toEqual([
      'enable-exclusion:vpc-a:NatGateway',
      'move-instance:i-m4',
      'manual-guidance:vpc-a:arn:aws:rds:eu-west-1:111122223333:db:orders',
      'manual-guidance:vpc-a:asg/web-asg',
      'manual-guidance:vpc-a:exclusion/VpcPeering',
      'manual-guidance:vpc-a:vpce-gwlb',
    ]);
    expect(byId(p, 'move-instance:i-m4').params).toMatchObject({
      toInstanceType: 'm6i.large',
      driverCheckRequired: true,
    });
    expect(byId(p, 'move-instance:i-m4').reason).toMatch(/ENA and NVMe/);
    expect(byId(p, 'manual-guidance:vpc-a:exclusion/VpcPeering').params.resourceIds).toEqual(['pcx-1']);
  });

  it('uses the blocker guidance text for what vecguard cannot fix', () => {
    const p = plan(report([blocked]), snap, autoPolicy());
    expect(byId(p, 'manual-guidance:vpc-a:vpce-gwlb').reason).toContain(
      BLOCKER_GUIDANCE['gateway-load-balancer'],
    );
    expect(byId(p, 'manual-guidance:vpc-a:arn:aws:rds:eu-west-1:111122223333:db:orders').reason).toContain(
      BLOCKER_GUIDANCE.database,
    );
  });

  it('an ASG member blocker is never moved', () => {
    const p = plan(report([blocked]), snap, autoPolicy());
    expect(p.actions.some((a) => a.kind === 'move-instance' && a.resourceId === 'i-asg')).toBe(false);
  });

  it('instances it cannot move get guidance: no capable type, capable already, not in the inventory', () => {
    const v = verdict('vpc-a', 'BLOCKED', {
      blockers: [blocker('i-huge'), blocker('i-cap'), blocker('i-missing')],
    });
    const p = plan(report([v]), snap, autoPolicy());
    expect(kinds(p)).toEqual(['manual-guidance', 'manual-guidance', 'manual-guidance']);
    expect(byId(p, 'manual-guidance:vpc-a:i-huge').reason).toContain('No x86_64 type');
    expect(byId(p, 'manual-guidance:vpc-a:i-cap').reason).toContain('stop and start');
    expect(byId(p, 'manual-guidance:vpc-a:i-missing').reason).toContain(BLOCKER_GUIDANCE.instance);
  });

  it('an ENI blocker of an instance is handled as that instance', () => {
    const v = verdict('vpc-a', 'BLOCKED');
    const withEni = {
      ...v,
      blockers: [
        {
          id: 'eni-1',
          type: '',
          description: '',
          isExcludable: false,
          kind: 'instance' as const,
          instanceId: 'i-m4',
        },
      ],
    };
    expect(ids(plan(report([withEni]), snap, autoPolicy()))).toEqual(['move-instance:i-m4']);
  });

  it('switches to enforce when every remaining blocker is covered by an exclusion enabled now or before', () => {
    const v = verdict('vpc-a', 'BLOCKED', {
      blockers: [blocker('nat-1'), blocker('igw-1')],
      exclusionsNeeded: ['InternetGateway', 'NatGateway'],
      exclusionsEnabled: ['NatGateway'],
    });
    const p = plan(report([v]), snap, autoPolicy());
    expect(ids(p)).toEqual(['enable-exclusion:vpc-a:InternetGateway', 'switch-to-enforce:vpc-a']);
    expect(byId(p, 'switch-to-enforce:vpc-a').dependsOn).toEqual(['enable-exclusion:vpc-a:InternetGateway']);
  });

  it('an excludable blocker whose exclusion vecguard cannot name keeps enforce away', () => {
    const v = verdict('vpc-a', 'BLOCKED', { blockers: [blocker('xyz-1', { isExcludable: true })] });
    expect(ids(plan(report([v]), snap, autoPolicy()))).toEqual(['manual-guidance:vpc-a:xyz-1']);
  });

  it('desired monitor: nothing', () => {
    expect(plan(report([{ ...blocked, desiredMode: 'monitor' }]), snap, autoPolicy()).actions).toEqual([]);
  });
});

describe('DRIFTED', () => {
  it('restores enforce when nothing non-excludable blocks it, after the exclusions it needs', () => {
    const v = verdict('vpc-a', 'DRIFTED', { blockers: [blocker('nat-1')], exclusionsNeeded: ['NatGateway'] });
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(ids(p)).toEqual(['enable-exclusion:vpc-a:NatGateway', 'restore-enforce:vpc-a']);
    expect(byId(p, 'restore-enforce:vpc-a')).toMatchObject({
      dependsOn: ['enable-exclusion:vpc-a:NatGateway'],
      params: { mode: 'enforce', exclusions: ['NatGateway'] },
      risks: ['disruptive'],
    });
    expect(byId(p, 'restore-enforce:vpc-a').reason).toContain('drifted to monitor');
  });

  it('otherwise guidance naming what blocks it (and the moves that help)', () => {
    const v = verdict('vpc-a', 'DRIFTED', {
      blockers: [blocker('i-m5'), blocker('vpce-1', { description: 'Network Firewall endpoint' })],
    });
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(kinds(p)).not.toContain('restore-enforce');
    const drift = byId(p, 'manual-guidance:vpc-a:drift');
    expect(drift.params.resourceIds).toEqual(['i-m5', 'vpce-1']);
    expect(drift.reason).toContain('2 blocker(s)');
    expect(ids(p)).toContain('move-instance:i-m5');
  });

  it('a drifted VPC that lost its control starts again from monitor', () => {
    const v = { ...verdict('vpc-a', 'DRIFTED'), currentMode: null, controlState: null };
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(byId(p, 'create-monitor-control:vpc-a').reason).toContain('lost its encryption control');
    expect(kinds(p)).not.toContain('restore-enforce');
  });

  it('desired monitor: nothing', () => {
    const v = verdict('vpc-a', 'DRIFTED', { desiredMode: 'monitor' });
    expect(plan(report([v]), SNAP, autoPolicy()).actions).toEqual([]);
  });
});

describe('ENFORCED_WITH_EXCLUSIONS', () => {
  it('disables the exclusions nothing needs any more and keeps the rest', () => {
    const v = verdict('vpc-a', 'ENFORCED_WITH_EXCLUSIONS', {
      blockers: [blocker('igw-1')],
      exclusionsNeeded: ['NatGateway'],
      exclusionsEnabled: ['InternetGateway', 'NatGateway', 'VpcPeering'],
    });
    const p = plan(report([v]), SNAP, autoPolicy());
    expect(ids(p)).toEqual(['disable-exclusion:vpc-a:VpcPeering']);
    expect(p.actions[0]).toMatchObject({
      risks: ['disruptive'],
      params: { exclusion: 'VpcPeering' },
      monthlyCostDeltaUsd: 0,
    });
  });

  it('desired monitor: nothing', () => {
    const v = verdict('vpc-a', 'ENFORCED_WITH_EXCLUSIONS', {
      desiredMode: 'monitor',
      exclusionsEnabled: ['VpcPeering'],
    });
    expect(plan(report([v]), SNAP, autoPolicy()).actions).toEqual([]);
  });
});

describe('TRANSITION_FAILED', () => {
  it('gives guidance carrying the state message', () => {
    const snap = snapshot({
      vpcs: [
        vpc('vpc-a', {
          control: control('monitor', {
            state: 'enforce-failed',
            stateMessage: 'Resources are blocking enforce.',
          }),
        }),
      ],
    });
    const v = verdict('vpc-a', 'TRANSITION_FAILED', { controlState: 'enforce-failed' });
    const p = plan(report([v]), snap, autoPolicy());
    expect(ids(p)).toEqual(['manual-guidance:vpc-a:transition-failed']);
    expect(p.actions[0]?.reason).toContain('enforce-failed (Resources are blocking enforce)');
    expect(p.actions[0]?.params.resourceIds).toEqual(['vpcec-0123456789abcdef0']);
  });

  it('falls back to the verdict reasons, or says there is no message', () => {
    const withReason = verdict('vpc-a', 'TRANSITION_FAILED', { reasons: ['Internal error.'] });
    expect(plan(report([withReason]), SNAP, autoPolicy()).actions[0]?.reason).toContain('(Internal error)');
    const bare = { ...verdict('vpc-a', 'TRANSITION_FAILED'), controlState: null };
    expect(plan(report([bare]), SNAP, autoPolicy()).actions[0]?.reason).toContain(
      'is failed (no state message)',
    );
  });
});

describe('no action', () => {
  it.each(['ENFORCED', 'TRANSITIONING', 'EXEMPT', 'MANAGED_ELSEWHERE'] as const)('%s', (kind) => {
    const v = verdict('vpc-a', kind, {
      blockers: [blocker('i-m5')],
      exclusionsNeeded: ['NatGateway'],
      exclusionsEnabled: ['VpcPeering'],
    });
    const p = plan(
      report([v]),
      SNAP,
      autoPolicy({ flowLogs: { destinationType: 's3', destination: 'arn:aws:s3:::logs' } }),
    );
    expect(p.actions).toEqual([]);
  });

  it('an account managed by a declarative policy gets no VPC action', () => {
    const r = { ...report([verdict('vpc-a', 'UNMONITORED')]), managedElsewhere: true };
    expect(plan(r, SNAP, autoPolicy()).actions).toEqual([]);
  });
});

describe('Transit Gateways', () => {
  const snap = snapshot({
    transitGateways: [
      transitGateway('tgw-1'),
      transitGateway('tgw-ignored', { tags: { 'vecguard:ignore': 'true' } }),
    ],
  });

  it('enables encryption support when the preconditions hold, billing every attached VPC', () => {
    const p = plan(
      report([], [tgwVerdict('tgw-1', { attachedVpcIds: ['vpc-b', 'vpc-a'] })]),
      snap,
      autoPolicy(),
    );
    expect(p.actions).toHaveLength(1);
    expect(p.actions[0]).toMatchObject({
      id: 'enable-tgw-encryption:tgw-1',
      resourceId: 'tgw-1',
      risks: ['cost'],
      monthlyCostDeltaUsd: 219,
      params: { transitGatewayId: 'tgw-1', resourceIds: ['vpc-a', 'vpc-b'] },
    });
    expect(p.actions[0]?.vpcId).toBeUndefined();
    expect(p.actions[0]?.reason).toContain('14 days');
  });

  it('otherwise guidance listing the unmet preconditions', () => {
    const unmet = ['multicast support is on', 'a Connect attachment (tgw-attach-1)'];
    const p = plan(report([], [tgwVerdict('tgw-1', { unmetPreconditions: unmet })]), snap, autoPolicy());
    expect(ids(p)).toEqual(['manual-guidance:tgw-1:preconditions']);
    expect(p.actions[0]?.reason).toContain('a Connect attachment (tgw-attach-1); multicast support is on');
  });

  it('nothing when encryption is enabled or enabling, or the TGW is ignored', () => {
    const p = plan(
      report(
        [],
        [
          tgwVerdict('tgw-1', { verdict: 'TGW_ENCRYPTION_ENABLED' }),
          tgwVerdict('tgw-2', { verdict: 'TGW_ENCRYPTION_ENABLING' }),
          tgwVerdict('tgw-ignored'),
        ],
      ),
      snap,
      autoPolicy(),
    );
    expect(p.actions).toEqual([]);
  });
});

describe('flow logs', () => {
  const flowLogs = {
    destinationType: 'cloud-watch-logs',
    destination: 'arn:aws:logs:eu-west-1:111122223333:log-group:vecguard',
    deliverLogsPermissionArn: 'arn:aws:iam::111122223333:role/flow-logs',
  } as const;
  const snap = snapshot({
    vpcs: ['vpc-a', 'vpc-b', 'vpc-c', 'vpc-d', 'vpc-e'].map((id) => vpc(id)),
    flowLogs: [
      { flowLogId: 'fl-b', resourceId: 'vpc-b', logFormat: RECOMMENDED_FLOW_LOG_FORMAT },
      { flowLogId: 'fl-c', resourceId: 'vpc-c' },
      { flowLogId: 'fl-c2', resourceId: 'vpc-c', logFormat: RECOMMENDED_FLOW_LOG_FORMAT.split(' ')[0] },
    ],
  });
  const r = report([
    verdict('vpc-a', 'READY_TO_ENFORCE'),
    verdict('vpc-b', 'READY_TO_ENFORCE'),
    verdict('vpc-c', 'ENFORCED_WITH_EXCLUSIONS'),
    verdict('vpc-d', 'EXEMPT', { desiredMode: 'ignore' }),
    verdict('vpc-e', 'MANAGED_ELSEWHERE'),
  ]);

  it('creates one carrying the encryption-status field for each acted-on VPC that has none', () => {
    const p = plan(r, snap, autoPolicy({ flowLogs }));
    expect(p.actions.filter((a) => a.kind === 'create-flow-log').map((a) => a.resourceId)).toEqual([
      'vpc-a',
      'vpc-c',
    ]);
    const fl = byId(p, 'create-flow-log:vpc-a');
    expect(fl.params.flowLog).toEqual({ ...flowLogs, logFormat: RECOMMENDED_FLOW_LOG_FORMAT });
    expect(fl.params.flowLog?.logFormat).toMatch(/\$\{encryption-status\}$/);
    expect(fl.risks).toEqual(['cost']);
  });

  it('none without a destination in the policy', () => {
    expect(plan(r, snap, autoPolicy()).actions.some((a) => a.kind === 'create-flow-log')).toBe(false);
  });

  it('an S3 destination needs no delivery role', () => {
    const p = plan(
      r,
      snap,
      autoPolicy({ flowLogs: { destinationType: 's3', destination: 'arn:aws:s3:::logs' } }),
    );
    expect(byId(p, 'create-flow-log:vpc-a').params.flowLog).toEqual({
      destinationType: 's3',
      destination: 'arn:aws:s3:::logs',
      logFormat: RECOMMENDED_FLOW_LOG_FORMAT,
    });
  });
});

// --- rails ----------------------------------------------------------------------------------------------

describe('rails', () => {
  const snap = snapshot({ vpcs: ['vpc-a', 'vpc-b', 'vpc-c'].map((id) => vpc(id)) });
  const threeNew = report(['vpc-a', 'vpc-b', 'vpc-c'].map((id) => verdict(id, 'UNMONITORED')));
  const withExclusions = report([
    verdict('vpc-a', 'READY_TO_ENFORCE', { blockers: [blocker('nat-1')], exclusionsNeeded: ['NatGateway'] }),
  ]);

  it('default gates wait for approval, and the summary counts them', () => {
    const p = plan(withExclusions, SNAP, policy({ defaults: { acceptableExclusions: ['NatGateway'] } }));
    expect(p.actions.map((a) => [a.gate, a.status])).toEqual([
      ['approval', 'ready'],
      ['approval', 'ready'],
    ]);
    expect(p.summary).toEqual({
      ready: 2,
      needApproval: 2,
      deferred: 0,
      skipped: 0,
      guidance: 0,
      monthlyCostDeltaUsd: 0,
    });
  });

  it('an off gate is skipped, never applied, and its dependents are blocked', () => {
    const p = plan(
      withExclusions,
      SNAP,
      autoPolicy({ defaults: { actions: { 'enable-exclusion': 'off' } } }),
    );
    expect(p.actions.map((a) => [a.id, a.gate, a.status])).toEqual([
      ['enable-exclusion:vpc-a:NatGateway', 'off', 'skipped-off'],
      ['switch-to-enforce:vpc-a', 'auto', 'blocked-by-dependency'],
    ]);
    expect(p.summary).toMatchObject({ ready: 0, skipped: 1, deferred: 1 });
  });

  it('gates come from the target that matches the VPC', () => {
    const snapTagged = snapshot({ vpcs: [vpc('vpc-a', { tags: { env: 'prod' } })] });
    const pol = autoPolicy({
      targets: [
        {
          name: 'prod',
          vpcTags: { env: 'prod' },
          mode: 'enforce',
          actions: { 'switch-to-enforce': 'approval' },
        },
      ],
    });
    const p = plan(report([verdict('vpc-a', 'READY_TO_ENFORCE')]), snapTagged, pol);
    expect(p.actions[0]).toMatchObject({ gate: 'approval', status: 'ready' });
    expect(p.summary.needApproval).toBe(1);
  });

  it('the change cap defers the rest, and what depends on a deferred action is blocked', () => {
    const p = plan(
      report([...threeNew.vpcs, ...withExclusions.vpcs.map((v) => ({ ...v, vpcId: 'vpc-d' }))]),
      snap,
      autoPolicy({ limits: { maxChangesPerRun: 3 } }),
    );
    expect(p.actions.map((a) => [a.id, a.status])).toEqual([
      ['create-monitor-control:vpc-a', 'ready'],
      ['create-monitor-control:vpc-b', 'ready'],
      ['create-monitor-control:vpc-c', 'ready'],
      ['enable-exclusion:vpc-d:NatGateway', 'deferred-cap'],
      ['switch-to-enforce:vpc-d', 'blocked-by-dependency'],
    ]);
    expect(p.summary).toMatchObject({ ready: 3, deferred: 2 });
  });

  it('readies only what the run’s budget leaves: changes made in earlier iterations count against the cap', () => {
    const pol = autoPolicy({ limits: { maxChangesPerRun: 3 } });
    expect(plan(threeNew, snap, pol, { changesLeft: 1 }).actions.map((a) => a.status)).toEqual([
      'ready',
      'deferred-cap',
      'deferred-cap',
    ]);
    expect(plan(threeNew, snap, pol, { changesLeft: 0 }).summary).toMatchObject({ ready: 0, deferred: 3 });
    // More left than the cap (a sweep with room) never lifts the run's own cap.
    expect(
      plan(threeNew, snap, autoPolicy({ limits: { maxChangesPerRun: 2 } }), { changesLeft: 50 }).summary
        .ready,
    ).toBe(2);
  });

  it('a cap of zero applies nothing but still plans everything', () => {
    const p = plan(threeNew, snap, autoPolicy({ limits: { maxChangesPerRun: 0 } }));
    expect(p.actions.map((a) => a.status)).toEqual(['deferred-cap', 'deferred-cap', 'deferred-cap']);
  });

  it('the cost limit defers what would pass it, and lets free actions through', () => {
    const r = report([...threeNew.vpcs, verdict('vpc-d', 'READY_TO_ENFORCE')]);
    const p = plan(r, snap, autoPolicy({ limits: { maxMonthlyCostUsd: 220 } }));
    expect(p.actions.map((a) => [a.id, a.status])).toEqual([
      ['create-monitor-control:vpc-a', 'ready'],
      ['create-monitor-control:vpc-b', 'ready'],
      ['create-monitor-control:vpc-c', 'deferred-cap'],
      ['switch-to-enforce:vpc-d', 'ready'],
    ]);
    expect(p.summary.monthlyCostDeltaUsd).toBe(219);
  });

  it('the shipped default cost limit ($1,000) lets a first rollout of a few VPCs through, all behind approval', () => {
    const p = plan(threeNew, snap, policy());
    expect(p.actions.map((a) => [a.status, a.gate])).toEqual([
      ['ready', 'approval'],
      ['ready', 'approval'],
      ['ready', 'approval'],
    ]);
  });

  describe('maintenance windows', () => {
    // TAKEN_AT is Thursday 2026-01-15 10:00 UTC.
    type Windows = NonNullable<PolicyInput['maintenanceWindows']>;
    const open: Windows = [{ days: ['thu'], start: '09:00', end: '11:00' }];
    const closed: Windows = [{ days: ['sat', 'sun'], start: '01:00', end: '05:00' }];

    it('outside every window, mutating actions are deferred and guidance stays guidance', () => {
      const r = report([verdict('vpc-a', 'UNMONITORED'), verdict('vpc-b', 'TRANSITION_FAILED')]);
      const p = plan(r, SNAP, autoPolicy({ maintenanceWindows: closed }));
      expect(p.actions.map((a) => [a.kind, a.status])).toEqual([
        ['create-monitor-control', 'deferred-window'],
        ['move-instance', 'deferred-window'],
        ['move-instance', 'deferred-window'],
        ['manual-guidance', 'guidance'],
        ['manual-guidance', 'guidance'],
        ['manual-guidance', 'guidance'],
      ]);
      expect(p.summary).toMatchObject({ ready: 0, deferred: 3, guidance: 3, monthlyCostDeltaUsd: 0 });
    });

    it('inside a window, ready; the time is the snapshot clock unless given', () => {
      const pol = autoPolicy({ maintenanceWindows: open });
      expect(plan(withExclusions, SNAP, pol).actions.map((a) => a.status)).toEqual(['ready', 'ready']);
      const saturday = new Date('2026-01-17T03:00:00Z');
      expect(plan(withExclusions, SNAP, pol, { at: saturday }).actions.map((a) => a.status)).toEqual([
        'deferred-window',
        'deferred-window',
      ]);
      const closedPol = autoPolicy({ maintenanceWindows: closed });
      expect(plan(withExclusions, SNAP, closedPol, { at: saturday }).actions.map((a) => a.status)).toEqual([
        'ready',
        'ready',
      ]);
    });
  });

  it('dry-run plans exactly what a real run would', () => {
    const pol = autoPolicy({ limits: { maxChangesPerRun: 2 } });
    const real = plan(threeNew, snap, pol);
    const dry = plan(threeNew, snap, { ...pol, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(real.dryRun).toBe(false);
    expect(dry.actions).toEqual(real.actions);
    expect(dry.summary).toEqual(real.summary);
    expect(plan(threeNew, snap, pol, { dryRun: true }).dryRun).toBe(true);
  });
});

describe('the plan as a whole', () => {
  it('carries the account, Region and snapshot time, and orders monitors first, enforce after exclusions, guidance last', () => {
    const r = report([
      verdict('vpc-z', 'UNMONITORED'),
      verdict('vpc-a', 'READY_TO_ENFORCE', {
        blockers: [blocker('nat-1')],
        exclusionsNeeded: ['NatGateway'],
      }),
      verdict('vpc-m', 'TRANSITION_FAILED'),
    ]);
    const p = plan(r, SNAP, autoPolicy());
    expect(p).toMatchObject({ accountId: ACCOUNT_ID, region: REGION, plannedAt: TAKEN_AT });
    expect(ids(p)).toEqual([
      'create-monitor-control:vpc-z',
      'enable-exclusion:vpc-a:NatGateway',
      'switch-to-enforce:vpc-a',
      'manual-guidance:vpc-m:transition-failed',
    ]);
  });

  it('every reason vecguard writes is one sentence', () => {
    const r = report(
      [
        verdict('vpc-a', 'UNMONITORED', {
          exclusionsNeeded: ['NatGateway', 'VpcPeering'],
          exclusionsRefused: ['VpcPeering'],
        }),
        verdict('vpc-b', 'READY_TO_ENFORCE', {
          blockers: [blocker('nat-1')],
          exclusionsNeeded: ['NatGateway'],
        }),
        verdict('vpc-c', 'DRIFTED', { blockers: [blocker('i-m4'), blocker('vpce-1')] }),
        verdict('vpc-d', 'DRIFTED'),
        verdict('vpc-e', 'ENFORCED_WITH_EXCLUSIONS', { exclusionsEnabled: ['VpcPeering'] }),
        verdict('vpc-f', 'TRANSITION_FAILED', { reasons: ['Internal error.'] }),
      ],
      [
        tgwVerdict('tgw-1', { attachedVpcIds: ['vpc-a'] }),
        tgwVerdict('tgw-2', { unmetPreconditions: ['multicast support is on'] }),
      ],
    );
    const p = plan(
      r,
      SNAP,
      autoPolicy({ flowLogs: { destinationType: 's3', destination: 'arn:aws:s3:::logs' } }),
    );
    expect(new Set(kinds(p))).toEqual(new Set(ACTION_KINDS));
    for (const a of p.actions) {
      expect(a.reason, a.id).toMatch(/[.]$/);
      // Blocker guidance quotes blockers.ts, whose texts may hold two sentences.
      if (a.reason.startsWith('Enforce on')) continue;
      expect(a.reason.slice(0, -1), a.id).not.toMatch(/\.\s+[A-Z]/);
    }
  });
});

describe('with the audit', () => {
  it('walks two peered VPCs to enforce with a temporary VpcPeering exclusion, then removes it', () => {
    const pol = autoPolicy({ defaults: { acceptableExclusions: [] } });
    const monitor = snapshot({
      vpcs: [
        vpc('vpc-a', { control: control('monitor'), blockers: [blocker('pcx-1')] }),
        vpc('vpc-b', { control: control('monitor'), blockers: [blocker('pcx-1')] }),
      ],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    const first = plan(audit(monitor, pol), monitor, pol);
    expect(ids(first)).toEqual([
      'enable-exclusion:vpc-a:VpcPeering',
      'enable-exclusion:vpc-b:VpcPeering',
      'switch-to-enforce:vpc-a',
      'switch-to-enforce:vpc-b',
    ]);

    const enforced = snapshot({
      vpcs: [
        vpc('vpc-a', { control: control('enforce', { exclusions: { VpcPeering: 'enabled' } }) }),
        vpc('vpc-b', { control: control('enforce', { exclusions: { VpcPeering: 'enabled' } }) }),
      ],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    const second = plan(audit(enforced, pol), enforced, pol);
    expect(ids(second)).toEqual(['disable-exclusion:vpc-a:VpcPeering', 'disable-exclusion:vpc-b:VpcPeering']);
  });

  it('a TGW with encryption support off and an attached VPC', () => {
    const snap = snapshot({
      vpcs: [vpc('vpc-a', { control: control('enforce') })],
      transitGateways: [transitGateway('tgw-1', { attachments: [vpcAttachment('tgw-attach-1', 'vpc-a')] })],
      gateways: [gateway('igw-1', 'vpc-b')],
    });
    const p = plan(audit(snap, autoPolicy()), snap, autoPolicy());
    expect(ids(p)).toEqual(['enable-tgw-encryption:tgw-1']);
  });
});
