/**
 * Whether an encryption control has settled. AWS offers no waiter and no state-change event for controls,
 * so the loop polls; anything not known to be settled (including a state string AWS adds later) counts
 * as still moving, which errs on the side of waiting.
 */
import type { EncryptionControl } from './model.ts';

const SETTLED_CONTROL_STATES: ReadonlySet<string> = new Set([
  'available',
  'monitor-failed',
  'enforce-failed',
  'delete-failed',
  'deleted',
]);
const SETTLED_EXCLUSION_STATES: ReadonlySet<string> = new Set(['enabled', 'disabled']);

export function controlSettled(control: Pick<EncryptionControl, 'state' | 'exclusions'>): boolean {
  return (
    SETTLED_CONTROL_STATES.has(control.state) &&
    Object.values(control.exclusions).every((e) => e === undefined || SETTLED_EXCLUSION_STATES.has(e.state))
  );
}
