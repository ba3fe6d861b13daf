import { describe, expect, it } from 'vitest';
import { vpcOf } from '../../functions/domain/remediation-plan.ts';

describe('vpcOf: the VPC an action serves', () => {
  it('is the vpcId when the action names one, even when it changes another resource', () => {
    expect(vpcOf({ vpcId: 'vpc-a', resourceId: 'i-0123' })).toBe('vpc-a');
  });

  it('is the resource when the action names no VPC (it changes the VPC itself)', () => {
    expect(vpcOf({ resourceId: 'vpc-b' })).toBe('vpc-b');
    expect(vpcOf({ vpcId: undefined, resourceId: 'vpc-b' })).toBe('vpc-b');
  });
});
