import { describe, expect, it } from 'vitest';
import { audit, enabledExclusions } from '../../functions/domain/audit.ts';
import {
  EncryptionControlSchema,
  EXCLUSION_NAMES,
  type InventorySnapshotInput,
} from '../../functions/domain/model.ts';
import type { Policy } from '../../functions/domain/policy.ts';
import { AuditReportSchema, type VerdictHistory, type VpcVerdict } from '../../functions/domain/verdict.ts';
import {
  blocker,
  control,
  eni,
  gateway,
  OTHER_ACCOUNT_ID,
  OTHER_REGION,
  peering,
  policy,
  snapshot,
  transitGateway,
  vpc,
  vpcAttachment,
} from './fixtures.ts';

const ENFORCE = policy();
const ACCEPT_GATEWAYS = policy({
  defaults: { acceptableExclusions: ['InternetGateway', 'NatGateway', 'Lambda', 'ElasticFileSystem'] },
});

function auditOne(input: Partial<InventorySnapshotInput>, p: Policy = ENFORCE, history?: VerdictHistory) {
  const report = audit(snapshot(input), p, history);
  AuditReportSchema.parse(report);
  return report;
}

/** The verdict of the first VPC of a one-VPC snapshot. */
function verdictOf(
  input: Partial<InventorySnapshotInput>,
  p: Policy = ENFORCE,
  history?: VerdictHistory,
): VpcVerdict {
  const v = auditOne(input, p, history).vpcs[0];
  if (!v) throw new Error('no verdict');
  return v;
}

describe('audit: one verdict per VPC', () => {
  it('UNMONITORED: a VPC without a control', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { tags: { Name: 'web' } })] });
    expect(v).toMatchObject({
      verdict: 'UNMONITORED',
      name: 'web',
      desiredMode: 'enforce',
      policySource: 'defaults',
      currentMode: null,
      controlState: null,
    });
    expect(v.reasons.join(' ')).toMatch(/no encryption control/);
  });

  it('UNMONITORED: a VPC whose control has been deleted', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor', { state: 'deleted' }) })] });
    expect(v.verdict).toBe('UNMONITORED');
    expect(v.controlState).toBe('deleted');
  });

  it('UNMONITORED, not DRIFTED, when an enforced VPC lost its control; the reasons tell the drift', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a')] }, ENFORCE, { 'vpc-a': 'ENFORCED' });
    expect(v.verdict).toBe('UNMONITORED');
    expect(v.reasons.join(' ')).toMatch(/previous audit found it ENFORCED/);
  });

  it.each(['creating', 'monitor-in-progress', 'enforce-in-progress', 'deleting'])(
    'TRANSITIONING: the control is %s',
    (state) => {
      const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('enforce', { state }) })] });
      expect(v.verdict).toBe('TRANSITIONING');
      expect(v.controlState).toBe(state);
    },
  );

  it('TRANSITIONING: an unknown state string (older docs: modify-in-progress) is tolerated and said so', () => {
    const v = verdictOf({
      vpcs: [
        vpc('vpc-a', { control: control('monitor', { state: 'modify-in-progress', stateMessage: 'busy' }) }),
      ],
    });
    expect(v.verdict).toBe('TRANSITIONING');
    expect(v.reasons.join(' ')).toMatch(/"modify-in-progress", a state vecguard does not know/);
    expect(v.reasons).toContain('AWS says: busy');
  });

  it.each(['enabling', 'disabling', 'half-enabled'])('TRANSITIONING: an exclusion is %s', (state) => {
    const v = verdictOf({
      vpcs: [
        vpc('vpc-a', {
          control: control('monitor', { exclusions: { Lambda: { state, stateMessage: 'in progress' } } }),
        }),
      ],
    });
    expect(v.verdict).toBe('TRANSITIONING');
    expect(v.reasons.join(' ')).toMatch(new RegExp(`Lambda ${state} \\(in progress\\)`));
  });

  it.each(['monitor-failed', 'enforce-failed', 'delete-failed'])(
    'TRANSITION_FAILED: the control is %s, and the reason carries the StateMessage',
    (state) => {
      const v = verdictOf({
        vpcs: [
          vpc('vpc-a', {
            control: control('monitor', { state, stateMessage: 'Resources are blocking enforcement' }),
          }),
        ],
      });
      expect(v.verdict).toBe('TRANSITION_FAILED');
      expect(v.reasons.join(' ')).toMatch(/Resources are blocking enforcement/);
    },
  );

  it('TRANSITION_FAILED without a StateMessage says AWS gave none', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('enforce', { state: 'enforce-failed' }) })],
    });
    expect(v.reasons.join(' ')).toMatch(/no StateMessage/);
  });

  it('ENFORCED: enforce, available, no exclusions', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('enforce') })] });
    expect(v).toMatchObject({ verdict: 'ENFORCED', currentMode: 'enforce', exclusionsEnabled: [] });
  });

  it('an enforced VPC holding a resource that cannot encrypt (launched around the check) is not ENFORCED', () => {
    const input = {
      vpcs: [
        vpc('vpc-a', {
          control: control('enforce'),
          blockers: [blocker('eni-rogue', { isExcludable: false })],
        }),
      ],
    };
    const never = verdictOf(input);
    expect(never.verdict).toBe('BLOCKED');
    expect(never.reasons.join(' ')).toMatch(/cannot encrypt in transit.*eni-rogue/);
    const was = verdictOf(input, ENFORCE, { 'vpc-a': 'ENFORCED' });
    expect(was.verdict).toBe('DRIFTED');
    expect(was.reasons.join(' ')).toMatch(/was enforced and no longer is/);
  });

  it('ENFORCED: disabled exclusions do not count', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('enforce', { exclusions: { InternetGateway: 'disabled' } }) })],
    });
    expect(v.verdict).toBe('ENFORCED');
  });

  it('ENFORCED_WITH_EXCLUSIONS: enforce with an enabled exclusion the policy accepts', () => {
    const v = verdictOf(
      {
        vpcs: [vpc('vpc-a', { control: control('enforce', { exclusions: { InternetGateway: 'enabled' } }) })],
        gateways: [gateway('igw-1', 'vpc-a')],
      },
      ACCEPT_GATEWAYS,
    );
    expect(v).toMatchObject({
      verdict: 'ENFORCED_WITH_EXCLUSIONS',
      exclusionsEnabled: ['InternetGateway'],
      exclusionsNeeded: ['InternetGateway'],
      exclusionsRefused: [],
    });
  });

  it('ENFORCED_WITH_EXCLUSIONS says when the policy does not accept an enabled exclusion, or nothing needs it', () => {
    const v = verdictOf({
      vpcs: [
        vpc('vpc-a', {
          control: control('enforce', { exclusions: { InternetGateway: 'enabled', Lambda: 'enabled' } }),
        }),
      ],
      gateways: [gateway('igw-1', 'vpc-a')],
    });
    expect(v.exclusionsRefused).toEqual(['InternetGateway']);
    expect(v.reasons.join(' ')).toMatch(/does not accept the enabled exclusion\(s\) InternetGateway/);
    expect(v.reasons.join(' ')).toMatch(/needs the exclusion\(s\) Lambda any more/);
  });

  it('READY_TO_ENFORCE: monitor, no blockers', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor') })] });
    expect(v).toMatchObject({ verdict: 'READY_TO_ENFORCE', exclusionsNeeded: [], exclusionsRefused: [] });
  });

  it('READY_TO_ENFORCE: monitor, every blocker excludable and its exclusion acceptable', () => {
    const v = verdictOf(
      {
        vpcs: [
          vpc('vpc-a', {
            control: control('monitor'),
            blockers: [blocker('igw-1'), blocker('nat-1'), blocker('eni-l', { isExcludable: true })],
          }),
        ],
        networkInterfaces: [eni('eni-l', 'vpc-a', { interfaceType: 'lambda' })],
      },
      ACCEPT_GATEWAYS,
    );
    expect(v.verdict).toBe('READY_TO_ENFORCE');
    expect(v.exclusionsNeeded).toEqual(['InternetGateway', 'NatGateway', 'Lambda']);
    expect(v.blockers.map((b) => b.kind)).toEqual(['lambda', 'internet-gateway', 'nat-gateway']);
  });

  it('BLOCKED: an exclusion the policy does not accept', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('monitor'), blockers: [blocker('igw-1')] })],
    });
    expect(v).toMatchObject({
      verdict: 'BLOCKED',
      exclusionsNeeded: ['InternetGateway'],
      exclusionsRefused: ['InternetGateway'],
    });
  });

  it('BLOCKED: a non-excludable blocker, even when every exclusion is acceptable', () => {
    const everything = policy({
      defaults: {
        acceptableExclusions: [...EXCLUSION_NAMES],
      },
    });
    const v = verdictOf(
      {
        vpcs: [
          vpc('vpc-a', {
            control: control('monitor'),
            blockers: [blocker('eni-1', { isExcludable: false }), blocker('igw-1')],
          }),
        ],
        networkInterfaces: [eni('eni-1', 'vpc-a', { instanceId: 'i-0c' })],
      },
      everything,
    );
    expect(v.verdict).toBe('BLOCKED');
    expect(v.exclusionsRefused).toEqual([]);
    expect(v.blockers[0]).toMatchObject({ id: 'eni-1', kind: 'instance', instanceId: 'i-0c' });
    expect(v.reasons.join(' ')).toMatch(/eni-1 \(instance\)/);
  });

  it('a blocker ENI is read from the VPC it blocks, whatever another VPC lists under the same id', () => {
    // Found by the order-independence property: an inventory read at two moments (or two scopes merged)
    // can list one id twice; the interface that matters is the one in the blocked VPC.
    const vpcs = [
      vpc('vpc-a', { control: control('monitor') }),
      vpc('vpc-b', { control: control('monitor'), blockers: [blocker('eni-1', { isExcludable: false })] }),
    ];
    const inA = eni('eni-1', 'vpc-a');
    const inB = eni('eni-1', 'vpc-b', { instanceId: 'i-0b' });
    for (const networkInterfaces of [
      [inA, inB],
      [inB, inA],
    ]) {
      const b = auditOne({ vpcs, networkInterfaces }).vpcs.find((v) => v.vpcId === 'vpc-b');
      expect(b?.blockers[0]).toMatchObject({ id: 'eni-1', kind: 'instance', instanceId: 'i-0b' });
    }
  });

  it('BLOCKED: AWS says excludable but no exclusion is known for the kind', () => {
    const v = verdictOf({
      vpcs: [
        vpc('vpc-a', { control: control('monitor'), blockers: [blocker('xyz-1', { isExcludable: true })] }),
      ],
    });
    expect(v.verdict).toBe('BLOCKED');
    expect(v.reasons.join(' ')).toMatch(/cannot tell which exclusion/);
  });

  it('BLOCKED: a gateway in the inventory needs its exclusion even when AWS no longer lists it', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('monitor') })],
      gateways: [
        gateway('eigw-1', 'vpc-a'),
        gateway('vgw-1', 'vpc-a'),
        gateway('nat-gone', 'vpc-a', { state: 'deleted' }),
      ],
    });
    expect(v.verdict).toBe('BLOCKED');
    expect(v.exclusionsNeeded).toEqual(['EgressOnlyInternetGateway', 'VirtualPrivateGateway']);
  });

  it('counts Lambda, VPC Lattice and EFS network interfaces of the VPC as needing their exclusions', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('monitor') })],
      networkInterfaces: [
        eni('eni-1', 'vpc-a', { interfaceType: 'lambda' }),
        eni('eni-2', 'vpc-a', { description: 'VPC Lattice service network' }),
        eni('eni-3', 'vpc-a', { interfaceType: 'efs' }),
        eni('eni-4', 'vpc-a', { instanceId: 'i-1' }),
        eni('eni-5', 'vpc-other', { interfaceType: 'lambda' }),
      ],
    });
    expect(v.exclusionsNeeded).toEqual(['Lambda', 'VpcLattice', 'ElasticFileSystem']);
  });

  it('desired monitor: a VPC in monitor still gets an enforce-readiness verdict, and the reasons say monitor is wanted', () => {
    const p = policy({ defaults: { mode: 'monitor' } });
    const ready = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor') })] }, p);
    expect(ready).toMatchObject({ verdict: 'READY_TO_ENFORCE', desiredMode: 'monitor' });
    expect(ready.reasons.join(' ')).toMatch(/policy asks for monitor \(defaults\)/);
    const blocked = verdictOf(
      { vpcs: [vpc('vpc-a', { control: control('monitor'), blockers: [blocker('i-1')] })] },
      p,
    );
    expect(blocked).toMatchObject({ verdict: 'BLOCKED', desiredMode: 'monitor' });
    expect(blocked.reasons.join(' ')).toMatch(/policy asks for monitor/);
  });

  it('desired monitor: an enforced VPC stays ENFORCED and is not weakened', () => {
    const v = verdictOf(
      { vpcs: [vpc('vpc-a', { control: control('enforce') })] },
      policy({ defaults: { mode: 'monitor' } }),
    );
    expect(v.verdict).toBe('ENFORCED');
    expect(v.reasons.join(' ')).toMatch(/does not weaken/);
  });

  it('desired monitor: an unmonitored VPC says monitor is wanted', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a')] }, policy({ defaults: { mode: 'monitor' } }));
    expect(v.verdict).toBe('UNMONITORED');
    expect(v.reasons.join(' ')).toMatch(/asks for monitor/);
  });

  it('DRIFTED: it was ENFORCED and the control is back in monitor', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor') })] }, ENFORCE, {
      'vpc-a': 'ENFORCED',
    });
    expect(v.verdict).toBe('DRIFTED');
    expect(v.reasons.join(' ')).toMatch(/can be restored/);
  });

  it('DRIFTED: it was ENFORCED_WITH_EXCLUSIONS; the reasons say what now blocks enforce', () => {
    const v = verdictOf(
      { vpcs: [vpc('vpc-a', { control: control('monitor'), blockers: [blocker('i-new')] })] },
      ENFORCE,
      { 'vpc-a': 'ENFORCED_WITH_EXCLUSIONS' },
    );
    expect(v.verdict).toBe('DRIFTED');
    expect(v.reasons.join(' ')).toMatch(/i-new \(instance\)/);
  });

  it('DRIFTED stays DRIFTED on the next run while nothing changes', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor') })] }, ENFORCE, {
      'vpc-a': 'DRIFTED',
    });
    expect(v.verdict).toBe('DRIFTED');
  });

  it('not DRIFTED when the policy now asks for monitor', () => {
    const v = verdictOf(
      { vpcs: [vpc('vpc-a', { control: control('monitor') })] },
      policy({ defaults: { mode: 'monitor' } }),
      { 'vpc-a': 'ENFORCED' },
    );
    expect(v.verdict).toBe('READY_TO_ENFORCE');
  });

  it('not DRIFTED when it was only ever READY_TO_ENFORCE', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor') })] }, ENFORCE, {
      'vpc-a': 'READY_TO_ENFORCE',
    });
    expect(v.verdict).toBe('READY_TO_ENFORCE');
  });

  it.each([
    ['the vecguard:ignore tag', { 'vecguard:ignore': 'true' }, 'tag:vecguard:ignore'],
    ['the vecguard:mode=ignore tag', { 'vecguard:mode': 'ignore' }, 'tag:vecguard:mode'],
  ])('EXEMPT: %s', (_name, tags, source) => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { tags, control: control('monitor'), blockers: [blocker('igw-1')] })],
    });
    expect(v).toMatchObject({
      verdict: 'EXEMPT',
      desiredMode: 'ignore',
      policySource: source,
      exclusionsRefused: [],
    });
  });

  it('EXEMPT: a target with mode ignore', () => {
    const p = policy({ targets: [{ name: 'sandbox', vpcTags: { env: 'sandbox' }, mode: 'ignore' }] });
    const v = verdictOf({ vpcs: [vpc('vpc-a', { tags: { env: 'sandbox' } })] }, p);
    expect(v).toMatchObject({ verdict: 'EXEMPT', policySource: 'target:sandbox' });
  });

  it('vecguard:ignore=false does not exempt', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { tags: { 'vecguard:ignore': 'false' } })] });
    expect(v.verdict).toBe('UNMONITORED');
  });

  it('MANAGED_ELSEWHERE: every VPC of an account whose controls a declarative policy manages', () => {
    const report = auditOne({
      accountControl: { mode: 'attempt-enforce', managedBy: 'declarative-policy' },
      vpcs: [
        vpc('vpc-b', { control: control('enforce') }),
        vpc('vpc-a'),
        vpc('vpc-c', { tags: { 'vecguard:ignore': 'true' } }),
      ],
    });
    expect(report.managedElsewhere).toBe(true);
    expect(report.vpcs.map((v) => [v.vpcId, v.verdict])).toEqual([
      ['vpc-a', 'MANAGED_ELSEWHERE'],
      ['vpc-b', 'MANAGED_ELSEWHERE'],
      ['vpc-c', 'MANAGED_ELSEWHERE'],
    ]);
    expect(report.vpcs[0]?.reasons.join(' ')).toMatch(/declarative policy .* attempt-enforce/);
    expect(report.vpcs[1]?.reasons.join(' ')).toMatch(/enforce mode, state available/);
  });

  it('an account managed by the account itself is not managed elsewhere', () => {
    const report = auditOne({
      accountControl: { mode: 'attempt-monitor', managedBy: 'account' },
      vpcs: [vpc('vpc-a')],
    });
    expect(report.managedElsewhere).toBe(false);
    expect(report.vpcs[0]?.verdict).toBe('UNMONITORED');
  });

  it('says an unreadable vecguard:mode tag value was ignored, and where the mode came from instead', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { tags: { 'vecguard:mode': 'enforced!' } })] });
    expect(v.desiredMode).toBe('enforce');
    expect(v.reasons[0]).toBe(
      'The vecguard:mode tag value "enforced!" is not enforce, monitor or ignore; it was ignored and the mode comes from defaults.',
    );
  });

  it('a readable vecguard:mode tag adds no such reason', () => {
    const v = verdictOf({ vpcs: [vpc('vpc-a', { tags: { 'vecguard:mode': ' Monitor ' } })] });
    expect(v.desiredMode).toBe('monitor');
    expect(v.reasons.join(' ')).not.toMatch(/was ignored/);
  });

  it('lists enabled and enabling exclusions as enabled', () => {
    const c = EncryptionControlSchema.parse(
      control('enforce', {
        exclusions: { Lambda: 'enabling', NatGateway: 'enabled', VpcPeering: 'disabling' },
      }),
    );
    expect(enabledExclusions(c)).toEqual(['NatGateway', 'Lambda']);
    expect(enabledExclusions(null)).toEqual([]);
  });
});

describe('audit: peerings and the VpcPeering exclusion', () => {
  it('a temporary VpcPeering exclusion makes a VPC ready when the peer, in this Region, is also headed for enforce', () => {
    const report = auditOne({
      vpcs: [
        vpc('vpc-a', { control: control('monitor'), blockers: [blocker('pcx-1')] }),
        vpc('vpc-b', { control: control('monitor'), blockers: [blocker('pcx-1')] }),
      ],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    for (const v of report.vpcs) {
      expect(v).toMatchObject({
        verdict: 'READY_TO_ENFORCE',
        exclusionsNeeded: ['VpcPeering'],
        exclusionsRefused: [],
      });
      expect(v.reasons.join(' ')).toMatch(/VpcPeering exclusion is accepted for now: pcx-1/);
    }
    expect(report.peerings[0]).toMatchObject({
      verdict: 'PEERING_NEEDS_EXCLUSION',
      needsExclusionOn: ['vpc-a', 'vpc-b'],
    });
  });

  it('no temporary exclusion when the peer is exempt', () => {
    const report = auditOne({
      vpcs: [
        vpc('vpc-a', { control: control('monitor'), blockers: [blocker('pcx-1')] }),
        vpc('vpc-b', { tags: { 'vecguard:ignore': 'true' } }),
      ],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    expect(report.vpcs[0]).toMatchObject({ verdict: 'BLOCKED', exclusionsRefused: ['VpcPeering'] });
    expect(report.peerings[0]).toMatchObject({
      verdict: 'PEERING_NEEDS_EXCLUSION',
      needsExclusionOn: ['vpc-a'],
    });
  });

  it('no temporary exclusion for a cross-Region peering', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('monitor') }), vpc('vpc-b', { control: control('enforce') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b', { accepterRegion: OTHER_REGION })],
    });
    expect(report.vpcs[0]).toMatchObject({
      verdict: 'BLOCKED',
      exclusionsNeeded: ['VpcPeering'],
      exclusionsRefused: ['VpcPeering'],
    });
    expect(report.peerings[0]?.reasons.join(' ')).toMatch(/crosses Regions/);
  });

  it('no temporary exclusion for a peering to another account, whose mode is unknown', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('monitor') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-theirs', { accepterOwnerId: OTHER_ACCOUNT_ID })],
    });
    expect(report.vpcs[0]?.verdict).toBe('BLOCKED');
    expect(report.peerings[0]).toMatchObject({
      verdict: 'PEERING_NEEDS_EXCLUSION',
      needsExclusionOn: ['vpc-a'],
    });
    expect(report.peerings[0]?.reasons.join(' ')).toMatch(/not in this account/);
  });

  it('no temporary exclusion when only one of two peerings leads to a VPC headed for enforce', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('monitor') }), vpc('vpc-b', { control: control('monitor') })],
      peeringConnections: [
        peering('pcx-1', 'vpc-a', 'vpc-b'),
        peering('pcx-2', 'vpc-a', 'vpc-theirs', { accepterOwnerId: OTHER_ACCOUNT_ID }),
      ],
    });
    expect(report.vpcs[0]).toMatchObject({
      vpcId: 'vpc-a',
      verdict: 'BLOCKED',
      exclusionsRefused: ['VpcPeering'],
    });
    expect(report.vpcs[1]).toMatchObject({
      vpcId: 'vpc-b',
      verdict: 'READY_TO_ENFORCE',
      exclusionsRefused: [],
    });
  });

  it('no temporary exclusion when AWS lists a peering vecguard cannot find', () => {
    const v = verdictOf({
      vpcs: [vpc('vpc-a', { control: control('monitor'), blockers: [blocker('pcx-unknown')] })],
    });
    expect(v).toMatchObject({ verdict: 'BLOCKED', exclusionsRefused: ['VpcPeering'] });
  });

  it('the VpcPeering exclusion is not needed towards a same-Region peer that is enforced', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('monitor') }), vpc('vpc-b', { control: control('enforce') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b', { requesterRegion: 'eu-west-1' })],
    });
    expect(report.vpcs[0]).toMatchObject({
      vpcId: 'vpc-a',
      verdict: 'READY_TO_ENFORCE',
      exclusionsNeeded: [],
    });
  });

  it('PEERING_ENCRYPTED: same Region, both enforced, neither relying on a VpcPeering exclusion', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('enforce') }), vpc('vpc-b', { control: control('enforce') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    expect(report.peerings[0]).toMatchObject({ verdict: 'PEERING_ENCRYPTED', needsExclusionOn: [] });
    expect(report.vpcs.map((v) => v.verdict)).toEqual(['ENFORCED', 'ENFORCED']);
  });

  it('both enforced but one still holds VpcPeering: needs the exclusion removed from the holder', () => {
    const report = auditOne({
      vpcs: [
        vpc('vpc-a', { control: control('enforce', { exclusions: { VpcPeering: 'enabled' } }) }),
        vpc('vpc-b', { control: control('enforce') }),
      ],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
    });
    expect(report.peerings[0]).toMatchObject({
      verdict: 'PEERING_NEEDS_EXCLUSION',
      needsExclusionOn: ['vpc-a'],
    });
    expect(report.peerings[0]?.reasons.join(' ')).toMatch(/no longer needed and can be disabled/);
    expect(report.vpcs[0]).toMatchObject({ verdict: 'ENFORCED_WITH_EXCLUSIONS', exclusionsNeeded: [] });
  });

  it('PEERING_NOT_APPLICABLE: a peering that is not active', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-a', { control: control('enforce') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b', { status: 'pending-acceptance' })],
    });
    expect(report.peerings[0]).toMatchObject({ verdict: 'PEERING_NOT_APPLICABLE', needsExclusionOn: [] });
    expect(report.vpcs[0]?.exclusionsNeeded).toEqual([]);
  });

  it('PEERING_NOT_APPLICABLE: neither side is in enforce or heading there', () => {
    const report = auditOne(
      {
        vpcs: [vpc('vpc-a', { control: control('monitor') }), vpc('vpc-b')],
        peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-b')],
      },
      policy({ defaults: { mode: 'monitor' } }),
    );
    expect(report.peerings[0]?.verdict).toBe('PEERING_NOT_APPLICABLE');
  });

  it('PEERING_NOT_APPLICABLE when a declarative policy manages the account', () => {
    const report = auditOne({
      accountControl: { managedBy: 'declarative-policy' },
      vpcs: [vpc('vpc-a', { control: control('enforce') })],
      peeringConnections: [peering('pcx-1', 'vpc-a', 'vpc-z')],
    });
    expect(report.peerings[0]?.verdict).toBe('PEERING_NOT_APPLICABLE');
  });
});

describe('audit: Transit Gateways', () => {
  it('TGW_ENCRYPTION_DISABLED with every unmet precondition, and the attached VPCs', () => {
    const report = auditOne({
      transitGateways: [
        transitGateway('tgw-1', {
          encryptionSupport: 'disable',
          securityGroupReferencingSupport: true,
          multicastSupport: true,
          attachments: [
            vpcAttachment('tgw-attach-2', 'vpc-b'),
            vpcAttachment('tgw-attach-1', 'vpc-a'),
            vpcAttachment('tgw-attach-9', 'vpc-gone', 'deleted'),
            { attachmentId: 'tgw-attach-3', resourceType: 'connect' },
            { attachmentId: 'tgw-attach-4', resourceType: 'peering' },
            { attachmentId: 'tgw-attach-5', resourceType: 'network-function' },
            { attachmentId: 'tgw-attach-6', resourceType: 'vpn' },
          ],
        }),
      ],
    });
    const tgw = report.transitGateways[0];
    expect(tgw).toMatchObject({ verdict: 'TGW_ENCRYPTION_DISABLED', attachedVpcIds: ['vpc-a', 'vpc-b'] });
    expect(tgw?.unmetPreconditions).toEqual([
      'It has a Connect attachment (tgw-attach-3); remove it first.',
      'It has a peering attachment (tgw-attach-4); remove it first.',
      'It has a Network Firewall (network-function) attachment (tgw-attach-5); remove it first.',
      'Security group referencing is on; turn it off first.',
      'Multicast is on; turn it off first.',
    ]);
    expect(tgw?.reasons.join(' ')).toMatch(/bills every attached VPC \(2\)/);
  });

  it('TGW_ENCRYPTION_DISABLED with nothing in the way says it can be enabled', () => {
    const report = auditOne({ transitGateways: [transitGateway('tgw-1')] });
    expect(report.transitGateways[0]).toMatchObject({
      verdict: 'TGW_ENCRYPTION_DISABLED',
      unmetPreconditions: [],
    });
    expect(report.transitGateways[0]?.reasons.join(' ')).toMatch(/Nothing prevents enabling it/);
  });

  it('TGW_ENCRYPTION_DISABLED while disabling', () => {
    const report = auditOne({
      transitGateways: [transitGateway('tgw-1', { encryptionSupport: 'disabling' })],
    });
    expect(report.transitGateways[0]?.verdict).toBe('TGW_ENCRYPTION_DISABLED');
  });

  it('TGW_ENCRYPTION_ENABLING while enabling (up to 14 days)', () => {
    const report = auditOne({
      transitGateways: [
        transitGateway('tgw-1', { encryptionSupport: 'enabling', encryptionSupportMessage: 'wait' }),
      ],
    });
    expect(report.transitGateways[0]).toMatchObject({
      verdict: 'TGW_ENCRYPTION_ENABLING',
      unmetPreconditions: [],
    });
    expect(report.transitGateways[0]?.reasons).toContain('AWS says: wait');
  });

  it('TGW_ENCRYPTION_ENABLING for an unknown encryption-support state', () => {
    const report = auditOne({
      transitGateways: [transitGateway('tgw-1', { encryptionSupport: 'pending-ish' })],
    });
    expect(report.transitGateways[0]?.verdict).toBe('TGW_ENCRYPTION_ENABLING');
    expect(report.transitGateways[0]?.reasons.join(' ')).toMatch(/does not know/);
  });

  it('TGW_ENCRYPTION_ENABLED', () => {
    const report = auditOne({ transitGateways: [transitGateway('tgw-1', { encryptionSupport: 'enable' })] });
    expect(report.transitGateways[0]?.verdict).toBe('TGW_ENCRYPTION_ENABLED');
  });

  it('leaves out deleted Transit Gateways', () => {
    const report = auditOne({
      transitGateways: [transitGateway('tgw-1', { state: 'deleted' }), transitGateway('tgw-2')],
    });
    expect(report.transitGateways.map((t) => t.transitGatewayId)).toEqual(['tgw-2']);
  });
});

describe('audit: the report', () => {
  it('carries the snapshot identity and clock, sorted by id', () => {
    const report = auditOne({
      vpcs: [vpc('vpc-c'), vpc('vpc-a'), vpc('vpc-b')],
      peeringConnections: [peering('pcx-2', 'vpc-a', 'vpc-b'), peering('pcx-1', 'vpc-b', 'vpc-c')],
    });
    expect(report).toMatchObject({
      accountId: '111122223333',
      region: 'eu-west-1',
      takenAt: '2026-01-15T10:00:00.000Z',
    });
    expect(report.vpcs.map((v) => v.vpcId)).toEqual(['vpc-a', 'vpc-b', 'vpc-c']);
    expect(report.peerings.map((p) => p.peeringConnectionId)).toEqual(['pcx-1', 'pcx-2']);
  });

  it('an empty snapshot gives an empty report', () => {
    expect(auditOne({})).toMatchObject({
      vpcs: [],
      transitGateways: [],
      peerings: [],
      managedElsewhere: false,
    });
  });

  it('names long lists of blockers briefly', () => {
    const blockers = Array.from({ length: 12 }, (_, i) => blocker(`i-${String(i).padStart(2, '0')}`));
    const v = verdictOf({ vpcs: [vpc('vpc-a', { control: control('monitor'), blockers })] });
    expect(v.reasons.join(' ')).toMatch(/i-09 \(instance\) and 2 more/);
  });
});
