/** Turn one exclusion on so that enforce can let that path through unencrypted (see exclusion-switch.ts). */
import { exclusionDefinition } from './exclusion-switch.ts';

export const enableExclusion = exclusionDefinition(
  'enable-exclusion',
  'Enables one VPC-level exclusion (traffic on that path stays unencrypted by the VPC) so that enforce can proceed.',
);
