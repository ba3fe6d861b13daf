/**
 * Turn one exclusion off once nothing needs it (e.g. VpcPeering after both peers enforce), so that enforce
 * covers that path too (see exclusion-switch.ts). Disruptive: traffic that still relies on the path is cut.
 */
import { exclusionDefinition } from './exclusion-switch.ts';

export const disableExclusion = exclusionDefinition(
  'disable-exclusion',
  'Disables one VPC-level exclusion that nothing needs any more, so that enforce applies to that path too.',
);
