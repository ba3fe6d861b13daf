import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GATED_ACTION_KINDS } from '../../functions/domain/action-kinds.ts';
import { PolicyError } from '../../functions/domain/errors.ts';
import {
  DEFAULT_GATES,
  inMaintenanceWindow,
  MAX_CHANGES_HARD_LIMIT,
  monthlyControlCostUsd,
  POLICY_LIMITS,
  parsePolicy,
  parsePolicyDocument,
  policyWarnings,
  resolveVpcPolicy,
  type VpcScope,
  validatePolicy,
} from '../../functions/domain/policy.ts';

const scope = (over: Partial<VpcScope> = {}): VpcScope => ({
  accountId: '111111111111',
  region: 'us-east-1',
  organizationalUnitIds: [],
  tags: {},
  ...over,
});

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).problems;
  }
  throw new Error('expected a PolicyError');
}

describe('policy validation', () => {
  it('the shipped example policy is valid and gates every action behind approval', () => {
    const policy = parsePolicy(readFileSync('examples/vecguard.policy.yaml', 'utf8'), 'example');
    expect(policy.defaults.acceptableExclusions).toEqual(['InternetGateway', 'NatGateway']);
    for (const kind of GATED_ACTION_KINDS) expect(policy.defaults.actions[kind]).toBe('approval');
  });

  it('an empty policy gets safe defaults: nothing is auto, nothing is excluded', () => {
    const policy = validatePolicy({ version: 1 });
    const resolved = resolveVpcPolicy(policy, scope());
    expect(Object.values(resolved.gates)).not.toContain('auto');
    expect(resolved.acceptableExclusions).toEqual([]);
    expect(policy.dryRun).toBe(false);
    expect(DEFAULT_GATES['create-monitor-control']).toBe('approval');
  });

  it('names the path and the allowed values of a misspelt mode', () => {
    const problems = problemsOf(() =>
      parsePolicy('version: 1\ntargets:\n  - name: a\n    mode: enfroce\n', 'p.yaml'),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^targets\[0\]\.mode: .*allowed: "enforce", "monitor", "ignore"/);
  });

  it('names an unknown key with its full path', () => {
    const problems = problemsOf(() => validatePolicy({ version: 1, limits: { maxChangesPerRon: 3 } }));
    expect(problems).toEqual(['limits.maxChangesPerRon: unknown key; remove it or check its spelling']);
  });

  it('reports every problem at once, not only the first', () => {
    const problems = problemsOf(() =>
      validatePolicy({
        version: 2,
        defaults: { acceptableExclusions: ['Internet'] },
        targets: [{ name: 'x', mode: 'enforce', accounts: ['12345'] }],
      }),
    );
    expect(problems.some((p) => p.startsWith('version:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('defaults.acceptableExclusions[0]:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('targets[0].accounts[0]: an AWS account id is 12 digits'))).toBe(
      true,
    );
  });

  it('gives a line and column for YAML syntax errors', () => {
    const problems = problemsOf(() => parsePolicy('version: 1\ntargets: [\n', 'p.yaml'));
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses duplicate keys instead of silently keeping the last', () => {
    const problems = problemsOf(() => parsePolicy('version: 1\ndryRun: true\ndryRun: false\n'));
    expect(problems[0]).toMatch(/line 3/);
  });

  it('the error message starts with the source so a CI log line says which file', () => {
    expect(() => parsePolicy('version: 3', 'prod.yaml')).toThrow(/^prod\.yaml: version:/);
  });

  it('rejects an unknown time zone and a cloud-watch-logs flow log without a delivery role', () => {
    const problems = problemsOf(() =>
      validatePolicy({
        version: 1,
        maintenanceWindows: [{ start: '22:00', end: '04:00', timezone: 'Mars/Olympus' }],
        flowLogs: {
          destinationType: 'cloud-watch-logs',
          destination: 'arn:aws:logs:us-east-1:1:log-group:x',
        },
      }),
    );
    expect(problems).toContain(
      'maintenanceWindows[0].timezone: an IANA time zone such as UTC or Europe/Berlin',
    );
    expect(problems.some((p) => p.startsWith('flowLogs.deliverLogsPermissionArn:'))).toBe(true);
  });

  it('a JSON policy is accepted too', () => {
    expect(parsePolicy('{"version": 1, "dryRun": true}').dryRun).toBe(true);
  });
});

describe('change caps', () => {
  const allAuto = Object.fromEntries(GATED_ACTION_KINDS.map((k) => [k, 'auto']));

  it('caps a run at 25 changes and a sweep at 100 by default', () => {
    expect(validatePolicy({ version: 1 }).limits).toMatchObject({
      maxChangesPerRun: 25,
      maxChangesPerSweep: 100,
    });
  });

  it('refuses a cap above the hard maximum in one line that names the path and the limit', () => {
    for (const key of ['maxChangesPerRun', 'maxChangesPerSweep']) {
      const problems = problemsOf(() => validatePolicy({ version: 1, limits: { [key]: 100_000_000 } }));
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^limits\\.${key}: at most 1000 \\(a hard maximum\\)`)),
      ]);
    }
    expect(
      validatePolicy({ version: 1, limits: { maxChangesPerRun: MAX_CHANGES_HARD_LIMIT } }).limits
        .maxChangesPerRun,
    ).toBe(1000);
  });

  it('warns when no action waits for a person and a cap is above its default', () => {
    const warned = policyWarnings(
      validatePolicy({ version: 1, limits: { maxChangesPerRun: 1000 }, defaults: { actions: allAuto } }),
    );
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/every action runs without approval and limits\.maxChangesPerRun is 1000/);
    expect(
      policyWarnings(
        validatePolicy({ version: 1, limits: { maxChangesPerSweep: 101 }, defaults: { actions: allAuto } }),
      )[0],
    ).toMatch(/limits\.maxChangesPerSweep is 101/);
  });

  it('does not warn at the default caps, nor when a person approves something', () => {
    expect(policyWarnings(validatePolicy({ version: 1, defaults: { actions: allAuto } }))).toEqual([]);
    expect(policyWarnings(validatePolicy({ version: 1, limits: { maxChangesPerRun: 1000 } }))).toEqual([]);
    // A target that asks for approval somewhere is a person in the loop for its VPCs; the defaults are not.
    const withTarget = validatePolicy({
      version: 1,
      limits: { maxChangesPerRun: 1000 },
      defaults: { actions: allAuto },
      targets: [{ name: 'prod', mode: 'enforce', actions: { 'switch-to-enforce': 'approval' } }],
    });
    expect(policyWarnings(withTarget)).toEqual([]);
  });
});

describe('resolving the policy for one VPC', () => {
  const policy = validatePolicy({
    version: 1,
    defaults: {
      mode: 'monitor',
      acceptableExclusions: ['NatGateway'],
      actions: { 'create-flow-log': 'auto' },
    },
    targets: [
      {
        name: 'prod',
        vpcTags: { env: ['prod', 'production'] },
        regions: ['eu-west-1'],
        mode: 'enforce',
        actions: { 'enable-exclusion': 'off' },
      },
      { name: 'ou', organizationalUnits: ['ou-abcd-12345678'], mode: 'ignore', acceptableExclusions: [] },
      { name: 'acct', accounts: ['222222222222'], mode: 'enforce' },
    ],
  });

  it('first matching target wins and its gates override the defaults', () => {
    const r = resolveVpcPolicy(
      policy,
      scope({ region: 'eu-west-1', tags: { env: 'production' }, accountId: '222222222222' }),
    );
    expect(r).toMatchObject({ mode: 'enforce', source: 'target:prod', acceptableExclusions: ['NatGateway'] });
    expect(r.gates['enable-exclusion']).toBe('off');
    expect(r.gates['create-flow-log']).toBe('auto');
    expect(r.gates['switch-to-enforce']).toBe('approval');
  });

  it('a target does not match outside its Region, tags, OUs or accounts', () => {
    expect(resolveVpcPolicy(policy, scope({ tags: { env: 'prod' } })).source).toBe('defaults');
    expect(
      resolveVpcPolicy(policy, scope({ organizationalUnitIds: ['r-ab12', 'ou-abcd-12345678'] })).source,
    ).toBe('target:ou');
    expect(resolveVpcPolicy(policy, scope({ accountId: '222222222222' })).source).toBe('target:acct');
  });

  it('the vecguard:ignore tag opts a VPC out whatever the targets say, unless it says false', () => {
    const tags = { env: 'prod', 'vecguard:ignore': 'true' };
    expect(resolveVpcPolicy(policy, scope({ region: 'eu-west-1', tags })).mode).toBe('ignore');
    expect(resolveVpcPolicy(policy, scope({ tags: { 'vecguard:ignore': '' } })).mode).toBe('ignore');
    expect(resolveVpcPolicy(policy, scope({ tags: { 'vecguard:ignore': 'False' } })).mode).toBe('monitor');
  });

  it('the vecguard:mode tag asks for a mode; an unreadable value falls back to the targets', () => {
    expect(resolveVpcPolicy(policy, scope({ tags: { 'vecguard:mode': ' Enforce ' } }))).toMatchObject({
      mode: 'enforce',
      source: 'tag:vecguard:mode',
    });
    expect(resolveVpcPolicy(policy, scope({ tags: { 'vecguard:mode': 'max' } })).source).toBe('defaults');
  });

  it('a wildcard tag value matches any value but not a missing tag', () => {
    const p = validatePolicy({
      version: 1,
      targets: [{ name: 'any-team', vpcTags: { team: '*' }, mode: 'ignore' }],
    });
    expect(resolveVpcPolicy(p, scope({ tags: { team: 'x' } })).mode).toBe('ignore');
    expect(resolveVpcPolicy(p, scope()).mode).toBe('enforce');
  });

  it('prices one control per month from the policy', () => {
    expect(monthlyControlCostUsd(validatePolicy({ version: 1 }))).toBeCloseTo(109.5);
    expect(monthlyControlCostUsd(validatePolicy({ version: 1, pricing: { perVpcHourUsd: 0 } }))).toBe(0);
  });
});

describe('maintenance windows', () => {
  const at = (iso: string) => new Date(iso);
  const windows = (w: object[]) => validatePolicy({ version: 1, maintenanceWindows: w });

  it('no window means any time', () => {
    expect(inMaintenanceWindow(windows([]), at('2026-11-24T12:00:00Z'))).toBe(true);
  });

  it('a same-day window includes its start and excludes its end', () => {
    const p = windows([{ start: '09:00', end: '17:00' }]);
    expect(inMaintenanceWindow(p, at('2026-11-24T09:00:00Z'))).toBe(true);
    expect(inMaintenanceWindow(p, at('2026-11-24T16:59:00Z'))).toBe(true);
    expect(inMaintenanceWindow(p, at('2026-11-24T17:00:00Z'))).toBe(false);
  });

  it('a window spanning midnight belongs to the day it opened', () => {
    // 2026-11-24 is a Tuesday.
    const p = windows([{ days: ['tue'], start: '22:00', end: '04:00' }]);
    expect(inMaintenanceWindow(p, at('2026-11-24T23:30:00Z'))).toBe(true);
    expect(inMaintenanceWindow(p, at('2026-11-25T03:59:00Z'))).toBe(true);
    expect(inMaintenanceWindow(p, at('2026-11-24T03:00:00Z'))).toBe(false);
  });

  it('honours the window time zone', () => {
    const p = windows([{ start: '09:00', end: '10:00', timezone: 'Asia/Tokyo' }]);
    expect(inMaintenanceWindow(p, at('2026-11-24T00:30:00Z'))).toBe(true);
    expect(inMaintenanceWindow(p, at('2026-11-24T09:30:00Z'))).toBe(false);
  });

  it('for any instant, a window and its complement cover the day exactly once', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        (instant, startHour, length) => {
          const endHour = (startHour + length) % 24;
          const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
          const inside = inMaintenanceWindow(windows([{ start: hh(startHour), end: hh(endHour) }]), instant);
          const outside = inMaintenanceWindow(windows([{ start: hh(endHour), end: hh(startHour) }]), instant);
          return inside !== outside;
        },
      ),
    );
  });
});

/** A "billion laughs": each level aliases the previous one nine times, 9^9 strings once expanded. */
function aliasBomb(levels = 9): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('policy parse limits', () => {
  it('a YAML alias bomb is one clear PolicyError, not an unexpected error or minutes of expansion', () => {
    const problems = problemsOf(() => parsePolicy(aliasBomb(), 'bomb.yaml'));
    expect(problems).toEqual([expect.stringContaining('YAML aliases (*name) expand past')]);
    expect(problems[0]).toContain(`${POLICY_LIMITS.maxAliasCount} alias expansions`);
  });

  it('a few anchors shared between gates still parse', () => {
    const policy = parsePolicy(
      [
        'version: 1',
        'defaults:',
        '  actions: &gates { create-monitor-control: auto, switch-to-enforce: approval }',
        'targets:',
        '  - name: prod',
        '    mode: enforce',
        '    accounts: ["111111111111"]',
        '    actions: *gates',
        '  - name: dev',
        '    mode: monitor',
        '    accounts: ["222222222222"]',
        '    actions: *gates',
      ].join('\n'),
    );
    expect(policy.targets.map((t) => t.actions?.['create-monitor-control'])).toEqual(['auto', 'auto']);
  });

  it('a text over the size limit is refused before it is parsed, naming its size and the limit', () => {
    const text = `# ${'x'.repeat(POLICY_LIMITS.maxBytes)}\n`;
    expect(problemsOf(() => parsePolicy(text, 'big.yaml'))).toEqual([
      'the file is 1 MiB; a policy may be at most 1 MiB (a real one is a few KB): check that this is the policy file',
    ]);
    // Bytes, not characters: 400 Ki three-byte characters are 1.2 MiB.
    expect(problemsOf(() => parsePolicy(`# ${'€'.repeat(400 * 1024)}\n`))[0]).toContain('1.2 MiB');
    expect(parsePolicy(`version: 1\n# ${'x'.repeat(POLICY_LIMITS.maxBytes - 14)}\n`).defaults.mode).toBe(
      'enforce',
    );
  });

  it('nesting deep enough to exhaust the stack is one line, not a crash', () => {
    expect(problemsOf(() => parsePolicy('['.repeat(200_000)))).toEqual([
      expect.stringContaining('nests too deeply'),
    ]);
  });

  it('a cascade of syntax errors shows the first ten and how many more', () => {
    const problems = problemsOf(() => parsePolicy('[ '.repeat(100)));
    expect(problems).toHaveLength(11);
    expect(problems[10]).toMatch(/^… and \d+ more syntax errors/);
  });

  it('parsePolicyDocument gives the plain data within the limits, for readers that edit it (the demo)', () => {
    expect(parsePolicyDocument('approval: { timeoutMinutes: 5 }')).toEqual({
      approval: { timeoutMinutes: 5 },
    });
    expect(() => parsePolicyDocument(aliasBomb())).toThrow(PolicyError);
  });
});
