/**
 * The approver endpoint (docs/loop.md "Approvals are authenticated by IAM"): the approver-endpoint function
 * behind a Lambda function URL with `AuthType: AWS_IAM`. Lambda checks the caller's SigV4 signature and IAM
 * permission before the function runs and hands it the caller's ARN (docs/design.md §2); the function
 * checks it against the policy's `approval.approvers`, records the decision and answers Step Functions.
 *
 * Its role holds what approvers no longer do: GetItem/UpdateItem on approval items only
 * (`dynamodb:LeadingKeys`), Scan on the table to list pending approvals (a Scan names no key, so it cannot be
 * narrowed; the function never returns task tokens), and SendTaskSuccess/SendTaskFailure on this state
 * machine. The URL has no resource-based policy: only principals of this account whose own policies allow
 * `lambda:InvokeFunctionUrl` (the `vecguard-approver` policy) can call it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { KEY_PREFIXES, tableStatements } from '../permissions.ts';
import { VecguardFunction } from './vecguard-function.ts';

export interface ApproverEndpointProps {
  readonly table: dynamodb.ITable;
  /** Only for the configuration every function reads (`VECGUARD_TOPIC_ARN`); the endpoint publishes nothing. */
  readonly topic: sns.ITopic;
  readonly stateMachine: sfn.IStateMachine;
  /** The policy file, relative to the repository root: its `approval.approvers` decide who may answer. */
  readonly policyFile: string;
  /** Overrides the policy's `dryRun`, as in every function (the endpoint itself changes nothing in EC2). @default - the policy decides */
  readonly dryRun?: boolean;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export class ApproverEndpoint extends Construct {
  readonly function: lambda.IFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ApproverEndpointProps) {
    super(scope, id);
    const fn = new VecguardFunction(this, 'Function', {
      handlerModule: 'approver-endpoint',
      policyFile: props.policyFile,
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: {
        VECGUARD_TABLE_NAME: props.table.tableName,
        VECGUARD_TOPIC_ARN: props.topic.topicArn,
        ...(props.dryRun === undefined ? {} : { VECGUARD_DRY_RUN: String(props.dryRun) }),
      },
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
    });
    this.function = fn.function;
    this.url = fn.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    // Read and decide approval items only (LeadingKeys), Scan to list them, and the Deny that keeps the
    // audit log append-only: the same statements every loop function's table access is built from.
    for (const statement of tableStatements(props.table.tableArn, {
      read: [KEY_PREFIXES.approval],
      update: [KEY_PREFIXES.approval],
      scan: true,
    })) {
      fn.role.addToPrincipalPolicy(statement);
    }
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AnswerApprovalTask',
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    );
  }
}
