/**
 * The `organization:` section of a scenario file: the AWS Organization the sandbox's accounts sit in, written
 * as a tree by hand (YAML or JSON), and the flat model the Organizations emulator serves from it.
 *
 * ```yaml
 * organization:
 *   managementAccount: "111111111111"        # the hub: may read the organisation
 *   delegatedAdministrators: []               # member accounts that may read it too
 *   rootId: r-vg01                            # optional; derived from the management account
 *   accounts: ["555555555555"]                # directly below the root
 *   organizationalUnits:
 *     - name: workloads
 *       id: ou-vg01-workload                  # optional; derived from the OU's path
 *       organizationalUnits:
 *         - name: sandbox
 *           accounts: ["333333333333", { id: "444444444444", state: SUSPENDED }]
 * ```
 *
 * As in AWS: an OU id embeds its root's (`ou-<root>-<8–32>`), OUs nest at most five deep, sibling OUs have
 * distinct names, an account sits in one place, and the management account (below the root unless placed)
 * cannot be a delegated administrator of its own organisation.
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Id patterns as AWS Organizations documents them (API_ListParents, API_OrganizationalUnit): a root is `r-`
 * and 4–32 of `[0-9a-z]`; an OU is `ou-`, the root's 4–32, `-` and 8–32 more.
 */
export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
export const ORGANIZATIONAL_UNIT_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
export const PARENT_ID_PATTERN = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;

/** The organisation as a flat list of roots, OUs and accounts with their parents (the control API's view). */
export interface OrganizationTree {
  readonly roots: { readonly id: string; readonly name: string }[];
  readonly organizationalUnits: { readonly id: string; readonly name: string; readonly parentId: string }[];
  readonly accounts: {
    readonly id: string;
    readonly name?: string | undefined;
    readonly state: string;
    readonly parentId: string;
  }[];
}

const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit account id');
const Name = z.string().min(1).max(128);

export const ACCOUNT_STATES = [
  'ACTIVE',
  'SUSPENDED',
  'PENDING_CLOSURE',
  'PENDING_ACTIVATION',
  'CLOSED',
] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** Organizations nests OUs at most five levels below the root. */
export const MAX_OU_DEPTH = 5;

const ScenarioOrgAccountSchema = z.union([
  AccountId,
  z.strictObject({
    id: AccountId,
    name: Name.optional(),
    email: z.email().optional(),
    state: z.enum(ACCOUNT_STATES).default('ACTIVE'),
  }),
]);
type ScenarioOrgAccountInput = z.input<typeof ScenarioOrgAccountSchema>;
type ScenarioOrgAccount = z.output<typeof ScenarioOrgAccountSchema>;

export interface ScenarioOrganizationalUnitInput {
  name: string;
  id?: string | undefined;
  accounts?: ScenarioOrgAccountInput[] | undefined;
  organizationalUnits?: ScenarioOrganizationalUnitInput[] | undefined;
}
export interface ScenarioOrganizationalUnit {
  name: string;
  id?: string | undefined;
  accounts: ScenarioOrgAccount[];
  organizationalUnits: ScenarioOrganizationalUnit[];
}

export const ScenarioOrganizationalUnitSchema: z.ZodType<
  ScenarioOrganizationalUnit,
  ScenarioOrganizationalUnitInput
> = z.strictObject({
  name: Name,
  id: z.string().regex(ORGANIZATIONAL_UNIT_ID_PATTERN, 'an OU id (ou-xxxx-yyyyyyyy)').optional(),
  accounts: z.array(ScenarioOrgAccountSchema).default([]),
  get organizationalUnits() {
    return z.array(ScenarioOrganizationalUnitSchema).default([]);
  },
});

export const ScenarioOrganizationSchema = z
  .strictObject({
    /** `o-` and 10–32 of `[a-z0-9]`; derived from the management account when absent. */
    id: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, 'an organization id (o-xxxxxxxxxx)')
      .optional(),
    /** The account that owns the organisation: may read all of it (a tool that reads the whole organisation runs here). */
    managementAccount: AccountId,
    /** Member accounts registered as delegated administrators: may read the organisation too. */
    delegatedAdministrators: z.array(AccountId).default([]),
    rootId: z.string().regex(ROOT_ID_PATTERN, 'a root id (r-xxxx)').optional(),
    /** Accounts directly below the root. */
    accounts: z.array(ScenarioOrgAccountSchema).default([]),
    organizationalUnits: z.array(ScenarioOrganizationalUnitSchema).default([]),
  })
  .superRefine((org, ctx) => {
    const rootSuffix = (org.rootId ?? derivedRootId(org.managementAccount)).slice(2);
    const accounts = new Set<string>();
    const ous = new Set<string>();
    const visitAccounts = (list: readonly ScenarioOrgAccount[], path: PropertyKey[]) => {
      list.forEach((entry, i) => {
        const id = typeof entry === 'string' ? entry : entry.id;
        if (accounts.has(id)) {
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `account ${id} is placed twice` });
        }
        accounts.add(id);
      });
    };
    const visitOus = (
      list: readonly ScenarioOrganizationalUnit[],
      path: PropertyKey[],
      depth: number,
      namePath: string,
    ) => {
      const names = new Set<string>();
      list.forEach((ou, i) => {
        const at = [...path, i];
        if (depth > MAX_OU_DEPTH) {
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `OUs nest at most ${MAX_OU_DEPTH} levels below the root (Organizations' limit)`,
          });
        }
        if (names.has(ou.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'name'],
            message: `a sibling OU is named ${ou.name} too`,
          });
        }
        names.add(ou.name);
        const id = ou.id ?? derivedOuId(rootSuffix, `${namePath}${ou.name}`);
        if (ou.id !== undefined && !ou.id.startsWith(`ou-${rootSuffix}-`)) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'id'],
            message: `an OU id embeds its root's: ou-${rootSuffix}-…`,
          });
        }
        if (ous.has(id))
          ctx.addIssue({ code: 'custom', path: [...at, 'id'], message: `${id} appears twice` });
        ous.add(id);
        visitAccounts(ou.accounts, [...at, 'accounts']);
        visitOus(ou.organizationalUnits, [...at, 'organizationalUnits'], depth + 1, `${namePath}${ou.name}/`);
      });
    };
    visitAccounts(org.accounts, ['accounts']);
    visitOus(org.organizationalUnits, ['organizationalUnits'], 1, '');
    org.delegatedAdministrators.forEach((id, i) => {
      const problem =
        id === org.managementAccount
          ? 'the management account cannot be a delegated administrator of its own organisation'
          : accounts.has(id)
            ? undefined
            : `${id} is not an account of this organisation`;
      if (problem) ctx.addIssue({ code: 'custom', path: ['delegatedAdministrators', i], message: problem });
    });
  });
export type ScenarioOrganization = z.infer<typeof ScenarioOrganizationSchema>;
export type ScenarioOrganizationInput = z.input<typeof ScenarioOrganizationSchema>;

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export function derivedOrganizationId(managementAccount: string): string {
  return `o-${hex(`organization|${managementAccount}`, 10)}`;
}
export function derivedRootId(managementAccount: string): string {
  return `r-${hex(`root|${managementAccount}`, 4)}`;
}
/** `ou-<root suffix>-<8 hex of the OU's path of names>`: the same scenario always yields the same ids. */
export function derivedOuId(rootSuffix: string, path: string): string {
  return `ou-${rootSuffix}-${hex(`ou|${path}`, 8)}`;
}

// ---------------------------------------------------------------------------------------------------------
// The flat model the emulator serves

export interface OrgUnit {
  readonly id: string;
  readonly name: string;
  readonly parentId: string;
  /** Names from the root down, `/`-separated: `workloads/sandbox`. */
  readonly path: string;
}

export interface OrgAccount {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly state: AccountState;
  readonly parentId: string;
  readonly joinedMethod: 'CREATED' | 'INVITED';
}

export interface Organization {
  readonly id: string;
  readonly managementAccountId: string;
  readonly delegatedAdministrators: ReadonlySet<string>;
  readonly root: { readonly id: string; readonly name: string };
  /** In scenario order (depth first), which is the order the List* calls answer in. */
  readonly organizationalUnits: ReadonlyMap<string, OrgUnit>;
  readonly accounts: ReadonlyMap<string, OrgAccount>;
}

/** Flattens a validated `organization:` section. */
export function buildOrganization(input: ScenarioOrganizationInput): Organization {
  const org = ScenarioOrganizationSchema.parse(input);
  const rootId = org.rootId ?? derivedRootId(org.managementAccount);
  const ous = new Map<string, OrgUnit>();
  const accounts = new Map<string, OrgAccount>();
  const place = (list: readonly ScenarioOrgAccount[], parentId: string) => {
    for (const entry of list) {
      const a = typeof entry === 'string' ? { id: entry, state: 'ACTIVE' as const } : entry;
      accounts.set(a.id, {
        id: a.id,
        name: ('name' in a ? a.name : undefined) ?? (a.id === org.managementAccount ? 'management' : a.id),
        email: ('email' in a ? a.email : undefined) ?? `aws+${a.id}@example.com`,
        state: a.state,
        parentId,
        joinedMethod: a.id === org.managementAccount ? 'CREATED' : 'INVITED',
      });
    }
  };
  const walk = (list: readonly ScenarioOrganizationalUnit[], parentId: string, prefix: string) => {
    for (const ou of list) {
      const path = `${prefix}${ou.name}`;
      const id = ou.id ?? derivedOuId(rootId.slice(2), path);
      ous.set(id, { id, name: ou.name, parentId, path });
      place(ou.accounts, id);
      walk(ou.organizationalUnits, id, `${path}/`);
    }
  };
  place(org.accounts, rootId);
  walk(org.organizationalUnits, rootId, '');
  // The management account belongs to its organisation wherever the scenario forgot to put it.
  if (!accounts.has(org.managementAccount)) place([org.managementAccount], rootId);
  return {
    id: org.id ?? derivedOrganizationId(org.managementAccount),
    managementAccountId: org.managementAccount,
    delegatedAdministrators: new Set(org.delegatedAdministrators),
    root: { id: rootId, name: 'Root' },
    organizationalUnits: ous,
    accounts,
  };
}

/** Name → id: `root`, and each OU by its path of names (`workloads/sandbox`). */
export function organizationIds(org: Organization): Record<string, string> {
  return {
    root: org.root.id,
    ...Object.fromEntries([...org.organizationalUnits.values()].map((ou) => [ou.path, ou.id])),
  };
}

/** The organisation as roots, OUs and accounts with their parents, for tests and the control API. */
export function organizationTree(org: Organization): OrganizationTree {
  return {
    roots: [{ id: org.root.id, name: org.root.name }],
    organizationalUnits: [...org.organizationalUnits.values()].map((ou) => ({
      id: ou.id,
      name: ou.name,
      parentId: ou.parentId,
    })),
    accounts: [...org.accounts.values()].map((a) => ({
      id: a.id,
      name: a.name,
      state: a.state,
      parentId: a.parentId,
    })),
  };
}
