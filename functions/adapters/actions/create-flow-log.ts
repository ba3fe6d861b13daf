/**
 * A new flow log on a VPC whose custom format carries `${encryption-status}` (0 clear, 1 Nitro, 2 application,
 * 3 both): formats are immutable, so an existing flow log can never gain the field (docs/design.md §2). The log shows
 * which flows still travel in clear text before enforce cuts them.
 *
 * `CreateFlowLogs` answers HTTP 200 with per-resource failures in `Unsuccessful`: those become a failed outcome
 * with the item's error code, never a silent success.
 */
import {
  CreateFlowLogsCommand,
  type CreateFlowLogsRequest,
  type CreateFlowLogsResult,
  DeleteFlowLogsCommand,
  type DeleteFlowLogsResult,
  type UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { carriesEncryptionStatus } from '../../domain/flow-logs.ts';
import { type PlannedAction, vpcOf } from '../../domain/remediation-plan.ts';
import { AwsCallError } from '../../shared/errors.ts';
import { flowLogSnapshot, readFlowLogs } from './live-state.ts';
import {
  type ActionDefinition,
  changedNothing,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type VerifyOutcome,
} from './types.ts';

const KIND = 'create-flow-log';

type FlowLogParams = NonNullable<PlannedAction['params']['flowLog']>;

function requestFor(vpcId: string, flowLog: FlowLogParams): CreateFlowLogsRequest {
  // For CloudWatch Logs the destination may be a log group name or its ARN; AWS takes them in different members.
  const destination =
    flowLog.destinationType === 'cloud-watch-logs' && !flowLog.destination.startsWith('arn:')
      ? { LogGroupName: flowLog.destination }
      : { LogDestination: flowLog.destination };
  return {
    ResourceIds: [vpcId],
    ResourceType: 'VPC',
    TrafficType: 'ALL',
    LogDestinationType: flowLog.destinationType,
    ...destination,
    ...(flowLog.deliverLogsPermissionArn === undefined
      ? {}
      : { DeliverLogsPermissionArn: flowLog.deliverLogsPermissionArn }),
    LogFormat: flowLog.logFormat,
  };
}

function unsuccessful(
  action: string,
  items: readonly UnsuccessfulItem[] | undefined,
): AwsCallError | undefined {
  const item = items?.[0];
  if (item === undefined) return undefined;
  return new AwsCallError(
    'ec2',
    action,
    item.Error?.Code ?? 'Unsuccessful',
    `${item.ResourceId ?? 'a resource'}: ${item.Error?.Message ?? 'no message'}`,
  );
}

export const createFlowLog: ActionDefinition<typeof KIND, FlowLogParams> = {
  kind: KIND,
  permissions: [
    'ec2:DescribeFlowLogs',
    'ec2:CreateFlowLogs',
    // undo
    'ec2:DeleteFlowLogs',
    // CloudWatch Logs delivery passes the delivery role (scope it to that role's ARN in the grant).
    'iam:PassRole',
    // S3 delivery is set up through CloudWatch Logs' log delivery on the caller's behalf.
    'logs:CreateLogDelivery',
    'logs:DeleteLogDelivery',
  ],
  undoOnly: ['ec2:DeleteFlowLogs'],
  description: 'Creates a VPC flow log whose custom format carries the encryption-status field.',

  async preconditions(ctx, action): Promise<Precondition<FlowLogParams>> {
    const vpcId = vpcOf(action);
    const flowLog = action.params.flowLog;
    if (flowLog === undefined)
      return { status: 'refused', reason: `The flow-log action for ${vpcId} has no destination.` };
    if (!carriesEncryptionStatus(flowLog.logFormat)) {
      return {
        status: 'refused',
        reason: `The planned log format does not carry \${encryption-status}: ${flowLog.logFormat}`,
      };
    }
    if (flowLog.destinationType === 'cloud-watch-logs' && flowLog.deliverLogsPermissionArn === undefined) {
      return {
        status: 'refused',
        reason: `Flow logs to CloudWatch Logs need a delivery role (deliverLogsPermissionArn); set it in the policy.`,
      };
    }
    const logs = await readFlowLogs(ctx.ec2, vpcId);
    const before = { vpcId, flowLogIds: logs.map((l) => l.FlowLogId ?? '') };
    const existing = logs.find((l) => carriesEncryptionStatus(l.LogFormat));
    if (existing !== undefined) {
      return {
        status: 'already-so',
        before: { ...before, ...flowLogSnapshot(existing) },
        message: `${vpcId} already has flow log ${existing.FlowLogId} recording \${encryption-status}.`,
      };
    }
    return { status: 'ok', before, live: flowLog };
  },

  async apply(ctx, action, ready) {
    const vpcId = vpcOf(action);
    const out = outcomeFor(ctx, action);
    const result = await ctx.ec2.mutate<CreateFlowLogsResult>(
      new CreateFlowLogsCommand(requestFor(vpcId, ready.live)),
    );
    if (result.dryRun) {
      return out('dry-run', `Would create a flow log on ${vpcId} to ${ready.live.destination}.`, {
        before: ready.before,
      });
    }
    const refused = unsuccessful('CreateFlowLogs', result.output.Unsuccessful);
    if (refused) throw refused;
    const flowLogId = result.output.FlowLogIds?.[0] ?? '';
    return out('applied', `Created flow log ${flowLogId} on ${vpcId} to ${ready.live.destination}.`, {
      before: ready.before,
      after: {
        vpcId,
        flowLogId,
        destinationType: ready.live.destinationType,
        destination: ready.live.destination,
      },
    });
  },

  async verify(ctx, action): Promise<VerifyOutcome> {
    const vpcId = vpcOf(action);
    const log = (await readFlowLogs(ctx.ec2, vpcId)).find((l) => carriesEncryptionStatus(l.LogFormat));
    if (log === undefined) {
      return {
        status: 'failed',
        message: `${vpcId} has no flow log recording \${encryption-status}.`,
        state: { vpcId },
      };
    }
    const state = flowLogSnapshot(log);
    if (log.DeliverLogsStatus === 'FAILED') {
      return {
        status: 'failed',
        message: `Flow log ${log.FlowLogId} cannot deliver: ${log.DeliverLogsErrorMessage ?? 'no message'}.`,
        state,
      };
    }
    if (log.FlowLogStatus === 'ACTIVE')
      return { status: 'done', message: `Flow log ${log.FlowLogId} is active.`, state };
    return {
      status: 'pending',
      message: `Flow log ${log.FlowLogId} is ${log.FlowLogStatus ?? 'unknown'}.`,
      state,
    };
  },

  /** Deletes the flow log this action created (its id is in the audit log's `after`). */
  async undo(ctx, entry) {
    const out = outcomeFor(ctx, entry);
    if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
    const flowLogId = entry.after?.flowLogId;
    if (typeof flowLogId !== 'string' || flowLogId === '') {
      return out('refused', `The audit-log entry names no flow log for ${entry.resourceId}.`);
    }
    const before = { vpcId: vpcOf(entry), flowLogId };
    const result = await ctx.ec2.mutate<DeleteFlowLogsResult>(
      new DeleteFlowLogsCommand({ FlowLogIds: [flowLogId] }),
    );
    if (result.dryRun) return out('dry-run', `Would delete flow log ${flowLogId}.`, { before });
    const refused = unsuccessful('DeleteFlowLogs', result.output.Unsuccessful);
    if (refused?.code === 'InvalidFlowLogId.NotFound') {
      return out('already-so', `Flow log ${flowLogId} no longer exists.`, { before });
    }
    if (refused) throw refused;
    return out('applied', `Deleted flow log ${flowLogId}.`, { before, after: { ...before, deleted: true } });
  },
};
