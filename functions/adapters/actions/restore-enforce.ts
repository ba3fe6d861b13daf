/**
 * Back to enforce after drift (someone or something moved an enforced VPC to monitor). Same switch as
 * `switch-to-enforce` (see enforce-mode.ts); a separate kind so that a policy can gate the two differently
 * and the audit log says which happened.
 */
import { enforceDefinition } from './enforce-mode.ts';

export const restoreEnforce = enforceDefinition(
  'restore-enforce',
  'Restores enforce on a VPC that was enforced and drifted back to monitor.',
);
