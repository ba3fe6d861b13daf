/**
 * One focused case per audit rule (functions/domain/audit-rules.ts), without a snapshot: the rule decides its
 * case, says NOT_APPLICABLE next to it, and the table gives that same verdict, so that removing a rule from
 * `VPC_RULES`, or inverting it, fails here. audit.test.ts covers the same verdicts end to end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockedInMonitor,
  controlInTransition,
  decideVerdict,
  driftedToMonitor,
  enforced,
  enforcedButBreached,
  exclusionsInTransition,
  exempt,
  managedElsewhere,
  NOT_APPLICABLE,
  readyToEnforce,
  transitionFailed,
  unmonitored,
  VPC_RULES,
  type VpcFacts,
  type VpcRule,
} from '../../functions/domain/audit-rules.ts';
import {
  type Blocker,
  CONTROL_STATES,
  EncryptionControlSchema,
  EXCLUSION_NAMES,
  EXCLUSION_STATES,
} from '../../functions/domain/model.ts';
import { VERDICT_KINDS } from '../../functions/domain/verdict.ts';
import { control as controlInput } from './fixtures.ts';

function control(...args: Parameters<typeof controlInput>) {
  return EncryptionControlSchema.parse(controlInput(...args));
}

/** A VPC the policy wants in enforce, with no control, no blockers and no history. */
function facts(init: Partial<VpcFacts> = {}): VpcFacts {
  return {
    managedElsewhere: false,
    accountMode: undefined,
    desired: { mode: 'enforce', source: 'defaults' },
    control: null,
    blockers: [],
    exclusions: { needed: [], refused: [], temporaryPeeringVia: [] },
    previous: undefined,
    ...init,
  };
}

const instanceBlocker: Blocker = {
  id: 'eni-0a',
  type: '',
  description: '',
  isExcludable: false,
  kind: 'instance',
};
const igwBlocker: Blocker = {
  id: 'igw-0a',
  type: '',
  description: '',
  isExcludable: true,
  kind: 'internet-gateway',
};

/** The rule decides `f` with `verdict`, and so does the table: the rule is in it, and nothing earlier wins. */
function expectDecides(rule: VpcRule, f: VpcFacts, verdict: string): string {
  const outcome = rule.decide(f);
  if (outcome === NOT_APPLICABLE) throw new Error(`${rule.id} does not apply`);
  expect(outcome).toMatchObject({ verdict });
  expect(decideVerdict(f)).toEqual(outcome);
  return outcome.reasons.join(' ');
}

describe('audit rules: one case each', () => {
  it('managed-elsewhere: a declarative policy owns the account, even over a VPC the policy exempts', () => {
    const f = facts({
      managedElsewhere: true,
      accountMode: 'attempt-enforce',
      control: control('monitor'),
      desired: { mode: 'ignore', source: 'tag:vecguard:ignore' },
    });
    expect(expectDecides(managedElsewhere, f, 'MANAGED_ELSEWHERE')).toMatch(/account mode attempt-enforce/);
    expect(managedElsewhere.decide(facts({ control: control('monitor') }))).toBe(NOT_APPLICABLE);
  });

  it('exempt: the policy ignores the VPC, even one without a control', () => {
    const f = facts({ desired: { mode: 'ignore', source: 'tag:vecguard:ignore' } });
    expect(expectDecides(exempt, f, 'EXEMPT')).toMatch(/tag:vecguard:ignore/);
    expect(exempt.decide(facts())).toBe(NOT_APPLICABLE);
  });

  it('unmonitored: no control, or a deleted one; a lost enforce is told, not called DRIFTED', () => {
    expectDecides(unmonitored, facts(), 'UNMONITORED');
    const lost = facts({ control: control('enforce', { state: 'deleted' }), previous: 'ENFORCED' });
    expect(expectDecides(unmonitored, lost, 'UNMONITORED')).toMatch(/has been deleted.*previous audit/);
    expect(unmonitored.decide(facts({ control: control('monitor') }))).toBe(NOT_APPLICABLE);
  });

  it('transition-failed: AWS refused the transition, and its StateMessage is passed on', () => {
    const f = facts({ control: control('monitor', { state: 'enforce-failed', stateMessage: 'ENI blocks' }) });
    expect(expectDecides(transitionFailed, f, 'TRANSITION_FAILED')).toMatch(/ENI blocks/);
    expect(transitionFailed.decide(facts({ control: control('monitor') }))).toBe(NOT_APPLICABLE);
  });

  it('control-in-transition: a known or unknown state that is not settled means wait', () => {
    expectDecides(
      controlInTransition,
      facts({ control: control('enforce', { state: 'creating' }) }),
      'TRANSITIONING',
    );
    const odd = facts({ control: control('monitor', { state: 'modify-in-progress' }) });
    expect(expectDecides(controlInTransition, odd, 'TRANSITIONING')).toMatch(/does not know/);
    for (const state of ['available', 'deleted', 'monitor-failed']) {
      expect(controlInTransition.decide(facts({ control: control('monitor', { state }) }))).toBe(
        NOT_APPLICABLE,
      );
    }
  });

  it('exclusions-in-transition: an available control whose exclusion is still enabling', () => {
    const f = facts({ control: control('enforce', { exclusions: { Lambda: 'enabling' } }) });
    expect(expectDecides(exclusionsInTransition, f, 'TRANSITIONING')).toMatch(/Lambda enabling/);
    const settled = facts({ control: control('enforce', { exclusions: { Lambda: 'enabled' } }) });
    expect(exclusionsInTransition.decide(settled)).toBe(NOT_APPLICABLE);
  });

  it('enforced-but-breached: a resource got in around enforce; DRIFTED only after an enforced audit', () => {
    const breached = facts({ control: control('enforce'), blockers: [instanceBlocker] });
    expect(expectDecides(enforcedButBreached, breached, 'BLOCKED')).toMatch(/eni-0a \(instance\)/);
    // The policy no longer wanting enforce does not hide it: the VPC was enforced and no longer is.
    const drifted = {
      ...breached,
      previous: 'ENFORCED' as const,
      desired: { mode: 'monitor' as const, source: 'x' },
    };
    expectDecides(enforcedButBreached, drifted, 'DRIFTED');
    expect(enforcedButBreached.decide(facts({ control: control('enforce') }))).toBe(NOT_APPLICABLE);
  });

  it('enforced: with or without exclusions, and a wish for monitor does not weaken it', () => {
    expectDecides(enforced, facts({ control: control('enforce') }), 'ENFORCED');
    const withIgw = facts({
      control: control('enforce', { exclusions: { InternetGateway: 'enabled' } }),
      desired: { mode: 'monitor', source: 'defaults' },
    });
    expect(expectDecides(enforced, withIgw, 'ENFORCED_WITH_EXCLUSIONS')).toMatch(/does not weaken/);
    expect(enforced.decide(facts({ control: control('monitor') }))).toBe(NOT_APPLICABLE);
    expect(enforced.decide(facts({ control: control('enforce'), blockers: [instanceBlocker] }))).toBe(
      NOT_APPLICABLE,
    );
  });

  it('drifted-to-monitor: was enforced, still wanted in enforce, back in monitor', () => {
    const f = facts({ control: control('monitor'), previous: 'ENFORCED_WITH_EXCLUSIONS' });
    expect(expectDecides(driftedToMonitor, f, 'DRIFTED')).toMatch(/can be restored/);
    const onPurpose = { ...f, desired: { mode: 'monitor' as const, source: 'defaults' } };
    expect(driftedToMonitor.decide(onPurpose)).toBe(NOT_APPLICABLE);
  });

  it('blocked-in-monitor: a blocker without an exclusion, or an exclusion the policy refuses', () => {
    expectDecides(
      blockedInMonitor,
      facts({ control: control('monitor'), blockers: [instanceBlocker] }),
      'BLOCKED',
    );
    const refused = facts({
      control: control('monitor'),
      blockers: [igwBlocker],
      exclusions: { needed: ['InternetGateway'], refused: ['InternetGateway'], temporaryPeeringVia: [] },
    });
    expect(expectDecides(blockedInMonitor, refused, 'BLOCKED')).toMatch(/does not accept/);
    expect(blockedInMonitor.decide(facts({ control: control('monitor') }))).toBe(NOT_APPLICABLE);
  });

  it('ready-to-enforce: in monitor, every blocker covered by an acceptable exclusion', () => {
    const covered = facts({
      control: control('monitor'),
      blockers: [igwBlocker],
      exclusions: { needed: ['InternetGateway'], refused: [], temporaryPeeringVia: [] },
    });
    expect(expectDecides(readyToEnforce, covered, 'READY_TO_ENFORCE')).toMatch(/InternetGateway/);
    expect(readyToEnforce.decide(facts({ control: control('monitor'), blockers: [instanceBlocker] }))).toBe(
      NOT_APPLICABLE,
    );
  });
});

describe('audit rules: the table', () => {
  it('names each rule once', () => {
    const ids = VPC_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a table that leaves a case open throws instead of guessing a verdict', () => {
    expect(() => decideVerdict(facts(), [exempt])).toThrow(/No audit rule applies/);
  });

  const LIFECYCLE = VPC_RULES.filter((r) => r !== managedElsewhere && r !== exempt);
  const arbControl = fc.option(
    fc.record({
      mode: fc.constantFrom('monitor' as const, 'enforce' as const),
      state: fc.constantFrom(...CONTROL_STATES, 'modify-in-progress', ' Available '),
      exclusions: fc.dictionary(fc.constantFrom(...EXCLUSION_NAMES), fc.constantFrom(...EXCLUSION_STATES)),
    }),
    { nil: null },
  );
  const arbFacts = fc.record({
    control: arbControl.map((c) => (c === null ? null : control(c.mode, c))),
    desired: fc.record({
      mode: fc.constantFrom('enforce' as const, 'monitor' as const),
      source: fc.constant('x'),
    }),
    blockers: fc.subarray([instanceBlocker, igwBlocker]),
    refused: fc.boolean(),
    previous: fc.option(fc.constantFrom(...VERDICT_KINDS), { nil: undefined }),
  });

  it('exactly one lifecycle rule applies to any control, so only precedence puts the first two first', () => {
    fc.assert(
      fc.property(arbFacts, ({ refused, ...init }) => {
        const f = facts({
          ...init,
          exclusions: {
            needed: ['InternetGateway'],
            refused: refused ? ['InternetGateway'] : [],
            temporaryPeeringVia: [],
          },
        });
        const applying = LIFECYCLE.filter((r) => r.decide(f) !== NOT_APPLICABLE).map((r) => r.id);
        expect(applying).toHaveLength(1);
      }),
    );
  });
});
