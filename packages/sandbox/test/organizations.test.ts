/**
 * The sandbox's AWS Organizations with the real OrganizationsClient: the tree as the List* calls walk it,
 * pages that the SDK's own paginators follow, and the errors Organizations answers — to an account outside
 * any organisation, to a member that is neither the management account nor a delegated administrator, for
 * ids it does not hold, for a bad token or page size. Plus the `organization:` section of scenario files.
 */
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  OrganizationsServiceException,
  paginateListAccountsForParent,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioOrganizationInput } from '../src/organizations/scenario.ts';
import { parseScenarioFile, ScenarioError } from '../src/scenarios/index.ts';
import { type OrganizationsHarness, startOrganizationsSandbox } from './organizations-harness.ts';

const MANAGEMENT = '111111111111';
const DELEGATED = '222222222222';
const MEMBER = '333333333333';
const OUTSIDER = '999999999999';
const ROOT = 'r-vg01';
const WORKLOADS = 'ou-vg01-workload';
const SANDBOX = 'ou-vg01-sandbox1';
/** Twenty-five accounts in one OU: two pages of Organizations' largest page (20). */
const MANY = Array.from({ length: 25 }, (_, i) => String(500_000_000_000 + i));

const organization: ScenarioOrganizationInput = {
  managementAccount: MANAGEMENT,
  delegatedAdministrators: [DELEGATED],
  rootId: ROOT,
  accounts: [DELEGATED],
  organizationalUnits: [
    {
      name: 'workloads',
      id: WORKLOADS,
      organizationalUnits: [
        { name: 'sandbox', id: SANDBOX, accounts: [MEMBER, { id: '444444444444', state: 'SUSPENDED' }] },
        { name: 'prod', accounts: MANY },
      ],
    },
  ],
};

describe('sandbox Organizations', () => {
  let h: OrganizationsHarness;
  const as = (accountId: string) => h.as(accountId);
  const refusal = async (p: Promise<unknown>) => {
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof OrganizationsServiceException))
      throw new Error(`expected a refusal, got ${String(error)}`);
    return {
      name: error.name,
      message: error.message,
      status: error.$metadata.httpStatusCode,
      reason: (error as { Reason?: string }).Reason,
    };
  };

  beforeAll(async () => {
    h = await startOrganizationsSandbox({ organization });
  });
  afterAll(() => h.stop());

  it('DescribeOrganization answers any member with the management account', async () => {
    for (const caller of [MANAGEMENT, MEMBER]) {
      const { Organization } = await as(caller).send(new DescribeOrganizationCommand({}));
      expect(Organization).toMatchObject({
        FeatureSet: 'ALL',
        MasterAccountId: MANAGEMENT,
        Arn: expect.stringMatching(/^arn:aws:organizations::111111111111:organization\/o-[a-z0-9]{10}$/),
      });
    }
  });

  it('the List* calls walk the tree the scenario wrote, with derived ids where it gave none', async () => {
    const org = as(MANAGEMENT);
    const { Roots } = await org.send(new ListRootsCommand({}));
    expect(Roots?.map((r) => [r.Id, r.Name])).toEqual([[ROOT, 'Root']]);
    const top = await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: ROOT }));
    expect(top.OrganizationalUnits?.map((o) => [o.Id, o.Name])).toEqual([[WORKLOADS, 'workloads']]);
    const below = await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: WORKLOADS }));
    const prod = h.emulator.ids['workloads/prod'];
    expect(prod).toMatch(/^ou-vg01-[0-9a-f]{8}$/);
    expect(below.OrganizationalUnits?.map((o) => o.Id)).toEqual([SANDBOX, prod]);
    const atRoot = await org.send(new ListAccountsForParentCommand({ ParentId: ROOT }));
    // The management account joins below the root when the scenario does not place it.
    expect(atRoot.Accounts?.map((a) => a.Id).sort()).toEqual([MANAGEMENT, DELEGATED]);
    const inSandbox = await org.send(new ListAccountsForParentCommand({ ParentId: SANDBOX }));
    expect(inSandbox.Accounts?.map((a) => [a.Id, a.State, a.Status])).toEqual([
      [MEMBER, 'ACTIVE', 'ACTIVE'],
      ['444444444444', 'SUSPENDED', 'SUSPENDED'],
    ]);
    expect(inSandbox.Accounts?.[0]?.JoinedTimestamp).toBeInstanceOf(Date);
    const children = await org.send(
      new ListChildrenCommand({ ParentId: WORKLOADS, ChildType: 'ORGANIZATIONAL_UNIT' }),
    );
    expect(children.Children).toEqual([
      { Id: SANDBOX, Type: 'ORGANIZATIONAL_UNIT' },
      { Id: prod, Type: 'ORGANIZATIONAL_UNIT' },
    ]);
  });

  it('ListParents climbs from an account to the root, one level a call', async () => {
    const org = as(DELEGATED);
    const up = async (id: string) => (await org.send(new ListParentsCommand({ ChildId: id }))).Parents;
    expect(await up(MEMBER)).toEqual([{ Id: SANDBOX, Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(await up(SANDBOX)).toEqual([{ Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(await up(WORKLOADS)).toEqual([{ Id: ROOT, Type: 'ROOT' }]);
  });

  it('pages at MaxResults, and the SDK’s paginator follows the tokens to every account', async () => {
    const org = as(MANAGEMENT);
    const prod = h.emulator.ids['workloads/prod'] as string;
    const first = await org.send(new ListAccountsForParentCommand({ ParentId: prod, MaxResults: 10 }));
    expect(first.Accounts).toHaveLength(10);
    expect(first.NextToken).toBeTruthy();
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateListAccountsForParent(
      { client: org, pageSize: 7 },
      { ParentId: prod },
    )) {
      pages.push(page.Accounts?.length ?? 0);
      seen.push(...(page.Accounts ?? []).map((a) => a.Id as string));
    }
    expect(pages).toEqual([7, 7, 7, 4]);
    expect(seen).toEqual(MANY);
    // Without MaxResults a page holds Organizations' largest, 20.
    const whole = await org.send(new ListAccountsCommand({}));
    expect(whole.Accounts).toHaveLength(20);
    const rest = await org.send(new ListAccountsCommand({ NextToken: whole.NextToken }));
    expect((whole.Accounts?.length ?? 0) + (rest.Accounts?.length ?? 0)).toBe(MANY.length + 4);
    expect(rest.NextToken).toBeUndefined();
  });

  it('refuses an account outside the organisation with AWSOrganizationsNotInUseException', async () => {
    expect(await refusal(as(OUTSIDER).send(new DescribeOrganizationCommand({})))).toMatchObject({
      name: 'AWSOrganizationsNotInUseException',
      status: 400,
      message: expect.stringMatching(/^Your account is not a member of an organization/),
    });
    expect((await refusal(as(OUTSIDER).send(new ListRootsCommand({})))).name).toBe(
      'AWSOrganizationsNotInUseException',
    );
  });

  it('refuses a member that is neither the management account nor a delegated administrator', async () => {
    expect(await refusal(as(MEMBER).send(new ListRootsCommand({})))).toMatchObject({
      name: 'AccessDeniedException',
      status: 400,
      message: expect.stringContaining(
        "organization's management account or by a member account that is a delegated administrator",
      ),
    });
    expect((await refusal(as(MEMBER).send(new ListParentsCommand({ ChildId: MEMBER })))).name).toBe(
      'AccessDeniedException',
    );
  });

  it('answers ids it does not hold with ParentNotFoundException and ChildNotFoundException', async () => {
    const org = as(MANAGEMENT);
    expect(
      (await refusal(org.send(new ListAccountsForParentCommand({ ParentId: 'ou-vg01-nosuchou' })))).name,
    ).toBe('ParentNotFoundException');
    expect((await refusal(org.send(new ListParentsCommand({ ChildId: OUTSIDER })))).name).toBe(
      'ChildNotFoundException',
    );
  });

  it('answers malformed input with InvalidInputException and its Reason', async () => {
    const org = as(MANAGEMENT);
    expect(await refusal(org.send(new ListParentsCommand({ ChildId: ROOT })))).toMatchObject({
      name: 'InvalidInputException',
      reason: 'INVALID_PATTERN',
    });
    expect(await refusal(org.send(new ListRootsCommand({ MaxResults: 21 })))).toMatchObject({
      name: 'InvalidInputException',
      reason: 'MAX_VALUE_EXCEEDED',
    });
    expect(await refusal(org.send(new ListRootsCommand({ NextToken: 'bm90IGEgdG9rZW4' })))).toMatchObject({
      name: 'InvalidInputException',
      reason: 'INVALID_NEXT_TOKEN',
    });
    // A token is good for the call and parent that issued it only.
    const prod = h.emulator.ids['workloads/prod'] as string;
    const { NextToken } = await org.send(new ListAccountsForParentCommand({ ParentId: prod, MaxResults: 1 }));
    expect(
      (await refusal(org.send(new ListAccountsForParentCommand({ ParentId: SANDBOX, NextToken })))).reason,
    ).toBe('INVALID_NEXT_TOKEN');
  });

  it('records every call in the call log as a read', async () => {
    const since = h.sandbox.calls.lastSeq;
    await as(MANAGEMENT).send(new ListRootsCommand({}));
    await refusal(as(MEMBER).send(new ListRootsCommand({})));
    expect(
      h.sandbox.calls
        .query({ service: 'organizations', sinceSeq: since })
        .map((c) => [c.action, c.accountId, c.mutating, c.errorCode]),
    ).toEqual([
      ['ListRoots', MANAGEMENT, false, undefined],
      ['ListRoots', MEMBER, false, 'AccessDeniedException'],
    ]);
  });

  it('the control API reads, replaces and removes the organisation', async () => {
    const control = (method: string, body?: unknown) =>
      fetch(`${h.sandbox.url}/_sandbox/organizations`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const before = await control('GET');
    expect(before.body.ids).toMatchObject({ root: ROOT, workloads: WORKLOADS, 'workloads/sandbox': SANDBOX });
    try {
      expect((await control('POST', { managementAccount: OUTSIDER })).status).toBe(201);
      expect((await as(OUTSIDER).send(new ListRootsCommand({}))).Roots).toHaveLength(1);
      expect((await refusal(as(MANAGEMENT).send(new ListRootsCommand({})))).name).toBe(
        'AWSOrganizationsNotInUseException',
      );
      expect((await control('DELETE')).body).toEqual({ organization: null });
      expect((await refusal(as(OUTSIDER).send(new ListRootsCommand({})))).name).toBe(
        'AWSOrganizationsNotInUseException',
      );
    } finally {
      h.emulator.load(organization);
    }
  });
});

describe('the organization section of a scenario file', () => {
  const scenario = (organizationYaml: string) =>
    parseScenarioFile(`accounts: []\norganization:\n${organizationYaml}`, 'test.yaml');

  it('is optional, and loads into the scenario when present', () => {
    expect(parseScenarioFile('accounts: []', 'a.yaml').organization).toBeUndefined();
    const loaded = scenario('  managementAccount: "111111111111"\n  organizationalUnits: [{ name: prod }]');
    expect(loaded.organization?.organizationalUnits[0]?.name).toBe('prod');
  });

  it('refuses what Organizations would, naming the path', () => {
    const problem = (yaml: string) => {
      try {
        scenario(yaml);
        return 'accepted';
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        return e.message;
      }
    };
    expect(problem('  managementAccount: "111111111111"\n  delegatedAdministrators: ["222222222222"]')).toBe(
      'test.yaml: organization.delegatedAdministrators[0]: 222222222222 is not an account of this organisation',
    );
    expect(
      problem(
        '  managementAccount: "111111111111"\n  rootId: r-vg01\n  organizationalUnits: [{ name: prod, id: ou-zz99-prod0001 }]',
      ),
    ).toBe("test.yaml: organization.organizationalUnits[0].id: an OU id embeds its root's: ou-vg01-…");
    expect(
      problem(
        '  managementAccount: "111111111111"\n  accounts: ["222222222222"]\n  organizationalUnits: [{ name: a, accounts: ["222222222222"] }]',
      ),
    ).toBe(
      'test.yaml: organization.organizationalUnits[0].accounts[0]: account 222222222222 is placed twice',
    );
    const deep = (n: number): string =>
      n === 0 ? '[]' : `[{ name: l${n}, organizationalUnits: ${deep(n - 1)} }]`;
    expect(problem(`  managementAccount: "111111111111"\n  organizationalUnits: ${deep(5)}`)).toBe(
      'accepted',
    );
    expect(problem(`  managementAccount: "111111111111"\n  organizationalUnits: ${deep(6)}`)).toMatch(
      /OUs nest at most 5 levels below the root/,
    );
  });
});
