/** Monitor → enforce, once nothing that cannot be excluded blocks the VPC (see enforce-mode.ts). */
import { enforceDefinition } from './enforce-mode.ts';

export const switchToEnforce = enforceDefinition(
  'switch-to-enforce',
  'Switches a VPC whose control is settled in monitor to enforce, relying only on exclusions already enabled.',
);
