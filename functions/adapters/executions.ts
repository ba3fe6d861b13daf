/**
 * Starts enforcement-loop executions. The execution name carries idempotency (functions/domain/triggers.ts
 * `executionName`): Step Functions keeps a standard execution's name for 90 days after it closes, so a
 * re-delivered event whose name is taken answers `ExecutionAlreadyExists` — which here means "already
 * started", a success. (When the first execution is still running with the very same input, Step Functions
 * itself answers 200 with the existing ARN; that case is reported as started, as AWS reports it.)
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../domain/triggers.ts';
import { AwsCallError, toAwsCallError } from '../shared/errors.ts';

/** The one call this adapter makes; an `SFNClient` is one, and so is a test's fake. */
export interface StartExecutionClient {
  send(
    command: StartExecutionCommand,
  ): Promise<Pick<StartExecutionCommandOutput, 'executionArn' | 'startDate'>>;
}

/** The Step Functions client of a Lambda container (endpoint and credentials from the SDK's usual chain). */
export function stepFunctionsClient(): SFNClient {
  return new SFNClient({});
}

export type StartRunResult =
  | { readonly started: true; readonly executionArn: string; readonly startDate?: Date }
  | { readonly started: false; readonly reason: 'duplicate'; readonly executionArn: string };

/** The ARN an execution of `name` has (or would have) on `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export async function startRun(
  sfn: StartExecutionClient,
  stateMachineArn: string,
  input: ExecutionInput,
  name: string,
): Promise<StartRunResult> {
  try {
    const output = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    if (!output.executionArn) {
      throw new AwsCallError('sfn', 'StartExecution', 'IncompleteResponse', 'the answer lacks executionArn');
    }
    return {
      started: true,
      executionArn: output.executionArn,
      ...(output.startDate ? { startDate: output.startDate } : {}),
    };
  } catch (error) {
    if ((error as { name?: string } | undefined)?.name === 'ExecutionAlreadyExists') {
      return { started: false, reason: 'duplicate', executionArn: executionArnOf(stateMachineArn, name) };
    }
    throw toAwsCallError(error, 'sfn', 'StartExecution');
  }
}

/** The one call `executionEnded` makes; an `SFNClient` is one. */
export interface ExecutionStatusClient {
  send(command: DescribeExecutionCommand): Promise<Pick<DescribeExecutionCommandOutput, 'status'>>;
}

/**
 * Whether the execution is over (any status but RUNNING, or no such execution). An answer without a status
 * counts as running: a lease is taken from a run only when Step Functions says it is gone.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
export async function executionEnded(sfn: ExecutionStatusClient, executionArn: string): Promise<boolean> {
  try {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return status !== undefined && status !== 'RUNNING' && status !== 'PENDING_REDRIVE';
  } catch (error) {
    if ((error as { name?: string } | undefined)?.name === 'ExecutionDoesNotExist') return true;
    throw toAwsCallError(error, 'sfn', 'DescribeExecution');
  }
}
