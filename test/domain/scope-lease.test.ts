import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  followUpRun,
  isNothingPending,
  leaseSeconds,
  mergePending,
  NOTHING_PENDING,
  pendingOf,
  vpcIdsOf,
} from '../../functions/domain/scope-lease.ts';
import {
  EXECUTION_NAME_PATTERN,
  ExecutionInputSchema,
  LOOP_DEFAULTS,
  MAX_VPC_IDS,
} from '../../functions/domain/triggers.ts';

const ending = {
  runId: 'run-20261124T013000Z-1a2b3c4d',
  accountId: '111111111111',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::111111111111:role/vecguard-member',
  organizationalUnitIds: ['ou-ab12-prod0001', 'r-ab12'],
};
const settings = { policy: { approval: { timeoutMinutes: 120 } } };
const vpcId = fc.stringMatching(/^[0-9a-f]{8}$/).map((h) => `vpc-${h}`);

describe('followUpRun', () => {
  it('is the same run for the same ending run, whatever is pending: a retried Report starts no second', () => {
    const a = followUpRun(ending, { vpcIds: ['vpc-11111111'], wholeScope: false }, settings);
    const b = followUpRun(ending, { vpcIds: ['vpc-22222222'], wholeScope: false }, settings);
    expect(a.name).toBe(b.name);
    expect(a.input.runId).toBe(b.input.runId);
    expect(followUpRun({ ...ending, runId: 'run-other' }, NOTHING_PENDING, settings).name).not.toBe(a.name);
  });

  it('is a valid execution of the loop, for the pending VPCs, in the ending run’s account, Region and role', () => {
    fc.assert(
      fc.property(
        fc.array(vpcId, { maxLength: 300 }),
        fc.boolean(),
        fc.stringMatching(/^run-[A-Za-z0-9_-]{1,60}$/),
        (ids, whole, runId) => {
          const { input, name } = followUpRun(
            { ...ending, runId },
            { vpcIds: ids, wholeScope: whole },
            settings,
          );
          expect(ExecutionInputSchema.parse(input)).toEqual(input);
          expect(name).toMatch(EXECUTION_NAME_PATTERN);
          expect(input).toMatchObject({
            accountId: ending.accountId,
            region: ending.region,
            roleArn: ending.roleArn,
            organizationalUnitIds: ending.organizationalUnitIds,
            approvalTimeoutSeconds: 7200,
            ...LOOP_DEFAULTS,
          });
          const unique = new Set(ids);
          if (whole || unique.size > MAX_VPC_IDS) expect(input.vpcIds).toBeNull();
          else expect(input.vpcIds).toEqual([...unique].sort());
        },
      ),
    );
  });
});

describe('pending work', () => {
  it('merging loses no VPC and keeps a whole-scope request', () => {
    fc.assert(
      fc.property(fc.array(vpcId), fc.array(vpcId), fc.boolean(), fc.boolean(), (a, b, wa, wb) => {
        const merged = mergePending({ vpcIds: a, wholeScope: wa }, { vpcIds: b, wholeScope: wb });
        for (const id of [...a, ...b]) expect(merged.vpcIds).toContain(id);
        expect(merged.wholeScope).toBe(wa || wb);
      }),
    );
  });

  it('a run of the whole scope is whole-scope work; nothing pending is nothing', () => {
    expect(pendingOf(null)).toEqual({ vpcIds: [], wholeScope: true });
    expect(vpcIdsOf(pendingOf(['vpc-22222222', 'vpc-11111111']))).toEqual(['vpc-11111111', 'vpc-22222222']);
    expect(isNothingPending(NOTHING_PENDING)).toBe(true);
    expect(isNothingPending(pendingOf(null))).toBe(false);
  });
});

describe('leaseSeconds', () => {
  it('outlasts the longest run the settings allow: every iteration waiting out its approval and its polls', () => {
    const input = { ...LOOP_DEFAULTS, approvalTimeoutSeconds: 86_400 };
    const longest = input.maxIterations * (input.approvalTimeoutSeconds + input.pollSeconds * input.maxPolls);
    expect(leaseSeconds(input)).toBeGreaterThan(longest);
  });
});
