import { describe, expect, it } from 'vitest';
import { mayApprove } from '../../functions/domain/approvers.ts';
import { validatePolicy } from '../../functions/domain/policy.ts';

const HUB = '111111111111';
const ALICE = `arn:aws:sts::${HUB}:assumed-role/SecurityAdmin/alice`;

describe('mayApprove', () => {
  it('with no approvers listed, any principal of the hub account, and none of another', () => {
    expect(mayApprove(ALICE, HUB, undefined)).toMatchObject({ allowed: true });
    expect(mayApprove(`arn:aws:iam::${HUB}:user/bob`, HUB, [])).toMatchObject({ allowed: true });
    expect(mayApprove('arn:aws:iam::999999999999:user/mallory', HUB, undefined)).toEqual({
      allowed: false,
      reason:
        'arn:aws:iam::999999999999:user/mallory is an identity of account 999999999999; only principals of the hub account 111111111111 may answer approvals',
    });
  });

  it('another account stays refused even when the policy lists it', () => {
    expect(
      mayApprove('arn:aws:iam::999999999999:user/m', HUB, ['arn:aws:iam::999999999999:user/m']),
    ).toMatchObject({ allowed: false });
  });

  it('a listed role matches its sessions; patterns match with * and ?; anything else is refused', () => {
    expect(mayApprove(ALICE, HUB, [`arn:aws:iam::${HUB}:role/SecurityAdmin`])).toMatchObject({
      allowed: true,
    });
    expect(mayApprove(ALICE, HUB, [`arn:aws:iam::${HUB}:role/ops/SecurityAdmin`])).toMatchObject({
      allowed: true,
    });
    expect(mayApprove(ALICE, HUB, [`arn:aws:sts::${HUB}:assumed-role/Security*/*`])).toMatchObject({
      allowed: true,
    });
    expect(mayApprove(ALICE, HUB, [`arn:aws:sts::${HUB}:assumed-role/SecurityAdmin/al?ce`])).toMatchObject({
      allowed: true,
    });
    const refused = mayApprove(ALICE, HUB, [
      `arn:aws:iam::${HUB}:role/Other`,
      `arn:aws:iam::${HUB}:user/bob`,
    ]);
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.allowed ? '' : refused.reason).toContain("is not one of the policy's approval.approvers");
    expect(
      mayApprove(`arn:aws:iam::${HUB}:role/SecurityAdminX`, HUB, [`arn:aws:iam::${HUB}:role/SecurityAdmin`]),
    ).toMatchObject({ allowed: false });
  });

  it('a caller that is not a principal ARN is refused', () => {
    expect(mayApprove('alice', HUB, undefined)).toMatchObject({ allowed: false });
  });
});

describe('policy approval.approvers', () => {
  it('takes principal ARNs and patterns, and names the path of one that is not', () => {
    expect(
      validatePolicy({ version: 1, approval: { approvers: [`arn:aws:iam::${HUB}:role/SecurityAdmin`] } })
        .approval.approvers,
    ).toEqual([`arn:aws:iam::${HUB}:role/SecurityAdmin`]);
    expect(() => validatePolicy({ version: 1, approval: { approvers: ['alice@example.com'] } })).toThrow(
      /approval\.approvers\[0\]: an IAM principal ARN or pattern/,
    );
  });
});
