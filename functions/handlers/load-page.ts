/** LoadPage: one page of the iteration's work groups, as small items for the Map. */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { page } from '../domain/work-groups.ts';
import { LoadPageInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function loadPage(
  input: { scope: Parameters<typeof runKey>[0]; iteration: number; page: number },
  d: Deps,
) {
  const stored = await d.blobs.getBlob(runKey(input.scope), 'plan', input.iteration);
  return {
    items: page(stored.groups, input.page).map((g) => ({
      groupId: g.groupId,
      autoCount: g.autoActionIds.length + g.preApprovedActionIds.length,
      // A dry run asks nobody (docs/loop.md): the plan blob keeps what would have been asked.
      approvalCount: d.dryRun ? 0 : g.approvalActionIds.length,
    })),
  };
}

export const handler = lambdaHandler('LoadPage', LoadPageInputSchema, (input) => loadPage(input, deps()));
