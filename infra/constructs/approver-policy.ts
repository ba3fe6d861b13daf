/**
 * `vecguard-approver`: what a person (or a Security Hub custom action's function) needs to answer an
 * approval, and nothing more — this policy *is* the authentication of approvals (docs/loop.md "Approvals are
 * authenticated by IAM"). Attach it to the roles or groups allowed to approve.
 *
 * - `states:SendTaskSuccess` / `SendTaskFailure` on this state machine only. The task token is the secret;
 *   IAM decides who may use it.
 * - `dynamodb:GetItem` / `UpdateItem` on approval items only (`pk` = `APPROVAL#…`): read the request, mark it
 *   decided with a conditional update (the store refuses a second answer).
 * - `dynamodb:Scan` on the table, for `vecguard approvals` to list what is pending. A Scan names no key, so
 *   it cannot be narrowed to approval items: an approver can read the table (never write to it beyond
 *   approvals). Turn it off with `allowListing: false` where that matters; `vecguard approve ID` still works.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ApproverPolicyProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly table: dynamodb.ITable;
  /** @default 'vecguard-approver' */
  readonly managedPolicyName?: string;
  /** Grant `dynamodb:Scan` so `vecguard approvals` can list pending approvals. @default true */
  readonly allowListing?: boolean;
}

/** The partition-key prefix of approval items (functions/adapters/store: `APPROVAL#<approvalId>`). */
export const APPROVAL_KEY_PREFIX = 'APPROVAL#';

export class ApproverPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApproverPolicyProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName ?? 'vecguard-approver',
      description:
        'Answer vecguard approvals: send the task result to the enforcement loop, mark the approval',
      statements: [
        new iam.PolicyStatement({
          sid: 'AnswerApprovalTask',
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [props.stateMachine.stateMachineArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadAndDecideApproval',
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [props.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${APPROVAL_KEY_PREFIX}*`] },
          },
        }),
        ...(props.allowListing === false
          ? []
          : [
              new iam.PolicyStatement({
                sid: 'ListApprovals',
                actions: ['dynamodb:Scan'],
                resources: [props.table.tableArn],
              }),
            ]),
      ],
    });
  }
}
