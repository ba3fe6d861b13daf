/**
 * The approver endpoint's work (docs/loop.md "Approvals are authenticated by IAM"): behind a Lambda function
 * URL with `AWS_IAM` auth, the caller's ARN is the one Lambda puts in `requestContext.authorizer.iam.userArn`
 * after checking the SigV4 signature (docs/design.md §2) — never a field of the body. The endpoint checks it
 * against the policy's `approval.approvers` (functions/domain/approvers.ts), records the decision once (the
 * store's conditional update refuses a second answer or an expired one) and answers Step Functions itself
 * with the stored task token, which never leaves the table: approvers hold no permission on the table or on
 * Step Functions, only on this function's URL.
 *
 * Routes: `GET /approvals` (pending, without tokens) and `POST /approvals/<id>` with
 * `{ "decision": "approve" | "reject", "reason"?: "…" }`. Answers are JSON; refusals carry
 * `{ error, message }` with 400, 403, 404 or 409.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { mayApprove } from '../domain/approvers.ts';
import type { Approval, ApprovalStore, ListedApproval } from './store/approvals.ts';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError } from './store/errors.ts';
import { answerTaskWithDecision, TaskNoLongerWaitingError } from './task-callback.ts';

export interface ApproverDeps {
  readonly approvals: ApprovalStore;
  readonly sfn: SFNClient;
  readonly now: () => Date;
}

export interface Answer {
  readonly approve: boolean;
  readonly reason?: string;
}

/** The run stopped waiting (timed out or ended) between the decision and the answer. */
export class ApprovalNoLongerAwaitedError extends Error {
  constructor(approvalId: string, code: string) {
    super(
      `approval ${approvalId} was recorded, but the run no longer waits for it (${code}); nothing will be applied unless a retry of its request picks this answer up`,
    );
    this.name = 'ApprovalNoLongerAwaitedError';
  }
}

/**
 * Record `approverArn`'s answer once, then send it to the waiting task with the stored token. The ARN must
 * come from AWS (the authenticated request), never from the caller's own words.
 */
export async function answerApproval(
  d: ApproverDeps,
  approvalId: string,
  answer: Answer,
  approverArn: string,
): Promise<Approval> {
  const decided = await d.approvals.decide(approvalId, {
    approved: answer.approve,
    approver: approverArn,
    ...(answer.reason ? { reason: answer.reason } : {}),
    now: d.now(),
  });
  // A retried RequestApproval may have stored a newer token since the one the decision came back with: the
  // answer follows the token the run waits on now, and "nothing will be applied" is said only when none does.
  let token = decided.taskToken;
  for (;;) {
    try {
      await answerTaskWithDecision(d.sfn, token, decided);
      return decided;
    } catch (e) {
      if (!(e instanceof TaskNoLongerWaitingError)) throw e;
      const latest = await d.approvals.getApproval(approvalId);
      if (latest === undefined || latest.taskToken === token) {
        throw new ApprovalNoLongerAwaitedError(approvalId, e.code);
      }
      token = latest.taskToken;
    }
  }
}

/** What a function URL request (payload format 2.0) carries that the endpoint reads. */
export const FunctionUrlRequestSchema = z.object({
  rawPath: z.string(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({
    /** The account that owns the function: the hub. */
    accountId: z.string().regex(/^\d{12}$/),
    http: z.object({ method: z.string() }),
    authorizer: z
      .object({
        iam: z
          .object({ userArn: z.string().optional(), accountId: z.string().optional() })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
  }),
});
export type FunctionUrlRequest = z.infer<typeof FunctionUrlRequestSchema>;

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const DecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  reason: z.string().max(1000).optional(),
});

/** A pending approval as the endpoint lists it: everything but the task token. */
export type PublicApproval = Omit<ListedApproval, 'taskToken'>;

export function withoutToken<T extends Approval>(approval: T): Omit<T, 'taskToken'> {
  const { taskToken: _token, ...rest } = approval;
  return rest;
}

export interface EndpointDeps extends ApproverDeps {
  /** The policy's `approval.approvers`; absent: principals of the hub account. */
  readonly approvers: readonly string[] | undefined;
  /** Where refusals are logged (the Powertools logger in Lambda). */
  readonly log: { warn(message: string, extra: Record<string, unknown>): void };
}

const json = (statusCode: number, value: unknown): FunctionUrlResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
const refusal = (statusCode: number, error: string, message: string) => json(statusCode, { error, message });

/** Answer one function URL request. Never throws for what a caller did; AWS failures propagate (500). */
export async function serveApproverRequest(
  d: EndpointDeps,
  request: FunctionUrlRequest,
): Promise<FunctionUrlResult> {
  const method = request.requestContext.http.method.toUpperCase();
  const callerArn = request.requestContext.authorizer?.iam?.userArn;
  const hubAccountId = request.requestContext.accountId;
  if (callerArn === undefined || callerArn === '') {
    // Only a URL with AuthType NONE reaches here without an identity: refuse, whatever was sent.
    d.log.warn('approver endpoint refused a request without an IAM identity', { path: request.rawPath });
    return refusal(403, 'NotAuthenticated', 'the request carries no IAM identity: sign it with SigV4');
  }
  const check = mayApprove(callerArn, hubAccountId, d.approvers);
  if (!check.allowed) {
    d.log.warn('approver endpoint refused a caller', {
      callerArn,
      path: request.rawPath,
      reason: check.reason,
    });
    return refusal(403, 'NotAnApprover', check.reason);
  }
  const path = request.rawPath.replace(/\/+$/, '');
  if (path === '/approvals') {
    if (method !== 'GET') return refusal(405, 'MethodNotAllowed', `${method} /approvals: use GET`);
    const pending = await d.approvals.listPending(d.now());
    return json(200, { approvals: pending.map(withoutToken) });
  }
  const id = /^\/approvals\/([^/]+)$/.exec(path)?.[1];
  if (id === undefined) return refusal(404, 'NotFound', `no route ${method} ${request.rawPath}`);
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return refusal(400, 'BadRequest', `"${id}" is not an approval id`);
  if (method !== 'POST') return refusal(405, 'MethodNotAllowed', `${method} /approvals/${id}: use POST`);
  const text = request.isBase64Encoded
    ? Buffer.from(request.body ?? '', 'base64').toString('utf8')
    : (request.body ?? '');
  let body: z.infer<typeof DecisionBodySchema>;
  try {
    body = DecisionBodySchema.parse(JSON.parse(text === '' ? '{}' : text));
  } catch (e) {
    const why =
      e instanceof z.ZodError
        ? e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
        : 'the body is not JSON';
    return refusal(400, 'BadRequest', `expected {"decision": "approve"|"reject", "reason"?: string}: ${why}`);
  }
  try {
    const decided = await answerApproval(
      d,
      id,
      { approve: body.decision === 'approve', ...(body.reason ? { reason: body.reason } : {}) },
      callerArn,
    );
    return json(200, { approval: withoutToken(decided) });
  } catch (e) {
    if (e instanceof ApprovalNotFoundError) return refusal(404, 'ApprovalNotFound', e.message);
    if (e instanceof ApprovalAlreadyDecidedError) return refusal(409, 'ApprovalAlreadyDecided', e.message);
    if (e instanceof ApprovalExpiredError) return refusal(409, 'ApprovalExpired', e.message);
    if (e instanceof ApprovalNoLongerAwaitedError) return refusal(409, 'ApprovalNoLongerAwaited', e.message);
    throw e;
  }
}
