/**
 * Who may answer an approval (docs/loop.md "Approvals are authenticated by IAM"). The approver endpoint takes
 * the caller's ARN from the IAM-authenticated request (the function URL's `requestContext.authorizer.iam`,
 * docs/design.md §2), never from anything the caller writes, and asks `mayApprove`:
 *
 * - the caller must be a principal of the hub account (the account that owns the endpoint): IAM already
 *   refuses other accounts, which the function's resource policy does not name; this is the second wall;
 * - when the policy lists `approval.approvers`, the caller must match one of them; none listed: any principal
 *   of the hub account that IAM let through, i.e. one holding the `vecguard-approver` policy.
 *
 * An entry is a principal ARN or a pattern with `*` (any run of characters) and `?` (one). A role ARN
 * (`arn:aws:iam::111111111111:role/SecurityAdmin`) also matches that role's sessions
 * (`arn:aws:sts::111111111111:assumed-role/SecurityAdmin/alice`), as an IAM policy's principal does.
 */
import { z } from 'zod';

/** `arn:<partition>:iam|sts::<12 digits>:<resource>`, the resource possibly holding `*` or `?`. */
const PRINCIPAL_PATTERN = /^arn:(aws[a-z-]*|\*):(iam|sts|\*)::(\d{12}|\*):[\w+=,.@/*?-]+$/;

export const ApproverSchema = z
  .string()
  .trim()
  .regex(
    PRINCIPAL_PATTERN,
    'an IAM principal ARN or pattern, e.g. arn:aws:iam::111111111111:role/SecurityAdmin or arn:aws:sts::111111111111:assumed-role/SecurityAdmin/*',
  );

export type ApproverCheck =
  | { readonly allowed: true; readonly matched: string }
  | { readonly allowed: false; readonly reason: string };

/** The account of a principal ARN (`arn:aws:sts::111111111111:assumed-role/R/s` → `111111111111`). */
export function accountOfPrincipal(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1];
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The ARNs an entry stands for: itself, and for a role ARN the pattern of its sessions. */
function patternsOf(entry: string): string[] {
  const role = /^arn:(aws[a-z-]*):iam::(\d{12}|\*):role\/(?:[\w+=,.@*?-]+\/)*([\w+=,.@*?-]+)$/.exec(entry);
  return role ? [entry, `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/*`] : [entry];
}

/**
 * May `callerArn` (from the authenticated request) answer approvals of the hub `hubAccountId`, under the
 * policy's `approvers`? A refusal's reason is what the caller and the log read.
 */
export function mayApprove(
  callerArn: string,
  hubAccountId: string,
  approvers: readonly string[] | undefined,
): ApproverCheck {
  const account = accountOfPrincipal(callerArn);
  if (account === undefined) return { allowed: false, reason: `${callerArn} is not an IAM principal ARN` };
  if (account !== hubAccountId) {
    return {
      allowed: false,
      reason: `${callerArn} is an identity of account ${account}; only principals of the hub account ${hubAccountId} may answer approvals`,
    };
  }
  if (approvers === undefined || approvers.length === 0)
    return { allowed: true, matched: `account ${account}` };
  const matched = approvers.find((entry) => patternsOf(entry).some((p) => globToRegExp(p).test(callerArn)));
  return matched === undefined
    ? {
        allowed: false,
        reason: `${callerArn} is not one of the policy's approval.approvers (${approvers.join(', ')})`,
      }
    : { allowed: true, matched };
}
