/** PollTransitions: are the scope's encryption controls still moving? (AWS has no waiter or event for them.) */
import { type Deps, deps } from '../adapters/deps.ts';
import { readTransitions } from '../adapters/transitions.ts';
import { type StepInput, StepInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function pollTransitions(input: Pick<StepInput, 'scope'>, d: Deps) {
  return readTransitions(await d.ec2For(input.scope), input.scope.vpcIds);
}

export const handler = lambdaHandler('PollTransitions', StepInputSchema, (input) =>
  pollTransitions(input, deps()),
);
