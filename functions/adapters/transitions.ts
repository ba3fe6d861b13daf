/**
 * Are a scope's encryption controls still moving? AWS has no waiter and no state-change event for them
 * (docs/design.md, "Everything is asynchronous"), so the loop polls `DescribeVpcEncryptionControls`.
 */
import {
  DescribeVpcEncryptionControlsCommand,
  type DescribeVpcEncryptionControlsResult,
} from '@aws-sdk/client-ec2';
import { EncryptionControlSchema } from '../domain/model.ts';
import { controlSettled } from '../domain/transitions.ts';
import type { Ec2Gateway } from './ec2-gateway.ts';
import { controlOf } from './inventory.ts';
import { allPages } from './paging.ts';

export interface TransitionsInProgress {
  readonly settled: boolean;
  readonly transitioning: number;
  /** The first 20 VPCs still moving (a step output stays small). */
  readonly vpcIds: string[];
}

/** The controls of `vpcIds` (null: every VPC of the scope) that have not settled yet. */
export async function readTransitions(
  ec2: Ec2Gateway,
  vpcIds: readonly string[] | null,
): Promise<TransitionsInProgress> {
  const controls = await allPages(
    (NextToken) =>
      ec2.read<DescribeVpcEncryptionControlsResult>(
        new DescribeVpcEncryptionControlsCommand(
          vpcIds ? { VpcIds: [...vpcIds] } : { MaxResults: 1000, NextToken },
        ),
      ),
    (p) => p.VpcEncryptionControls,
  );
  const moving = controls
    .map((c) => ({ vpcId: c.VpcId, control: controlOf(c) }))
    .filter((c) => c.control !== null && !controlSettled(EncryptionControlSchema.parse(c.control)));
  return {
    settled: moving.length === 0,
    transitioning: moving.length,
    vpcIds: moving.slice(0, 20).flatMap((m) => (m.vpcId ? [m.vpcId] : [])),
  };
}
