/**
 * ApproverEndpoint: the function behind the approver's Lambda function URL (`AuthType: AWS_IAM`). Lists
 * pending approvals without their task tokens and records a decision with the caller's ARN as Lambda
 * authenticated it, then answers Step Functions (functions/adapters/approver.ts; docs/loop.md "Approvals are
 * authenticated by IAM"). Not a Task of the state machine: its answer is an HTTP response.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  FunctionUrlRequestSchema,
  type FunctionUrlResult,
  serveApproverRequest,
} from '../adapters/approver.ts';
import { deps } from '../adapters/deps.ts';
import { stepFunctionsClient } from '../adapters/executions.ts';
import { logger } from '../shared/powertools.ts';

/** One Step Functions client per container's dependencies (the local runner rebuilds them between runs). */
const clients = new WeakMap<object, ReturnType<typeof stepFunctionsClient>>();

export const handler = middy<unknown, FunctionUrlResult, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const request = FunctionUrlRequestSchema.safeParse(event);
    if (!request.success) {
      logger.warn('approver endpoint got an event that is not a function URL request', {
        issues: request.error.issues.slice(0, 5),
      });
      return {
        statusCode: 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'BadRequest', message: 'not a function URL request' }),
      };
    }
    const d = deps();
    let sfn = clients.get(d);
    if (sfn === undefined) {
      sfn = stepFunctionsClient();
      clients.set(d, sfn);
    }
    return serveApproverRequest(
      {
        approvals: d.approvals,
        sfn,
        now: d.now,
        approvers: d.policy.approval.approvers,
        log: logger,
      },
      request.data,
    );
  });
