/**
 * The organisation an estate sits in, as far as a policy cares: roots, organizational units and accounts,
 * each with its parent. A policy target with `organizationalUnits` matches an account that sits anywhere
 * below one of them (functions/domain/policy.ts `targetMatches`), so what vecguard needs from AWS
 * Organizations is, per account, its **parent chain**: the OUs above it, nearest first, then the root.
 *
 * Ids follow AWS Organizations' patterns (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html):
 * a root is `r-` and 4–32 of `[0-9a-z]`; an OU is `ou-`, the root's 4–32, `-` and 8–32 more.
 * In the current release an account or OU has exactly one parent, so a chain is a path, never a tree.
 */
import { z } from 'zod';
import { AccountIdSchema } from './model.ts';

export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
export const ORGANIZATIONAL_UNIT_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;

export const RootIdSchema = z.string().regex(ROOT_ID_PATTERN, 'a root id (r-xxxx)');
export const OrganizationalUnitIdSchema = z
  .string()
  .regex(ORGANIZATIONAL_UNIT_ID_PATTERN, 'an OU id (ou-xxxx-yyyyyyyy)');
/** What a policy target may name, and what a parent chain holds: an OU or a root. */
export const PARENT_ID_PATTERN = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;
export const ParentIdSchema = z
  .string()
  .regex(PARENT_ID_PATTERN, 'an OU id (ou-xxxx-yyyyyyyy) or root id (r-xxxx)');

/**
 * Account states as Organizations reports them (`State`; the older `Status` has ACTIVE, SUSPENDED and
 * PENDING_CLOSURE). Kept as a string: an unknown state is not ACTIVE, and is never swept.
 */
export const ACTIVE_ACCOUNT_STATE = 'ACTIVE';

export const OrganizationTreeSchema = z
  .object({
    roots: z.array(z.object({ id: RootIdSchema, name: z.string().default('Root') })).min(1),
    organizationalUnits: z
      .array(z.object({ id: OrganizationalUnitIdSchema, name: z.string(), parentId: ParentIdSchema }))
      .default([]),
    accounts: z
      .array(
        z.object({
          id: AccountIdSchema,
          name: z.string().optional(),
          state: z.string().min(1),
          parentId: ParentIdSchema,
        }),
      )
      .default([]),
  })
  .superRefine((tree, ctx) => {
    const parents = new Set([...tree.roots.map((r) => r.id), ...tree.organizationalUnits.map((o) => o.id)]);
    const seen = new Set<string>();
    const unique = (id: string, path: PropertyKey[]) => {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path, message: `${id} appears twice` });
      seen.add(id);
    };
    tree.roots.forEach((r, i) => {
      unique(r.id, ['roots', i, 'id']);
    });
    tree.organizationalUnits.forEach((o, i) => {
      unique(o.id, ['organizationalUnits', i, 'id']);
      if (!parents.has(o.parentId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['organizationalUnits', i, 'parentId'],
          message: `${o.parentId} is no root or OU of this organisation`,
        });
      }
    });
    tree.accounts.forEach((a, i) => {
      unique(a.id, ['accounts', i, 'id']);
      if (!parents.has(a.parentId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', i, 'parentId'],
          message: `${a.parentId} is no root or OU of this organisation`,
        });
      }
    });
    // Every OU must reach a root: a cycle of OUs would make a chain endless.
    const parentOf = new Map(tree.organizationalUnits.map((o) => [o.id, o.parentId]));
    tree.organizationalUnits.forEach((o, i) => {
      const visited = new Set<string>();
      let at: string | undefined = o.id;
      while (at !== undefined && parentOf.has(at)) {
        if (visited.has(at)) {
          ctx.addIssue({
            code: 'custom',
            path: ['organizationalUnits', i, 'parentId'],
            message: `${o.id} is its own ancestor`,
          });
          return;
        }
        visited.add(at);
        at = parentOf.get(at);
      }
    });
  });
export type OrganizationTree = z.infer<typeof OrganizationTreeSchema>;
export type OrganizationTreeInput = z.input<typeof OrganizationTreeSchema>;
export type OrganizationAccount = OrganizationTree['accounts'][number];

interface TreeIndex {
  readonly parentOf: ReadonlyMap<string, string>;
  readonly accounts: readonly OrganizationAccount[];
  readonly chains: Map<string, readonly string[]>;
}

/** Lookups built once per tree object (trees are values: nothing here changes one). */
const indexes = new WeakMap<OrganizationTree, TreeIndex>();

function indexOf(tree: OrganizationTree): TreeIndex {
  let index = indexes.get(tree);
  if (!index) {
    const parentOf = new Map<string, string>();
    for (const ou of tree.organizationalUnits) parentOf.set(ou.id, ou.parentId);
    for (const account of tree.accounts) parentOf.set(account.id, account.parentId);
    index = { parentOf, accounts: tree.accounts, chains: new Map() };
    indexes.set(tree, index);
  }
  return index;
}

/**
 * The OUs above an account, nearest first, then its root: what a target's `organizationalUnits` is matched
 * against. An account the organisation does not hold has no chain (`[]`): no OU target matches it.
 */
export function parentChain(tree: OrganizationTree, accountId: string): readonly string[] {
  const index = indexOf(tree);
  const cached = index.chains.get(accountId);
  if (cached) return cached;
  const chain: string[] = [];
  // Bounded by the number of parents: a tree that skipped validation cannot make this loop forever.
  let at = index.parentOf.get(accountId);
  while (at !== undefined && !chain.includes(at) && chain.length <= index.parentOf.size) {
    chain.push(at);
    at = index.parentOf.get(at);
  }
  index.chains.set(accountId, chain);
  return chain;
}

/** The ACTIVE accounts that sit anywhere below one of `parentIds` (OUs or roots), in the tree's order. */
export function activeAccountsBelow(tree: OrganizationTree, parentIds: readonly string[]): string[] {
  const wanted = new Set(parentIds);
  return indexOf(tree)
    .accounts.filter(
      (a) => a.state === ACTIVE_ACCOUNT_STATE && parentChain(tree, a.id).some((p) => wanted.has(p)),
    )
    .map((a) => a.id);
}

/** The ids among `parentIds` that are no root or OU of the tree (a typo, or an OU since deleted). */
export function unknownParents(tree: OrganizationTree, parentIds: readonly string[]): string[] {
  const known = new Set([...tree.roots.map((r) => r.id), ...tree.organizationalUnits.map((o) => o.id)]);
  return [...new Set(parentIds)].filter((id) => !known.has(id));
}
