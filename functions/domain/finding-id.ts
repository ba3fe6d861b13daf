/**
 * The one codec of vecguard's Security Hub finding ids: `vecguard/<account>/<region>/<resource>/<check>`.
 * Deterministic, so that a re-import updates the finding (docs/design.md §4); written by the findings builder
 * and read back by the Security Hub custom action's trigger and by Publish findings, all through here.
 */
import { ASFF_LIMITS, boundedId } from './asff.ts';

/** Every vecguard finding Id starts with this; reconciliation never touches findings without it. */
export const FINDING_ID_PREFIX = 'vecguard/';

export interface FindingIdParts {
  readonly accountId: string;
  readonly region: string;
  /** As the inventory names it (`vpc-…`, `tgw-…`, `pcx-…`); digest-shortened when it was over-long. */
  readonly resourceId: string;
  readonly check: string;
}

/** The finding id for a resource and check; an over-long resource id is shortened with a digest. */
export function encodeFindingId(parts: FindingIdParts): string {
  const prefix = `${FINDING_ID_PREFIX}${parts.accountId}/${parts.region}/`;
  const suffix = `/${parts.check}`;
  const room = Math.max(ASFF_LIMITS.idLength - prefix.length - suffix.length, 32);
  return boundedId(`${prefix}${boundedId(parts.resourceId, room)}${suffix}`, ASFF_LIMITS.idLength);
}

/** The parts of a vecguard finding id; undefined for any other id. */
export function decodeFindingId(id: string): FindingIdParts | undefined {
  if (!id.startsWith(FINDING_ID_PREFIX)) return undefined;
  const parts = id.slice(FINDING_ID_PREFIX.length).split('/');
  if (parts.length < 4) return undefined;
  const [accountId = '', region = ''] = parts;
  return { accountId, region, resourceId: parts.slice(2, -1).join('/'), check: parts.at(-1) ?? '' };
}
