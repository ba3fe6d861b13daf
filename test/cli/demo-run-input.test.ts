/**
 * The demo starts its runs the way a deployment does: every execution it runs was started by the on-event
 * handler, with exactly the input on-event builds for the event the demo delivered (docs/design.md "One way to
 * start a run").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSession } from '../../cli/demo/session.ts';
import type { StartExecutionClient } from '../../functions/adapters/executions.ts';
import type { OrganizationsReadClient } from '../../functions/adapters/organizations.ts';
import type { ScopeLeaseStore } from '../../functions/adapters/store/scope-leases.ts';
import { NOTHING_PENDING } from '../../functions/domain/scope-lease.ts';
import type { ExecutionInput } from '../../functions/domain/triggers.ts';
import { loadOnEventConfig, onEvent } from '../../functions/handlers/on-event.ts';
import { type LocalLoop, startLocalLoop } from '../../local/loop.ts';

let loop: LocalLoop;

beforeAll(async () => {
  loop = await startLocalLoop({
    scenario: 'default',
    policyFile: 'examples/vecguard.policy.yaml',
    speed: 600,
    approvalTimeoutMinutes: 10,
    durations: { tgwEncryptionMs: 10 * 60_000 },
  });
  await runSession(
    loop,
    { approve: 'none', accountId: '111111111111', region: 'us-east-1', policyHasTargets: false },
    { onProgress: () => {}, onRunsStarted: () => {}, onRunFinished: () => {} },
  );
});
afterAll(async () => {
  await loop?.stop();
});

/** What on-event asks Step Functions to start for `event`, with the configuration the demo's handler read. */
async function inputsOnEventBuilds(event: unknown): Promise<ExecutionInput[]> {
  const inputs: ExecutionInput[] = [];
  const sfn: StartExecutionClient = {
    send: async (command) => {
      inputs.push(JSON.parse(command.input.input ?? '{}') as ExecutionInput);
      return {
        executionArn: `arn:aws:states:us-east-1:111111111111:execution:x:${command.input.name}`,
        startDate: new Date(),
      };
    },
  };
  const organizations: OrganizationsReadClient = {
    send: () => Promise.reject(new Error('the example policy targets no OU: Organizations is never read')),
  };
  // Every scope free (the demo's own runs hold theirs): what on-event would start, not whom it would join.
  const leases = {
    claim: async () => ({ claimed: true, stale: NOTHING_PENDING }),
    abandon: async () => {},
  } as unknown as ScopeLeaseStore;
  const executionStatus = { send: async () => ({ status: 'RUNNING' as const }) };
  await onEvent(event, {
    sfn,
    executionStatus,
    organizations,
    leases,
    config: loadOnEventConfig(),
    clock: () => new Date(),
  });
  return inputs;
}

describe('the demo starts every run through on-event', () => {
  it('delivers the recorded CreateVpc and the schedule’s event, each starting runs', () => {
    const kinds = loop.deliveries.map((d) => (d.event as { 'detail-type': string })['detail-type']);
    expect(kinds).toEqual(['AWS API Call via CloudTrail', 'Scheduled Event']);
    expect(loop.deliveries.every((d) => d.result.outcome === 'started')).toBe(true);
  });

  it('runs exactly the executions on-event started, each with the input on-event builds for its event', async () => {
    const executions = loop.sandbox.stepFunctions.runner.executionsOf(loop.stateMachineArn);
    const started = loop.deliveries.flatMap((d) => (d.result.outcome === 'started' ? d.result.runs : []));
    expect(executions.map((e) => e.arn).sort()).toEqual(started.map((r) => r.executionArn).sort());
    for (const { event, result } of loop.deliveries) {
      const ran = (result.outcome === 'started' ? result.runs : []).map(
        (r) => executions.find((e) => e.arn === r.executionArn)?.input,
      );
      expect(ran).toEqual(await inputsOnEventBuilds(event));
    }
  });
});
