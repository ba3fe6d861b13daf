/**
 * `vecguard approvals` and `vecguard approve ID`: the human side of the loop's approval step
 * (docs/loop.md, "Approvals are authenticated by IAM"). Listing reads the state table; answering runs with
 * the caller's own AWS identity through `answerApproval`: the store refuses a second or late answer, Step
 * Functions accepts the task token once, and IAM decides who may call SendTaskSuccess.
 */
import { parseArgs } from 'node:util';
import { ApprovalNoLongerAwaitedError, answerApproval } from '../../functions/adapters/approver.ts';
import { ApprovalStore, type ListedApproval } from '../../functions/adapters/store/approvals.ts';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
} from '../../functions/adapters/store/errors.ts';
import { type StateTable, stateTableClient } from '../../functions/adapters/store/table.ts';
import { formatUsd } from '../../functions/domain/notifications.ts';
import { AwsCallError } from '../../functions/shared/errors.ts';
import { AwsClients, awsFailure, withCause } from '../aws.ts';
import { plural, styleFor, table, timeUntil } from '../format.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';

export const DEFAULT_TABLE = 'vecguard-state';

const TABLE_OPTIONS = `  --table NAME          vecguard's state table (default: VECGUARD_TABLE_NAME, else ${DEFAULT_TABLE})
  --region R            the Region of the table and the state machine (default: AWS_REGION or your profile's)
  --profile P           a profile of ~/.aws/config (default: the SDK's credential chain, AWS_PROFILE)
  --help, -h            this help`;

export const APPROVALS_HELP = `Usage: vecguard approvals [options]

Lists the approvals the enforcement loop is waiting for: id, where, what would change, risk, monthly cost,
and how long until the request expires (an unanswered request is rejected when it does).

Options:
  --format F            table (default) or json
${TABLE_OPTIONS}

Examples:
  vecguard approvals
  vecguard approvals --profile security --region eu-west-1 --table vecguard-state

Exit codes: 0 ok, 2 bad flags or unknown table, 3 AWS unreachable or refused.
`;

export const APPROVE_HELP = `Usage: vecguard approve ID [options]

Answers one approval with your own AWS identity (STS GetCallerIdentity), which the audit log records. An
approval is answered once: a second answer, or one after the expiry, is refused.

Options:
  --reject              refuse the changes instead of approving them
  --reason TEXT         why, recorded with the decision
${TABLE_OPTIONS}

Needs: dynamodb:GetItem and dynamodb:UpdateItem on the table, states:SendTaskSuccess (or
states:SendTaskFailure with --reject) on the enforcement loop.

Examples:
  vecguard approve apr-3f2a9c0d41b7e685
  vecguard approve apr-3f2a9c0d41b7e685 --reject --reason "not during the freeze"

Exit codes: 0 answered, 2 bad flags, or the approval does not exist, was already answered, expired, or its
run no longer waits; 3 AWS unreachable or refused.
`;

interface TableFlags {
  readonly table?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

const TABLE_FLAG_OPTIONS = {
  table: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function tableName(flags: TableFlags, env: NodeJS.ProcessEnv = process.env): string {
  const name = flags.table ?? env.VECGUARD_TABLE_NAME?.trim() ?? '';
  const chosen = name === '' ? DEFAULT_TABLE : name;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(chosen))
    throw new CliError(`--table takes a DynamoDB table name (3–255 of A–Z a–z 0–9 _ . -), got "${chosen}"`);
  return chosen;
}

async function openStore(clients: AwsClients, name: string): Promise<ApprovalStore> {
  const table: StateTable = { client: stateTableClient(await clients.dynamodb()), tableName: name };
  return new ApprovalStore(table);
}

/** A missing table is most often a wrong --table or --region: say so, as a usage error. */
function tableFailure(
  error: unknown,
  clients: AwsClients,
  name: string,
  region: string | undefined,
): unknown {
  if (error instanceof AwsCallError && error.code === 'ResourceNotFoundException') {
    return withCause(
      new CliError(
        `table ${name} not found in ${region ?? 'this Region'}; pass --table NAME (or set VECGUARD_TABLE_NAME) and --region where vecguard is deployed`,
      ),
      error,
    );
  }
  return awsFailure(error, clients, 'dynamodb');
}

function where(a: ListedApproval): string {
  const target =
    a.target.name && a.target.name !== a.target.id ? `${a.target.name} (${a.target.id})` : a.target.id;
  return `${target} ${a.accountId}/${a.region}`;
}

function what(a: ListedApproval): string {
  const [first] = a.actions;
  if (!first) return '-';
  return a.actions.length === 1 ? first.summary : `${first.summary} (+${a.actions.length - 1} more)`;
}

function risks(a: ListedApproval): string {
  return [...new Set(a.actions.flatMap((x) => x.risks))].join(',') || '-';
}

export async function approvalsCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { ...TABLE_FLAG_OPTIONS, format: { type: 'string', default: 'table' } },
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
  const name = tableName(values);
  const clients = new AwsClients({ region: values.region, profile: values.profile });
  let pending: ListedApproval[];
  let region: string | undefined;
  try {
    region = await clients.region();
    pending = await (await openStore(clients, name)).listPending(new Date());
  } catch (e) {
    throw tableFailure(e, clients, name, region);
  } finally {
    clients.close();
  }

  if (values.format === 'json') {
    // The task token lets whoever holds it answer through Step Functions directly: never printed.
    const safe = pending.map(({ taskToken: _token, ...rest }) => rest);
    io.stdout.write(`${JSON.stringify(safe, null, 2)}\n`);
    return EXIT.ok;
  }
  if (pending.length === 0) {
    io.stdout.write(`no pending approvals in ${name} (${region})\n`);
    return EXIT.ok;
  }
  const now = new Date();
  const style = styleFor(io);
  io.stdout.write(
    `${plural(pending.length, 'pending approval')} in ${name} (${region})\n\n` +
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
      'answer with `vecguard approve ID` or `vecguard approve ID --reject --reason TEXT`\n',
  );
  return EXIT.ok;
}

export async function approveCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...TABLE_FLAG_OPTIONS,
      reject: { type: 'boolean', default: false },
      reason: { type: 'string' },
    },
  });
  if (values.help) {
    io.stdout.write(APPROVE_HELP);
    return EXIT.ok;
  }
  const [approvalId, ...extra] = positionals;
  if (!approvalId || extra.length)
    throw new CliError('approve takes one approval ID; list them with `vecguard approvals`');
  if (!/^[A-Za-z0-9-]{1,64}$/.test(approvalId))
    throw new CliError(
      `"${approvalId}" is not an approval id (like apr-3f2a9c0d41b7e685); list them with \`vecguard approvals\``,
    );
  const name = tableName(values);
  const clients = new AwsClients({ region: values.region, profile: values.profile });
  let region: string | undefined;
  try {
    region = await clients.region();
    const decided = await answerApproval(
      {
        approvals: await openStore(clients, name),
        sfn: await clients.sfn(),
        sts: clients.sts,
        now: () => new Date(),
      },
      approvalId,
      { approve: !values.reject, ...(values.reason ? { reason: values.reason } : {}) },
    );
    const verb = values.reject ? 'rejected' : 'approved';
    io.stdout.write(
      `${verb} ${approvalId} as ${decided.decidedBy ?? '?'}: ${plural(decided.actions.length, 'action')} on ${decided.target.name ?? decided.target.id}` +
        `${values.reject ? '; nothing of it will be applied' : '; the run applies it now'}\n`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ApprovalNotFoundError)
      throw withCause(
        new CliError(
          `approval ${approvalId} does not exist in ${name} (${region}); list pending ones with \`vecguard approvals\``,
        ),
        e,
      );
    if (e instanceof ApprovalAlreadyDecidedError || e instanceof ApprovalExpiredError)
      throw withCause(new CliError(e.message), e);
    if (e instanceof ApprovalNoLongerAwaitedError) throw withCause(new CliError(e.message), e);
    throw tableFailure(e, clients, name, region);
  } finally {
    clients.close();
  }
}
