/**
 * What vecguard cannot do for you (RDS, Redshift, GWLB, Auto Scaling groups, refused exclusions…): the plan's
 * reason handed to a person. Never calls AWS, so it needs no IAM permission — the one kind allowed an empty
 * `permissions` list (asserted by name in the registry's tests) — and has nothing to undo.
 */
import { type ActionDefinition, outcomeFor } from './types.ts';

const KIND = 'manual-guidance';

export const manualGuidance: ActionDefinition<typeof KIND, null> = {
  kind: KIND,
  permissions: [],
  description: 'Tells a person what to do about what vecguard cannot change itself; calls nothing.',

  preconditions: async () => ({ status: 'ok', before: {}, live: null }),

  async apply(ctx, action) {
    const about = action.params.resourceIds?.length ? ` (about ${action.params.resourceIds.join(', ')})` : '';
    return outcomeFor(ctx, action)('guidance', `${action.reason}${about}`);
  },

  // Verify answers "has what apply did landed?"; guidance did nothing, so there is nothing to wait for. Whether a
  // person acted shows in the next audit, not here.
  verify: async () => ({
    status: 'done',
    message: 'Manual guidance: nothing was applied, so nothing is in transition.',
  }),

  undoUnavailable: 'Manual guidance changes nothing, so there is nothing to undo.',
};
