/**
 * `vecguard approvals`, `vecguard approve ID` and `vecguard reject ID`: the human side of the loop's
 * approval step (docs/loop.md, "Approvals are authenticated by IAM"). Each calls the approver endpoint, a
 * Lambda function URL with `AWS_IAM` auth, with a SigV4-signed request made with the caller's own
 * credentials (the SDK's default chain, `--profile`): the endpoint takes the caller's ARN from the signature,
 * checks it against the policy's `approval.approvers`, records the decision once and answers Step Functions.
 * The CLI writes nothing to the state table and never sees a task token.
 */
import { parseArgs } from 'node:util';
import type { PublicApproval } from '../../functions/adapters/approver.ts';
import { ApproverClient, ApproverEndpointError } from '../../functions/adapters/approver-client.ts';
import { displayText, terminalJson } from '../../functions/domain/display-text.ts';
import { formatUsd } from '../../functions/domain/notifications.ts';
import { AwsClients, awsFailure, withCause } from '../aws.ts';
import { plural, styleFor, table, timeUntil } from '../format.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';

const ENDPOINT_OPTIONS = `  --approver-url URL    the approver endpoint (default: VECGUARD_APPROVER_URL; the hub stack's
                        ApproverUrl output)
  --region R            the Region to sign for (default: the URL's, else AWS_REGION or your profile's)
  --profile P           a profile of ~/.aws/config (default: the SDK's credential chain, AWS_PROFILE)
  --help, -h            this help`;

export const APPROVALS_HELP = `Usage: vecguard approvals [options]

Lists the approvals the enforcement loop is waiting for: id, where, what would change, risk, monthly cost,
and how long until the request expires (an unanswered request is rejected when it does).

Options:
  --format F            table (default) or json
${ENDPOINT_OPTIONS}

Examples:
  vecguard approvals --approver-url https://abc123.lambda-url.eu-west-1.on.aws/
  VECGUARD_APPROVER_URL=https://abc123.lambda-url.eu-west-1.on.aws/ vecguard approvals --profile security

Needs: the vecguard-approver policy (lambda:InvokeFunctionUrl on the approver function).

Exit codes: 0 ok, 2 bad flags or no approver URL, 3 AWS unreachable or refused.
`;

export const APPROVE_HELP = `Usage: vecguard approve ID [options]
       vecguard reject ID [options]

Answers one approval as your own AWS identity: the approver endpoint reads who you are from your request's
signature (never from anything you send), checks you against the policy's approval.approvers, and records
your ARN in the approval and the audit log. An approval is answered once: a second answer, or one after the
expiry, is refused.

Options:
  --reject              (approve) refuse the changes instead of approving them; same as vecguard reject ID
  --reason TEXT         why, recorded with the decision
${ENDPOINT_OPTIONS}

Needs: the vecguard-approver policy (lambda:InvokeFunctionUrl on the approver function); nothing on the
table or on Step Functions.

Examples:
  vecguard approve apr-3f2a9c0d41b7e685
  vecguard reject apr-3f2a9c0d41b7e685 --reason "not during the freeze"

Exit codes: 0 answered, 2 bad flags, no approver URL, or the approval does not exist, was already
answered, expired, or its run no longer waits; 3 AWS unreachable, or you are not an approver.
`;

interface EndpointFlags {
  readonly 'approver-url'?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

const ENDPOINT_FLAG_OPTIONS = {
  'approver-url': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function approverUrl(flags: EndpointFlags, env: NodeJS.ProcessEnv = process.env): string {
  const url = (flags['approver-url'] ?? env.VECGUARD_APPROVER_URL ?? '').trim();
  if (url === '')
    throw new CliError(
      "no approver URL; pass --approver-url URL or set VECGUARD_APPROVER_URL (the hub stack's ApproverUrl output)",
    );
  if (!/^https?:\/\/[^\s/]+/.test(url))
    throw new CliError(`--approver-url takes an http(s) URL, got "${url}"`);
  return url;
}

/** A client signing with the caller's own credentials (default chain, --profile). */
async function openClient(clients: AwsClients, url: string): Promise<ApproverClient> {
  const fromUrl = /\.lambda-url\.([a-z0-9-]+)\.on\.aws(?::\d+)?(?:\/|$)/.exec(url)?.[1];
  const region = fromUrl ?? (await clients.region());
  return new ApproverClient({ url, region, credentials: clients.sts.config.credentials });
}

/** What the endpoint refused, as one line: usage errors (exit 2) for the approval's state, exit 3 otherwise. */
function endpointFailure(error: unknown, clients: AwsClients, url: string): unknown {
  if (error instanceof ApproverEndpointError) {
    if (error.status === 404 && error.code === 'ApprovalNotFound')
      return withCause(
        new CliError(`${error.message} at ${url}; list pending ones with \`vecguard approvals\``),
        error,
      );
    if (error.status === 409) return withCause(new CliError(error.message), error);
    return withCause(new CliError(`refused: ${error.message}`, EXIT.aws), error);
  }
  const code = (error as { code?: string })?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
    return withCause(
      new CliError(
        `cannot reach the approver URL ${url} (${code}); check --approver-url (or VECGUARD_APPROVER_URL) and the network`,
        EXIT.aws,
      ),
      error,
    );
  // No credentials (named by --profile or not), refused ones: the same lines as every other command.
  return awsFailure(error, clients, 'sts');
}

function where(a: PublicApproval): string {
  const target =
    a.target.name && a.target.name !== a.target.id ? `${a.target.name} (${a.target.id})` : a.target.id;
  return `${target} ${a.accountId}/${a.region}`;
}

function what(a: PublicApproval): string {
  const [first] = a.actions;
  if (!first) return '-';
  return a.actions.length === 1 ? first.summary : `${first.summary} (+${a.actions.length - 1} more)`;
}

function risks(a: PublicApproval): string {
  return [...new Set(a.actions.flatMap((x) => x.risks))].join(',') || '-';
}

export async function approvalsCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ...ENDPOINT_FLAG_OPTIONS, format: { type: 'string', default: 'table' } },
  });
  if (values.help) {
    io.stdout.write(APPROVALS_HELP);
    return EXIT.ok;
  }
  if (positionals.length)
    throw new CliError(
      `approvals takes no arguments, got "${positionals[0]}"; to answer one: \`vecguard approve ${positionals[0]}\``,
    );
  if (values.format !== 'table' && values.format !== 'json')
    throw new CliError(`--format takes table or json, got "${values.format}"`);
  const url = approverUrl(values);
  const clients = new AwsClients({ region: values.region, profile: values.profile });
  let pending: PublicApproval[];
  try {
    pending = await (await openClient(clients, url)).list();
  } catch (e) {
    throw endpointFailure(e, clients, url);
  } finally {
    clients.close();
  }

  if (values.format === 'json') {
    // The endpoint never sends task tokens: whoever holds one could answer through Step Functions directly.
    io.stdout.write(`${terminalJson(pending, 2)}\n`);
    return EXIT.ok;
  }
  if (pending.length === 0) {
    io.stdout.write(`no pending approvals at ${url}\n`);
    return EXIT.ok;
  }
  const now = new Date();
  const style = styleFor(io);
  io.stdout.write(
    `${plural(pending.length, 'pending approval')} at ${url}\n\n` +
      `${table(
        ['ID', 'WHERE', 'WHAT', 'RISK', '$/MONTH', 'EXPIRES IN'],
        pending.map((a) => [
          a.approvalId,
          where(a),
          what(a),
          { text: risks(a), tone: 'warn' },
          a.monthlyCostUsd === 0 ? '-' : formatUsd(a.monthlyCostUsd, true),
          a.expired ? { text: 'expired', tone: 'bad' } : timeUntil(a.expiresAt, now),
        ]),
        style,
      )}\n\n` +
      'answer with `vecguard approve ID` or `vecguard reject ID --reason TEXT`\n',
  );
  return EXIT.ok;
}

export async function approveCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  return answerCommand(args, io, false);
}

/** `vecguard reject ID`: `vecguard approve ID --reject`. */
export async function rejectCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  return answerCommand(args, io, true);
}

async function answerCommand(args: readonly string[], io: Io, reject: boolean): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...ENDPOINT_FLAG_OPTIONS,
      reject: { type: 'boolean', default: false },
      reason: { type: 'string' },
    },
  });
  if (values.help) {
    io.stdout.write(APPROVE_HELP);
    return EXIT.ok;
  }
  const verbName = reject ? 'reject' : 'approve';
  const [approvalId, ...extra] = positionals;
  if (!approvalId || extra.length)
    throw new CliError(`${verbName} takes one approval ID; list them with \`vecguard approvals\``);
  if (!/^[A-Za-z0-9-]{1,64}$/.test(approvalId))
    throw new CliError(
      `"${approvalId}" is not an approval id (like apr-3f2a9c0d41b7e685); list them with \`vecguard approvals\``,
    );
  const rejecting = reject || values.reject;
  const url = approverUrl(values);
  const clients = new AwsClients({ region: values.region, profile: values.profile });
  try {
    const decided = await (await openClient(clients, url)).decide(approvalId, {
      approve: !rejecting,
      ...(values.reason ? { reason: values.reason } : {}),
    });
    const verb = rejecting ? 'rejected' : 'approved';
    io.stdout.write(
      `${verb} ${approvalId} as ${decided.decidedBy ?? '?'}: ${plural(decided.actions.length, 'action')} on ${displayText(decided.target.name ?? decided.target.id, { max: 128 })}` +
        `${rejecting ? '; nothing of it will be applied' : '; the run applies it now'}\n`,
    );
    return EXIT.ok;
  } catch (e) {
    throw endpointFailure(e, clients, url);
  } finally {
    clients.close();
  }
}
