/** The endpoint refuses and logs before it touches the store or Step Functions. */
import { describe, expect, it } from 'vitest';
import { type EndpointDeps, serveApproverRequest } from '../../functions/adapters/approver.ts';

function request(userArn: string | undefined, rawPath = '/approvals/apr-1', method = 'POST') {
  return {
    rawPath,
    body: '{"decision":"approve"}',
    isBase64Encoded: false,
    requestContext: {
      accountId: '111111111111',
      http: { method },
      ...(userArn === undefined ? {} : { authorizer: { iam: { userArn } } }),
    },
  };
}

function deps(approvers?: string[]) {
  const warnings: { message: string; extra: Record<string, unknown> }[] = [];
  const untouchable = new Proxy(
    {},
    {
      get: () => {
        throw new Error('touched the store or Step Functions');
      },
    },
  );
  const d = {
    approvals: untouchable,
    sfn: untouchable,
    now: () => new Date(),
    approvers,
    log: { warn: (message: string, extra: Record<string, unknown>) => warnings.push({ message, extra }) },
  } as unknown as EndpointDeps;
  return { d, warnings };
}

describe('serveApproverRequest refusals', () => {
  it('another account: 403 JSON naming it, and a warning in the log', async () => {
    const { d, warnings } = deps();
    const r = await serveApproverRequest(d, request('arn:aws:iam::999999999999:user/mallory'));
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({
      error: 'NotAnApprover',
      message: expect.stringContaining('999999999999'),
    });
    expect(warnings).toEqual([
      expect.objectContaining({
        message: 'approver endpoint refused a caller',
        extra: expect.objectContaining({ callerArn: 'arn:aws:iam::999999999999:user/mallory' }),
      }),
    ]);
  });

  it('no IAM identity (a URL without AWS_IAM auth): 403, logged', async () => {
    const { d, warnings } = deps();
    expect((await serveApproverRequest(d, request(undefined))).statusCode).toBe(403);
    expect(warnings).toHaveLength(1);
  });

  it('not in approvers: 403, logged', async () => {
    const { d, warnings } = deps(['arn:aws:iam::111111111111:role/SecurityAdmin']);
    const r = await serveApproverRequest(d, request('arn:aws:iam::111111111111:user/bob'));
    expect(r.statusCode).toBe(403);
    expect(warnings).toHaveLength(1);
  });
});
