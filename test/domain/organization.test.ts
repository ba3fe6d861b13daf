/**
 * The organisation model: parent chains, the accounts below an OU, what the schema refuses; and, over random
 * organisations, that an OU target matches an account exactly when the OU is above it, and that a sweep of
 * an OU target covers every active account below it and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activeAccountsBelow,
  type OrganizationTree,
  type OrganizationTreeInput,
  OrganizationTreeSchema,
  parentChain,
  unknownParents,
} from '../../functions/domain/organization.ts';
import {
  policyNeedsOrganization,
  resolveVpcPolicy,
  targetMatches,
  validatePolicy,
} from '../../functions/domain/policy.ts';
import { sweepTriggers, type Trigger } from '../../functions/domain/triggers.ts';

const ROOT = 'r-ab12';
const WORKLOADS = 'ou-ab12-workload';
const PROD = 'ou-ab12-prod0001';
const SANDBOX = 'ou-ab12-sandbox1';

const tree = OrganizationTreeSchema.parse({
  roots: [{ id: ROOT }],
  organizationalUnits: [
    { id: WORKLOADS, name: 'workloads', parentId: ROOT },
    { id: PROD, name: 'prod', parentId: WORKLOADS },
    { id: SANDBOX, name: 'sandbox', parentId: WORKLOADS },
  ],
  accounts: [
    { id: '111111111111', state: 'ACTIVE', parentId: ROOT },
    { id: '222222222222', state: 'ACTIVE', parentId: PROD },
    { id: '333333333333', state: 'SUSPENDED', parentId: SANDBOX },
  ],
});

describe('parentChain', () => {
  it('lists the OUs above an account, nearest first, then the root', () => {
    expect(parentChain(tree, '222222222222')).toEqual([PROD, WORKLOADS, ROOT]);
    expect(parentChain(tree, '111111111111')).toEqual([ROOT]);
  });

  it('is empty for an account the organisation does not hold', () => {
    expect(parentChain(tree, '999999999999')).toEqual([]);
  });

  it('is what makes an OU target match, however deep the account sits', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { mode: 'enforce' },
      targets: [{ name: 'workloads', organizationalUnits: [WORKLOADS], mode: 'monitor' }],
    });
    const at = (accountId: string) =>
      resolveVpcPolicy(policy, {
        accountId,
        region: 'us-east-1',
        organizationalUnitIds: parentChain(tree, accountId),
        tags: {},
      });
    expect(at('222222222222')).toMatchObject({ mode: 'monitor', source: 'target:workloads' });
    expect(at('111111111111')).toMatchObject({ mode: 'enforce', source: 'defaults' });
  });
});

describe('activeAccountsBelow', () => {
  it('finds active accounts anywhere below, and leaves suspended ones out', () => {
    expect(activeAccountsBelow(tree, [WORKLOADS])).toEqual(['222222222222']);
    expect(activeAccountsBelow(tree, [ROOT])).toEqual(['111111111111', '222222222222']);
    expect(activeAccountsBelow(tree, [SANDBOX])).toEqual([]);
  });
});

describe('unknownParents', () => {
  it('names the ids the organisation does not hold', () => {
    expect(unknownParents(tree, [PROD, 'ou-ab12-deleted1', ROOT, 'ou-ab12-deleted1'])).toEqual([
      'ou-ab12-deleted1',
    ]);
  });
});

describe('policyNeedsOrganization', () => {
  it('is true as soon as one target names OUs, even an ignore target', () => {
    expect(policyNeedsOrganization(validatePolicy({ version: 1 }))).toBe(false);
    expect(
      policyNeedsOrganization(
        validatePolicy({
          version: 1,
          targets: [{ name: 'a', accounts: ['222222222222'], mode: 'monitor' }],
        }),
      ),
    ).toBe(false);
    expect(
      policyNeedsOrganization(
        validatePolicy({
          version: 1,
          targets: [{ name: 'lab', organizationalUnits: [SANDBOX], mode: 'ignore' }],
        }),
      ),
    ).toBe(true);
  });
});

describe('OrganizationTreeSchema', () => {
  const base: OrganizationTreeInput = {
    roots: [{ id: ROOT }],
    organizationalUnits: [{ id: PROD, name: 'prod', parentId: ROOT }],
    accounts: [{ id: '222222222222', state: 'ACTIVE', parentId: PROD }],
  };
  const problems = (input: OrganizationTreeInput) => {
    const r = OrganizationTreeSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a consistent tree', () => {
    expect(problems(base)).toEqual([]);
  });

  it('refuses a parent it does not hold, naming the path', () => {
    expect(
      problems({ ...base, accounts: [{ id: '222222222222', state: 'ACTIVE', parentId: SANDBOX }] }),
    ).toEqual([`accounts.0.parentId: ${SANDBOX} is no root or OU of this organisation`]);
  });

  it('refuses an id twice and a cycle of OUs', () => {
    expect(
      problems({
        ...base,
        accounts: [...(base.accounts ?? []), { id: '222222222222', state: 'ACTIVE', parentId: ROOT }],
      }),
    ).toEqual(['accounts.1.id: 222222222222 appears twice']);
    expect(
      problems({
        ...base,
        organizationalUnits: [
          { id: PROD, name: 'prod', parentId: SANDBOX },
          { id: SANDBOX, name: 'sandbox', parentId: PROD },
        ],
      }),
    ).toEqual([
      `organizationalUnits.0.parentId: ${PROD} is its own ancestor`,
      `organizationalUnits.1.parentId: ${SANDBOX} is its own ancestor`,
    ]);
  });

  it('refuses ids that are not Organizations ids', () => {
    expect(problems({ ...base, roots: [{ id: 'root' }] })[0]).toMatch(/^roots\.0\.id: a root id/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties over random organisations

const STATES = ['ACTIVE', 'ACTIVE', 'ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE'] as const;

/**
 * A random organisation: OU i hangs below the root or an earlier OU (so the tree is acyclic by
 * construction), each account below the root or any OU, in a random state.
 */
const arbTree: fc.Arbitrary<OrganizationTree> = fc
  .record({
    ouParents: fc.array(fc.nat(), { maxLength: 12 }),
    accounts: fc.array(fc.record({ parent: fc.nat(), state: fc.constantFrom(...STATES) }), {
      maxLength: 16,
    }),
  })
  .map(({ ouParents, accounts }) => {
    const ouId = (i: number) => `ou-ab12-${String(i).padStart(8, '0')}`;
    const parentAmong = (n: number, pick: number) =>
      pick % (n + 1) === 0 ? ROOT : ouId((pick % (n + 1)) - 1);
    return OrganizationTreeSchema.parse({
      roots: [{ id: ROOT }],
      organizationalUnits: ouParents.map((pick, i) => ({
        id: ouId(i),
        name: `ou${i}`,
        parentId: parentAmong(i, pick),
      })),
      accounts: accounts.map((a, i) => ({
        id: String(100_000_000_000 + i),
        state: a.state,
        parentId: parentAmong(ouParents.length, a.parent),
      })),
    });
  });

/** The oracle: everything below `id`, found by walking down from it (parentChain walks up). */
function below(t: OrganizationTree, id: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const c of [...t.organizationalUnits, ...t.accounts]) {
    children.set(c.parentId, [...(children.get(c.parentId) ?? []), c.id]);
  }
  const found = new Set<string>();
  const stack = [...(children.get(id) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    found.add(next);
    stack.push(...(children.get(next) ?? []));
  }
  return found;
}

const parentsOf = (t: OrganizationTree) => [ROOT, ...t.organizationalUnits.map((o) => o.id)];

describe('properties of OU targets over random organisations', () => {
  it('an account matches an OU target exactly when the OU is above it', () => {
    fc.assert(
      fc.property(arbTree, fc.nat(), (t, pick) => {
        const parents = parentsOf(t);
        const ou = parents[pick % parents.length] as string;
        const target = validatePolicy({
          version: 1,
          targets: [{ name: 't', organizationalUnits: [ou], mode: 'monitor' }],
        }).targets[0];
        if (!target) throw new Error('no target');
        const under = below(t, ou);
        for (const account of t.accounts) {
          const matches = targetMatches(target, {
            accountId: account.id,
            region: 'us-east-1',
            organizationalUnitIds: parentChain(t, account.id),
            tags: {},
          });
          expect(matches).toBe(under.has(account.id));
        }
      }),
    );
  });

  it('a chain climbs one parent at a time to the root, and never repeats', () => {
    fc.assert(
      fc.property(arbTree, (t) => {
        const parentOf = new Map([...t.organizationalUnits, ...t.accounts].map((c) => [c.id, c.parentId]));
        for (const account of t.accounts) {
          const chain = parentChain(t, account.id);
          expect(chain.at(-1)).toBe(ROOT);
          expect(new Set(chain).size).toBe(chain.length);
          let at = account.id;
          for (const id of chain) {
            expect(parentOf.get(at)).toBe(id);
            at = id;
          }
        }
      }),
    );
  });

  it('a sweep of an OU target covers every active account below it, and no other account', () => {
    const sweep: Trigger = {
      accountId: '999999999999',
      region: 'us-east-1',
      vpcIds: null,
      reason: 'scheduled sweep',
      source: 'schedule',
      eventId: 'sweep',
      time: '2026-11-24T01:30:00Z',
    };
    fc.assert(
      fc.property(arbTree, fc.nat(), (t, pick) => {
        const parents = parentsOf(t);
        const ou = parents[pick % parents.length] as string;
        const policy = validatePolicy({
          version: 1,
          defaults: { mode: 'ignore' },
          targets: [{ name: 't', organizationalUnits: [ou], regions: ['eu-west-1'], mode: 'enforce' }],
        });
        const swept = new Set(sweepTriggers(sweep, policy, t).map((s) => s.accountId));
        const under = below(t, ou);
        const expected = t.accounts.filter((a) => a.state === 'ACTIVE' && under.has(a.id)).map((a) => a.id);
        expect(swept).toEqual(new Set(expected));
      }),
    );
  });
});
