/**
 * PollTransitions: are the scope's encryption controls still moving? (AWS has no waiter or event for them.)
 * Once they have settled, a change of this iteration that landed somewhere else (enforce-failed…) is
 * recorded failed in the audit log (functions/adapters/transition-outcomes.ts).
 */
import { type Deps, deps } from '../adapters/deps.ts';
import { recordFailedTransitions } from '../adapters/transition-outcomes.ts';
import { readTransitions } from '../adapters/transitions.ts';
import { type StepInput, StepInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function pollTransitions(input: StepInput, d: Deps) {
  const ec2 = await d.ec2For(input.scope);
  const moving = await readTransitions(ec2, input.scope.vpcIds);
  if (!moving.settled) return moving;
  const ctx = { ec2, now: d.now, ...(d.actionPoll ? { poll: d.actionPoll } : {}) };
  const failed = await recordFailedTransitions(d, ctx, input.scope, input.iteration);
  return { ...moving, failedTransitions: failed.length };
}

export const handler = lambdaHandler('PollTransitions', StepInputSchema, (input) =>
  pollTransitions(input, deps()),
);
