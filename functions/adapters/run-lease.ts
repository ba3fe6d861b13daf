/**
 * The end of a run, for its scope's lease (docs/loop.md "One run per scope at a time"): Report and
 * FailureReport release the lease, or, when events named VPCs while the run went on, hand it to exactly one
 * follow-up run and start it. Safe to repeat: a retried Report finds the lease handed over by its own run
 * and starts the same follow-up again (same name: Step Functions answers "already exists").
 */
import { type EndingRun, followUpRun, leaseExpiry, type PendingWork } from '../domain/scope-lease.ts';
import type { RunSettings } from '../domain/triggers.ts';
import { InvalidInputError } from '../shared/errors.ts';
import { executionArnOf, type StartExecutionClient, startRun } from './executions.ts';
import type { ScopeLeaseStore } from './store/scope-leases.ts';

export type EndOfRun =
  | { readonly lease: 'released' | 'not-held' }
  | {
      readonly lease: 'handed-over';
      readonly followUp: {
        readonly runId: string;
        readonly executionArn: string;
        readonly vpcIds: readonly string[] | null;
      };
      readonly pending: PendingWork;
    };

export interface EndOfRunDeps {
  readonly leases: ScopeLeaseStore;
  readonly sfn: StartExecutionClient;
  /** Needed only when a follow-up starts; its absence then fails loudly. */
  readonly stateMachineArn: string | undefined;
  readonly settings: RunSettings;
  readonly now: () => Date;
}

export async function endOfRun(ending: EndingRun, d: EndOfRunDeps, attempt = 0): Promise<EndOfRun> {
  const released = await d.leases.release(ending, ending.runId);
  if (released.outcome === 'released') return { lease: 'released' };
  if (released.outcome === 'not-held') {
    const lease = released.lease;
    // This run handed over already (a retry of its Report): make sure the follow-up runs.
    if (lease?.handedOverBy === ending.runId) {
      const input = JSON.parse(lease.input) as Parameters<typeof startRun>[2];
      const arn = await startFollowUp(d, input, lease.executionName);
      return {
        lease: 'handed-over',
        followUp: { runId: lease.runId, executionArn: arn, vpcIds: input.vpcIds },
        pending: lease.pending,
      };
    }
    return { lease: 'not-held' };
  }
  const { lease } = released;
  const next = followUpRun(ending, lease.pending, d.settings);
  const stateMachineArn = requireStateMachineArn(d.stateMachineArn);
  const holder = {
    runId: next.input.runId,
    executionName: next.name,
    executionArn: executionArnOf(stateMachineArn, next.name),
    input: JSON.stringify(next.input),
    expiresAt: leaseExpiry(next.input, d.now()),
  };
  if (!(await d.leases.handOver(ending, ending.runId, holder, lease.pending, d.now()))) {
    // Lost the lease between the reads (expired and taken): whoever holds it now covers the scope.
    return attempt < 2 ? endOfRun(ending, d, attempt + 1) : { lease: 'not-held' };
  }
  const executionArn = await startFollowUp(d, next.input, next.name);
  return {
    lease: 'handed-over',
    followUp: { runId: next.input.runId, executionArn, vpcIds: next.input.vpcIds },
    pending: lease.pending,
  };
}

async function startFollowUp(
  d: EndOfRunDeps,
  input: Parameters<typeof startRun>[2],
  name: string,
): Promise<string> {
  const result = await startRun(d.sfn, requireStateMachineArn(d.stateMachineArn), input, name);
  return result.executionArn;
}

function requireStateMachineArn(arn: string | undefined): string {
  if (arn === undefined) {
    throw new InvalidInputError(
      'vecguard configuration: VECGUARD_STATE_MACHINE_ARN is not set: the function that ends a run starts its follow-up run when events named VPCs meanwhile; set it to the state machine ARN (the CDK stack sets it)',
    );
  }
  return arn;
}
