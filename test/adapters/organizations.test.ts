import type { ScenarioOrganizationInput } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOrganizationTree, readParentChain } from '../../functions/adapters/organizations.ts';
import { parentChain } from '../../functions/domain/organization.ts';
import { AccessError } from '../../functions/shared/errors.ts';
import { type OrganizationsHarness, startOrganizationsSandbox } from '../support/sandbox.ts';

const MANAGEMENT = '111111111111';
const DELEGATED = '222222222222';
const MEMBER = '333333333333';
const ROOT = 'r-vg01';
const WORKLOADS = 'ou-vg01-workload';
const SANDBOX = 'ou-vg01-sandbox1';
const DEEP = 'ou-vg01-deep0005';
const CONTEXT = { organizationalUnits: [SANDBOX] };

const organization: ScenarioOrganizationInput = {
  managementAccount: MANAGEMENT,
  delegatedAdministrators: [DELEGATED],
  rootId: ROOT,
  accounts: [DELEGATED, '555555555555', '666666666666'],
  organizationalUnits: [
    {
      name: 'workloads',
      id: WORKLOADS,
      organizationalUnits: [
        { name: 'sandbox', id: SANDBOX, accounts: [MEMBER, { id: '444444444444', state: 'SUSPENDED' }] },
        { name: 'prod', accounts: ['700000000001', '700000000002', '700000000003'] },
        { name: 'shared' },
        {
          name: 'l2',
          organizationalUnits: [
            {
              name: 'l3',
              organizationalUnits: [
                { name: 'l4', organizationalUnits: [{ name: 'l5', id: DEEP, accounts: ['800000000000'] }] },
              ],
            },
          ],
        },
      ],
    },
  ],
};

describe('the Organizations adapter', () => {
  let h: OrganizationsHarness;
  const as = (accountId: string) => h.as(accountId);
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the read to be refused');
      },
      (e: unknown) => e,
    );

  beforeAll(async () => {
    h = await startOrganizationsSandbox({ organization, pageSize: 2 });
  });
  afterAll(() => h.stop());

  it('reads the whole tree, every page, as the management account or a delegated administrator', async () => {
    const expected = h.emulator.tree();
    if (!expected) throw new Error('no organisation loaded');
    for (const reader of [MANAGEMENT, DELEGATED]) {
      const since = h.sandbox.calls.lastSeq;
      const tree = await readOrganizationTree(as(reader), CONTEXT);
      const byId = <T extends { id: string }>(list: readonly T[]) =>
        [...list].sort((a, b) => a.id.localeCompare(b.id));
      expect(tree.roots).toEqual(expected.roots);
      expect(byId(tree.organizationalUnits)).toEqual(byId(expected.organizationalUnits));
      expect(byId(tree.accounts)).toEqual(byId(expected.accounts));
      for (const a of expected.accounts) expect(parentChain(tree, a.id)).toEqual(parentChain(expected, a.id));
      // Pages of two: the root's four accounts and prod's three took more than one call each.
      const calls = h.sandbox.calls.query({ service: 'organizations', sinceSeq: since });
      const parents = expected.roots.length + expected.organizationalUnits.length;
      expect(calls.filter((c) => c.action === 'ListAccountsForParent').length).toBeGreaterThan(parents);
      expect(calls.every((c) => c.errorCode === undefined && !c.mutating)).toBe(true);
    }
  });

  it('climbs one account’s chain to the root, however deep, without reading the rest', async () => {
    const since = h.sandbox.calls.lastSeq;
    expect(await readParentChain(as(MANAGEMENT), MEMBER, CONTEXT)).toEqual([SANDBOX, WORKLOADS, ROOT]);
    expect(await readParentChain(as(MANAGEMENT), DELEGATED, CONTEXT)).toEqual([ROOT]);
    const deep = await readParentChain(as(MANAGEMENT), '800000000000', CONTEXT);
    expect(deep).toHaveLength(6);
    expect(deep[0]).toBe(DEEP);
    expect(deep.at(-1)).toBe(ROOT);
    expect(
      new Set(h.sandbox.calls.query({ service: 'organizations', sinceSeq: since }).map((c) => c.action)),
    ).toEqual(new Set(['ListParents']));
  });

  it('an account outside the organisation has no chain', async () => {
    expect(await readParentChain(as(MANAGEMENT), '999999999999', CONTEXT)).toEqual([]);
  });

  it('a member that may not read the organisation gets one line: why, from where, and the alternative', async () => {
    for (const read of [
      () => readOrganizationTree(as(MEMBER), CONTEXT),
      () => readParentChain(as(MEMBER), MEMBER, CONTEXT),
    ]) {
      const error = await failure(read());
      expect(error).toBeInstanceOf(AccessError);
      const e = error as AccessError;
      expect(e).toMatchObject({ service: 'organizations', code: 'AccessDeniedException', retryable: false });
      expect(e.message).not.toMatch(/\n/);
      expect(e.message).toMatch(
        /^organizations (ListRoots|ListParents) failed: AccessDeniedException: the policy targets organizational units \(ou-vg01-sandbox1\), so vecguard reads AWS Organizations, and the hub account may not read it: run it in the organization's management account or a delegated administrator account, .* or target accounts instead of OUs\. Organizations said: You don't have permissions/,
      );
    }
  });

  it('an account in no organisation gets the same kind of line, saying so', async () => {
    const error = (await failure(
      readOrganizationTree(as('999999999999'), { ...CONTEXT, reader: 'the account of these credentials' }),
    )) as AccessError;
    expect(error).toBeInstanceOf(AccessError);
    expect(error.code).toBe('AWSOrganizationsNotInUseException');
    expect(error.message).toContain('and the account of these credentials is in no organisation: run it in');
  });

  it('a throttled read stays a retryable AwsCallError, not an access problem', async () => {
    const fault = h.sandbox.faults.add({
      service: 'organizations',
      errorCode: 'TooManyRequestsException',
      status: 400,
      times: 1,
    });
    try {
      const error = (await failure(readOrganizationTree(as(MANAGEMENT), CONTEXT))) as AccessError;
      expect(error).not.toBeInstanceOf(AccessError);
      expect(error).toMatchObject({ code: 'TooManyRequestsException', retryable: true });
    } finally {
      h.sandbox.faults.remove(fault.id);
    }
  });
});
