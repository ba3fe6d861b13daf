/**
 * AWS Organizations, read only: where the estate's accounts sit, for policies whose targets name OUs
 * (functions/domain/policy.ts `policyNeedsOrganization`). The only code that calls Organizations.
 *
 * - `readOrganizationTree`: the whole organisation — ListRoots, then for each root and OU,
 *   ListOrganizationalUnitsForParent and ListAccountsForParent, every page — for a sweep, which must know
 *   every account below each OU target.
 * - `readParentChain`: one account's OUs and root, climbing with ListParents (one call a level, at most six) —
 *   for an event or a scan that concerns one account, so that it does not read the whole organisation.
 *
 * Organizations answers these only to the management account or a delegated administrator; anyone else gets
 * AccessDeniedException, and an account outside any organisation AWSOrganizationsNotInUseException. Both become
 * an `AccessError` whose one line says why Organizations is read, from where it must be readable, and the
 * alternative: retrying cannot help, a person must move the hub or change the policy.
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html
 * https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 */
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  type ListParentsCommandOutput,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  type OrganizationTree,
  type OrganizationTreeInput,
  OrganizationTreeSchema,
} from '../domain/organization.ts';
import { AccessError, type AwsCallError, toAwsCallError } from '../shared/errors.ts';
import { allPages } from './paging.ts';

/**
 * The Organizations client of a Lambda container. Organizations is global (one endpoint per partition) and
 * slow to recover from throttling: it retries patiently.
 */
export function organizationsClient(): OrganizationsClient {
  return new OrganizationsClient({ retryMode: 'adaptive', maxAttempts: 8 });
}

/** The client this adapter sends with: an `OrganizationsClient` (its `send` is all it uses). */
export type OrganizationsReadClient = Pick<OrganizationsClient, 'send'>;

export interface OrganizationReadContext {
  /** The OU and root ids the policy names: the reason Organizations is read, for the error. */
  readonly organizationalUnits: readonly string[];
  /** Who reads, for the error: default "the hub account". */
  readonly reader?: string;
}

/** Organizations' largest page. */
const PAGE = 20;
/** A chain is at most five OUs and the root; a longer climb means an answer that makes no sense. */
const MAX_CHAIN = 6;

/** Codes that mean "this account may not read the organisation": a person must act. */
const REFUSED = new Set(['AccessDeniedException', 'AccessDenied', 'AWSOrganizationsNotInUseException']);

/**
 * What a refused read becomes, in one line: why vecguard reads Organizations, from where it must be readable,
 * what to do instead, and Organizations' own words.
 */
function organizationsError(error: unknown, action: string, context: OrganizationReadContext): AwsCallError {
  const wrapped = toAwsCallError(error, 'organizations', action);
  if (!REFUSED.has(wrapped.code)) return wrapped;
  const reader = context.reader ?? 'the hub account';
  const ous = context.organizationalUnits.join(', ');
  const said = (error instanceof Error ? error.message : String(error)).replace(/\s*[\r\n]+\s*/g, ' ').trim();
  const where =
    wrapped.code === 'AWSOrganizationsNotInUseException'
      ? `${reader} is in no organisation`
      : `${reader} may not read it`;
  return new AccessError(
    'organizations',
    action,
    wrapped.code,
    `the policy targets organizational units (${ous}), so vecguard reads AWS Organizations, and ${where}: ` +
      `run it in the organization's management account or a delegated administrator account, allowed ` +
      `organizations:ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent and ListParents ` +
      `(docs/deploy.md), or target accounts instead of OUs. Organizations said: ${said}`,
    { cause: error },
  );
}

async function call<T>(action: string, context: OrganizationReadContext, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw organizationsError(error, action, context);
  }
}

/** The whole organisation: its roots, every OU with its parent, every account with its parent and state. */
export async function readOrganizationTree(
  client: OrganizationsReadClient,
  context: OrganizationReadContext,
): Promise<OrganizationTree> {
  const roots = await allPages(
    (NextToken) =>
      call('ListRoots', context, () => client.send(new ListRootsCommand({ MaxResults: PAGE, NextToken }))),
    (p) => p.Roots,
  );
  const tree: Required<OrganizationTreeInput> = {
    roots: roots.filter((r) => r.Id).map((r) => ({ id: r.Id as string, name: r.Name ?? 'Root' })),
    organizationalUnits: [],
    accounts: [],
  };
  // Breadth first; a parent's OUs and accounts are read together, parents one after another (Organizations'
  // request rate is low, and a sweep has a minute).
  const parents = tree.roots.map((r) => r.id);
  for (let i = 0; i < parents.length; i++) {
    const parentId = parents[i] as string;
    const [ous, accounts] = await Promise.all([
      allPages(
        (NextToken) =>
          call('ListOrganizationalUnitsForParent', context, () =>
            client.send(
              new ListOrganizationalUnitsForParentCommand({
                ParentId: parentId,
                MaxResults: PAGE,
                NextToken,
              }),
            ),
          ),
        (p) => p.OrganizationalUnits,
      ),
      allPages(
        (NextToken) =>
          call('ListAccountsForParent', context, () =>
            client.send(
              new ListAccountsForParentCommand({ ParentId: parentId, MaxResults: PAGE, NextToken }),
            ),
          ),
        (p) => p.Accounts,
      ),
    ]);
    for (const ou of ous) {
      if (!ou.Id) continue;
      tree.organizationalUnits.push({ id: ou.Id, name: ou.Name ?? ou.Id, parentId });
      parents.push(ou.Id);
    }
    for (const account of accounts) {
      if (!account.Id) continue;
      tree.accounts.push({
        id: account.Id,
        ...(account.Name ? { name: account.Name } : {}),
        // `State` replaces `Status` (retired 2026-09-09); an account with neither is not ACTIVE.
        state: account.State ?? account.Status ?? 'UNKNOWN',
        parentId,
      });
    }
  }
  return OrganizationTreeSchema.parse(tree);
}

/**
 * One account's parent chain: its OUs nearest first, then the root. An account outside the organisation
 * (ChildNotFoundException: e.g. a standalone account forwarding its events) has none: `[]`.
 */
export async function readParentChain(
  client: OrganizationsReadClient,
  accountId: string,
  context: OrganizationReadContext,
): Promise<string[]> {
  const chain: string[] = [];
  let childId = accountId;
  while (chain.length < MAX_CHAIN) {
    let page: ListParentsCommandOutput;
    try {
      page = await client.send(new ListParentsCommand({ ChildId: childId }));
    } catch (error) {
      if ((error as { name?: string }).name === 'ChildNotFoundException' && childId === accountId) return [];
      throw organizationsError(error, 'ListParents', context);
    }
    // In the current release a child has exactly one parent.
    const parent = page.Parents?.[0];
    if (!parent?.Id) break;
    chain.push(parent.Id);
    if (parent.Type === 'ROOT') return chain;
    childId = parent.Id;
  }
  throw organizationsError(
    Object.assign(new Error(`the parents of ${accountId} do not end at a root: ${chain.join(' → ')}`), {
      name: 'IncompleteResponse',
    }),
    'ListParents',
    context,
  );
}
