import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASFF_LIMITS } from '../../functions/domain/asff.ts';
import { decodeFindingId, encodeFindingId, FINDING_ID_PREFIX } from '../../functions/domain/finding-id.ts';
import { CHECKS, findingId, findingResourceId } from '../../functions/domain/findings.ts';

const account = fc.stringMatching(/^\d{12}$/);
const region = fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1');
const check = fc.constantFrom(...Object.values(CHECKS));
const resourceId = fc.oneof(
  fc.stringMatching(/^(vpc|tgw|pcx)-[0-9a-f]{17}$/),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('#')),
);

describe('the finding-id codec', () => {
  it('decodes what it encodes, for every account, Region, check and resource id that fits', () => {
    fc.assert(
      fc.property(account, region, resourceId, check, (accountId, r, resource, c) => {
        const id = encodeFindingId({ accountId, region: r, resourceId: resource, check: c });
        expect(id.startsWith(FINDING_ID_PREFIX)).toBe(true);
        expect(decodeFindingId(id)).toEqual({ accountId, region: r, resourceId: resource, check: c });
      }),
    );
  });

  it('keeps an over-long resource id within the ASFF limit, and decodes it to its shortened form', () => {
    const id = encodeFindingId({
      accountId: '111111111111',
      region: 'us-east-1',
      resourceId: `pcx-${'a'.repeat(600)}`,
      check: CHECKS.peering,
    });
    expect(id.length).toBeLessThanOrEqual(ASFF_LIMITS.idLength);
    expect(decodeFindingId(id)).toMatchObject({ accountId: '111111111111', check: CHECKS.peering });
    expect(decodeFindingId(id)?.resourceId).toMatch(/^pcx-a+#/);
  });

  it('is the codec the findings builder writes and reads with', () => {
    const id = findingId('111111111111', 'us-east-1', 'vpc-0123456789abcdef0', CHECKS.vpc);
    expect(decodeFindingId(id)?.resourceId).toBe('vpc-0123456789abcdef0');
    expect(findingResourceId({ Id: id } as Parameters<typeof findingResourceId>[0])).toBe(
      'vpc-0123456789abcdef0',
    );
  });

  it('decodes nothing that is not a vecguard id', () => {
    for (const id of [
      '',
      'prowler/111111111111/us-east-1/vpc-1/x',
      'vecguard/111111111111/us-east-1',
      'vecguard/',
    ])
      expect(decodeFindingId(id), id).toBeUndefined();
  });
});
