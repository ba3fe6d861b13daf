/**
 * `vecguard-approver`: what a person (or a Security Hub custom action's function) needs to answer an
 * approval, and nothing more (docs/loop.md "Approvals are authenticated by IAM"): calling the approver
 * endpoint's function URL, which authenticates them by their SigV4 signature and decides for itself who may
 * answer. Attach it to the roles or groups allowed to approve.
 *
 * - `lambda:InvokeFunctionUrl` on the endpoint function, only through a URL with `AWS_IAM` auth
 *   (`lambda:FunctionUrlAuthType`), and `lambda:InvokeFunction` only when invoked through its function URL
 *   (`lambda:InvokedViaFunctionUrl`): function URLs created since October 2025 need both, and a direct
 *   Invoke would let the caller write the event, identity included (docs/design.md §2).
 * - Nothing on the state table (the task tokens live there) and nothing on Step Functions: the endpoint
 *   records the decision and answers the task itself, so the record cannot be forged or flipped.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ApproverPolicyProps {
  /** The approver endpoint's function (./approver-endpoint.ts). */
  readonly endpoint: lambda.IFunction;
  /** @default 'vecguard-approver' */
  readonly managedPolicyName?: string;
}

export class ApproverPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApproverPolicyProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName ?? 'vecguard-approver',
      description:
        "Answer vecguard approvals: call the approver endpoint's function URL (AWS_IAM auth), and nothing else",
      statements: [
        new iam.PolicyStatement({
          sid: 'CallApproverUrl',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [props.endpoint.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        new iam.PolicyStatement({
          sid: 'InvokeOnlyThroughUrl',
          actions: ['lambda:InvokeFunction'],
          resources: [props.endpoint.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });
  }
}
