/** PollTransitions: are the scope's encryption controls still moving? (AWS has no waiter or event for them.) */
import {
  DescribeVpcEncryptionControlsCommand,
  type DescribeVpcEncryptionControlsResult,
} from '@aws-sdk/client-ec2';
import { controlOf } from '../adapters/inventory.ts';
import { allPages } from '../adapters/paging.ts';
import { EncryptionControlSchema } from '../domain/model.ts';
import { controlSettled } from '../domain/transitions.ts';
import { type Deps, deps } from './deps.ts';
import { type StepInput, StepInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function pollTransitions(input: Pick<StepInput, 'scope'>, d: Deps) {
  const { scope } = input;
  const ec2 = await d.ec2For(scope);
  const controls = await allPages(
    (NextToken) =>
      ec2.read<DescribeVpcEncryptionControlsResult>(
        new DescribeVpcEncryptionControlsCommand(
          scope.vpcIds ? { VpcIds: scope.vpcIds } : { MaxResults: 1000, NextToken },
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
    vpcIds: moving.slice(0, 20).map((m) => m.vpcId),
  };
}

export const handler = lambdaHandler('PollTransitions', StepInputSchema, (input) =>
  pollTransitions(input, deps()),
);
