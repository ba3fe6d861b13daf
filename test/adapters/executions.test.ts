/**
 * startRun against the sandbox's Step Functions (the real SFNClient over HTTP): a new name starts an
 * execution with the loop's input; the same name again is a duplicate, reported as success; a missing state
 * machine is an AwsCallError naming the service, the action and AWS's code.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionArnOf, startRun } from '../../functions/adapters/executions.ts';
import type { ExecutionInput } from '../../functions/domain/triggers.ts';
import { AwsCallError } from '../../functions/shared/errors.ts';

const PASS_MACHINE = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } });

const input: ExecutionInput = {
  runId: 'run-20261124T013000Z-1a2b3c4d',
  accountId: '111111111111',
  region: 'us-east-1',
  roleArn: null,
  vpcIds: ['vpc-0a1b2c3d4e5f60718'],
  organizationalUnitIds: [],
  sweepId: null,
  maxIterations: 4,
  pollSeconds: 30,
  maxPolls: 40,
  approvalTimeoutSeconds: 86_400,
};

async function settled(sfn: SFNClient, executionArn: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status !== 'RUNNING') return status ?? '';
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${executionArn} did not settle`);
}

describe('startRun', () => {
  let sandbox: Sandbox;
  let sfn: SFNClient;
  let stateMachineArn: string;

  beforeAll(async () => {
    sandbox = await startSandbox({});
    sfn = new SFNClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: 'vecguard-loop',
        definition: PASS_MACHINE,
        roleArn: 'arn:aws:iam::000000000000:role/vecguard-loop',
      }),
    );
    stateMachineArn = created.stateMachineArn ?? '';
  });
  afterAll(async () => {
    sfn?.destroy();
    await sandbox?.stop();
  });

  it('starts an execution of that name with the loop input as JSON', async () => {
    const result = await startRun(sfn, stateMachineArn, input, 'ct-first');
    expect(result).toMatchObject({
      started: true,
      executionArn: executionArnOf(stateMachineArn, 'ct-first'),
    });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(JSON.parse(described.input ?? '')).toEqual(input);
  });

  it('reports a name already used as a duplicate, not an error, and starts nothing', async () => {
    const first = await startRun(sfn, stateMachineArn, input, 'ct-redelivered');
    expect(await settled(sfn, first.executionArn)).toBe('SUCCEEDED');
    const again = await startRun(sfn, stateMachineArn, { ...input, runId: 'run-other' }, 'ct-redelivered');
    expect(again).toEqual({ started: false, reason: 'duplicate', executionArn: first.executionArn });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions?.filter((e) => e.name === 'ct-redelivered')).toHaveLength(1);
  });

  it('turns any other refusal into an AwsCallError with AWS’s code', async () => {
    const missing = stateMachineArn.replace(/vecguard-loop$/, 'no-such-machine');
    const error = await startRun(sfn, missing, input, 'ct-x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      service: 'sfn',
      action: 'StartExecution',
      code: 'StateMachineDoesNotExist',
    });
  });

  it('refuses an answer without an execution ARN (a client that is not Step Functions)', async () => {
    // The sandbox always answers with an ARN; only a fake can leave it out.
    const fake = { send: async () => ({ executionArn: undefined, startDate: new Date() }) };
    await expect(startRun(fake, stateMachineArn, input, 'ct-y')).rejects.toMatchObject({
      name: 'AwsCallError',
      code: 'IncompleteResponse',
    });
  });
});
