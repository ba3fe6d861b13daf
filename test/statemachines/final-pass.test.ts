/**
 * The state machine's final pass, on the local runtime: an execution started by hand with one iteration (on-event
 * always asks for LOOP_DEFAULTS.maxIterations, which the default estate never uses up right after a change), so
 * that Report follows an iteration that applied changes and FinalInventory → FinalAudit → FinalFindings re-read
 * the estate first. This is a test of the ASL's branch, not of how runs start (test/cli/demo-run-input.test.ts).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { type ExecutionInput, ExecutionInputSchema, LOOP_DEFAULTS } from '../../functions/domain/triggers.ts';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, approver, byName, REGION, startLoop, stopLoopsAfterEach } from '../e2e/harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

describe('the iterations running out right after a change', () => {
  it('the final pass reads and audits the estate again, and Report reports what it stored', async () => {
    loop = await startLoop();
    const l = loop;
    // One iteration, so the run applies its approved actions and then has none left. on-event always asks for
    // LOOP_DEFAULTS.maxIterations, which the default estate never uses up right after applying; this input is
    // on-event's (the schedule's, for the hub's scope) with that one setting changed.
    const input: ExecutionInput = ExecutionInputSchema.parse({
      runId: 'run-final-pass',
      accountId: ACCOUNT,
      region: REGION,
      roleArn: null,
      vpcIds: null,
      organizationalUnitIds: [],
      ...LOOP_DEFAULTS,
      maxIterations: 1,
      approvalTimeoutSeconds: 86_400,
    });
    const entered: string[] = [];
    const stopListening = l.sandbox.stepFunctions.runner.onEvent((event) => {
      if (event.type === 'TaskStateEntered' && event.stateName) entered.push(event.stateName);
    });
    const stopApproving = approver(l, () => true);
    const { executionArn } = await l.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: l.stateMachineArn,
        name: 'final-pass',
        input: JSON.stringify(input),
      }),
    );
    const result = await l.wait(executionArn ?? '', 120_000);
    await stopApproving();
    stopListening();
    expect(result.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => s.startsWith('Final') || s === 'Report')).toEqual([
      'FinalInventory',
      'FinalAudit',
      'FinalFindings',
      'Report',
    ]);

    const run = { runId: input.runId, accountId: ACCOUNT, region: REGION };
    const before = await l.blobs.getBlob(run, 'audit', 0);
    const final = await l.blobs.getBlob(run, 'final', 1);
    const summary = await l.blobs.getBlob(run, 'report', 0);
    const verdictOf = (report: typeof before, name: string) =>
      report.vpcs.find((v) => v.name === name)?.verdict;
    // payments was ready in iteration 0 and enforced by its approved action (with the VpcPeering exclusion its
    // peer still needs after one iteration): only the final pass saw it so.
    expect(verdictOf(before, 'payments')).toBe('READY_TO_ENFORCE');
    expect(verdictOf(final, 'payments')).toBe('ENFORCED_WITH_EXCLUSIONS');
    expect(byName(summary).payments).toMatchObject({
      before: 'READY_TO_ENFORCE',
      after: 'ENFORCED_WITH_EXCLUSIONS',
    });
    expect(summary.vpcs.map((v) => [v.vpcId, v.after])).toEqual(final.vpcs.map((v) => [v.vpcId, v.verdict]));
    expect(summary.verdictsPerIteration).toHaveLength(2);
    expect(summary.findings?.imported).toBeGreaterThan(0);
    // FinalFindings published what the final audit says.
    const paymentsFinding = l.sandbox.securityHub
      .findings(ACCOUNT, REGION)
      .find((f) => f.Id?.endsWith(`/${byName(summary).payments?.vpcId}/vpc-encryption-enforced`));
    expect(paymentsFinding?.Compliance?.Status).toBe('PASSED');
  });
});
