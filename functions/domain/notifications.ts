/**
 * The text of vecguard's notifications, built without AWS so that what a person reads is tested like any
 * other domain output. Three kinds:
 * - approval request: what will change, where, why, the risk, the monthly cost, when it expires, and how to
 *   answer with the CLI. Never a link: approvals are authenticated by IAM (docs/loop.md), so no URL in a
 *   message can approve anything, and the task token never leaves the state table;
 * - run report: verdict counts before → after, the actions applied, and what is left and why;
 * - failure report: which state failed, with which error, and what to do about it.
 *
 * SNS Publish (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): a subject is "UTF-8 text with no
 * line breaks or control characters, and less than 100 characters long" (earlier editions: ASCII), so vecguard
 * sends printable ASCII only; the message must be UTF-8 and at most 256 KB, so every list is capped with "and N
 * more", and every value from AWS goes through `displayText` (functions/domain/display-text.ts): one line,
 * escapes visible, no lone surrogate that UTF-8 could not carry.
 */
import type { ActionKind, Risk } from './action-kinds.ts';
import { displayText } from './display-text.ts';
import { VERDICT_KINDS, type VerdictKind } from './verdict.ts';

export const NOTIFICATION_KINDS = ['approval-request', 'run-report', 'failure-report'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const SUBJECT_MAX = 100;
/** Lines of a list shown before "and N more". */
export const LIST_MAX = 50;
const LINE_MAX = 400;
const ERROR_TEXT_MAX = 2_000;

/** A message ready for SNS Publish: subject, body and the attributes subscribers filter on. */
export interface Notification {
  readonly kind: NotificationKind;
  readonly subject: string;
  readonly message: string;
  /** `kind`, `account`, `region`, plus `runId` and `approvalId` where they apply. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ApprovalRequestNotice {
  readonly approvalId: string;
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  readonly target: { readonly type: 'vpc' | 'transit-gateway'; readonly id: string; readonly name?: string };
  readonly actions: readonly {
    readonly kind: ActionKind;
    readonly resourceId: string;
    /** What will change, in one line. */
    readonly summary: string;
    /** Why, in one sentence. */
    readonly reason: string;
    readonly risks: readonly Risk[];
    readonly monthlyCostDeltaUsd: number;
  }[];
  readonly monthlyCostUsd: number;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly dryRun?: boolean;
  /** What the approval binds to (approval-digest.ts `approvalDigest`). */
  readonly digest?: string;
}

export interface RunReportNotice {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
  readonly iterations?: number;
  readonly verdictsBefore: Readonly<Partial<Record<VerdictKind, number>>>;
  readonly verdictsAfter: Readonly<Partial<Record<VerdictKind, number>>>;
  readonly actions: {
    readonly applied: number;
    readonly dryRun: number;
    /** Actions whose last attempt failed. */
    readonly failed: number;
    /** Failed attempts (an action retried each iteration fails once per attempt); @default `failed` */
    readonly failedAttempts?: number;
    readonly alreadySo: number;
  };
  /** One line per action applied (or failed, or dry-run), in order. */
  readonly actionLines?: readonly {
    readonly summary: string;
    readonly outcome: string;
    readonly error?: string;
  }[];
  readonly approvals?: {
    readonly pending: number;
    readonly approved: number;
    readonly rejected: number;
    readonly expired: number;
  };
  /** Resources not where the policy wants them, with the reason. */
  readonly remaining: readonly {
    readonly resourceId: string;
    readonly name?: string;
    readonly verdict: string;
    readonly why: string;
  }[];
}

export interface FailureReportNotice {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  /** The state that failed, by its name in the state machine (e.g. `Inventory`, `ApplyAuto`). */
  readonly state: string;
  /** The error as Step Functions caught it: `Error` (the name) and `Cause` (usually the message). */
  readonly error: { readonly name: string; readonly message: string };
  readonly at?: string;
  /**
   * What the audit log says this run changed (real changes only: applied, or failed after the call), read
   * after the open intents were reconciled; null when the log could not be read (`problems` says why).
   */
  readonly changes?: readonly RecordedChange[] | null;
  /** Changes whose outcome nobody could read back: their intent is in the log, still open. */
  readonly openIntents?: readonly RecordedChange[];
  /**
   * Changes a step made and could not record (from the execution's history), as sentences:
   * `<kind> on <resource> (action <id>) was <outcome>`.
   */
  readonly unrecorded?: readonly string[];
  /** What the failure report itself could not do (close approvals, read the log), one line each. */
  readonly problems?: readonly string[];
}

/** A change as a failure notice lists it. */
export interface RecordedChange {
  readonly actionId: string;
  readonly kind: string;
  readonly resourceId: string;
  /** `applied`, `failed`, `not made` (read back: the call never took), or `open` (no outcome yet). */
  readonly outcome: string;
  /** Set when the outcome was read back from the live state rather than seen by the step. */
  readonly reconciled?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Text tools

/** Printable ASCII only: accents dropped, anything else `?`, whitespace collapsed. */
export function asciiSafe(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2192/g, '->')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/gu, '?')
    .trim();
}

/** An SNS subject: ASCII, one line, at most 100 characters, not starting with a space. */
export function subjectLine(text: string): string {
  const safe = asciiSafe(text);
  const subject = safe.length <= SUBJECT_MAX ? safe : `${safe.slice(0, SUBJECT_MAX - 3).trimEnd()}...`;
  return subject === '' ? 'vecguard' : subject;
}

/**
 * One line of body text: line breaks, controls and bidi characters shown as escapes (a tag value cannot forge
 * a section, nor hide that it tried), cut at `max` with the count of what was cut.
 */
function oneLine(text: string, max = LINE_MAX): string {
  return displayText(text.trim(), { max });
}

export function formatUsd(amount: number, signed = false): string {
  const abs = Math.abs(amount).toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  const sign = amount < 0 ? '-' : signed && amount > 0 ? '+' : '';
  return `${sign}$${abs}`;
}

function capped<T>(items: readonly T[], render: (item: T, index: number) => string, more: string): string[] {
  const lines = items.slice(0, LIST_MAX).map(render);
  if (items.length > LIST_MAX) lines.push(`  ... and ${items.length - LIST_MAX} more ${more}`);
  return lines;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function named(id: string, name?: string): string {
  const n = name === undefined ? '' : oneLine(name, 128);
  return n === '' || n === id ? id : `${n} (${id})`;
}

const RISK_TEXT: Readonly<Record<Risk, string>> = {
  cost: 'cost - adds to the AWS bill',
  posture: 'posture - weakens what is enforced (an exclusion lets unencrypted traffic through)',
  disruptive: 'disruptive - can interrupt workloads or refuse unencrypted traffic',
};

function attributes(
  kind: NotificationKind,
  accountId: string,
  region: string,
  extra: Record<string, string>,
) {
  return { kind, account: accountId, region, ...extra };
}

function hoursBetween(from: string, to: string): number | undefined {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.round(ms / 360_000) / 10 : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Approval request

export function approvalRequestNotification(n: ApprovalRequestNotice): Notification {
  const where = named(n.target.id, n.target.name);
  const targetNoun = n.target.type === 'vpc' ? 'VPC' : 'Transit Gateway';
  const risks = [...new Set(n.actions.flatMap((a) => a.risks))];
  const hours = hoursBetween(n.requestedAt, n.expiresAt);
  const changes = n.actions.length === 1 ? '1 change' : `${n.actions.length} changes`;
  const lines = [
    `vecguard asks for approval ${n.approvalId}: ${changes} to ${targetNoun} ${where}.`,
    ...(n.dryRun
      ? ['(Dry run: approving lets vecguard check the change with DryRun; nothing will be modified.)']
      : []),
    '',
    'WHAT WILL CHANGE',
    ...capped(
      n.actions,
      (a, i) =>
        [
          `  ${i + 1}. ${oneLine(a.summary)}`,
          `     why: ${oneLine(a.reason)}`,
          `     risk: ${a.risks.length === 0 ? 'none declared' : a.risks.join(', ')}`,
          `     monthly cost: ${formatUsd(a.monthlyCostDeltaUsd, true)}`,
        ].join('\n'),
      'changes',
    ),
    '',
    'WHERE',
    `  Account: ${n.accountId}`,
    `  Region:  ${n.region}`,
    `  ${targetNoun === 'VPC' ? 'VPC:    ' : 'TGW:    '} ${where}`,
    `  Run:     ${n.runId}`,
    '',
    'RISK',
    ...(risks.length === 0 ? ['  none declared'] : risks.map((r) => `  ${RISK_TEXT[r]}`)),
    '',
    'MONTHLY COST',
    `  ${formatUsd(n.monthlyCostUsd, true)} per month at the policy's price`,
    '',
    'WHAT YOU APPROVE',
    '  Exactly these changes as listed, on the state shown' +
      (n.digest === undefined ? '.' : ` (digest ${n.digest.slice(0, 'sha256:'.length + 16)}…).`),
    '  If any of them is different when vecguard would apply it, nothing is applied and you are asked again.',
    '',
    'EXPIRES',
    `  ${n.expiresAt}${hours === undefined ? '' : ` (${hours} hours after the request)`}.`,
    '  No answer by then counts as a rejection; the next run asks again.',
    '',
    'HOW TO ANSWER (with your own AWS credentials: IAM decides who may approve)',
    `  Approve: vecguard approve ${n.approvalId}`,
    `  Reject:  vecguard approve ${n.approvalId} --reject --reason "<why>"`,
    '',
    'This message carries no link that can approve anything; only the command above, run as you, can.',
  ];
  return {
    kind: 'approval-request',
    subject: subjectLine(
      `vecguard approval ${n.approvalId}: ${changes} to ${where} in ${n.accountId} ${n.region}`,
    ),
    message: lines.join('\n'),
    attributes: attributes('approval-request', n.accountId, n.region, {
      approvalId: n.approvalId,
      runId: n.runId,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Run report

const ENFORCED_KINDS: readonly VerdictKind[] = ['ENFORCED', 'ENFORCED_WITH_EXCLUSIONS'];

function total(counts: Readonly<Partial<Record<VerdictKind, number>>>): number {
  return Object.values(counts).reduce((sum: number, n) => sum + (n ?? 0), 0);
}

function enforced(counts: Readonly<Partial<Record<VerdictKind, number>>>): number {
  return ENFORCED_KINDS.reduce((sum, k) => sum + (counts[k] ?? 0), 0);
}

export function runReportNotification(n: RunReportNotice): Notification {
  const kinds = [
    ...VERDICT_KINDS,
    ...Object.keys({ ...n.verdictsBefore, ...n.verdictsAfter }).filter(
      (k) => !(VERDICT_KINDS as readonly string[]).includes(k),
    ),
  ] as VerdictKind[];
  const shown = kinds.filter((k) => (n.verdictsBefore[k] ?? 0) > 0 || (n.verdictsAfter[k] ?? 0) > 0);
  const width = Math.max(0, ...shown.map((k) => k.length));
  const after = total(n.verdictsAfter);
  const a = n.actions;
  // An action retried each iteration fails once per attempt: the count is of actions, the attempts follow.
  const attempts = a.failedAttempts ?? a.failed;
  const retried = attempts > a.failed ? ` (${plural(attempts, 'failed attempt')})` : '';
  const lines = [
    `vecguard run ${n.runId} finished at ${n.finishedAt} for account ${n.accountId} in ${n.region}${n.dryRun ? ' (dry run: nothing was changed)' : ''}.`,
    `${enforced(n.verdictsAfter)} of ${plural(after, 'VPC')} enforce encryption in transit (before: ${enforced(n.verdictsBefore)} of ${total(n.verdictsBefore)}).`,
    '',
    'VERDICTS (before -> after)',
    ...(shown.length === 0
      ? ['  no VPCs in scope']
      : shown.map((k) => `  ${k.padEnd(width)}  ${n.verdictsBefore[k] ?? 0} -> ${n.verdictsAfter[k] ?? 0}`)),
    '',
    'ACTIONS',
    `  applied ${a.applied}, dry-run ${a.dryRun}, failed ${a.failed}${retried}, already so ${a.alreadySo}`,
    ...capped(
      n.actionLines ?? [],
      (line) =>
        `  - ${line.outcome}: ${oneLine(line.summary)}${line.error ? ` (${oneLine(line.error, 300)})` : ''}`,
      'actions (see the audit log)',
    ),
    ...(n.approvals === undefined
      ? []
      : [
          '',
          'APPROVALS',
          `  approved ${n.approvals.approved}, rejected ${n.approvals.rejected}, expired ${n.approvals.expired}, still pending ${n.approvals.pending}`,
        ]),
    '',
    'WHAT IS LEFT AND WHY',
    ...(n.remaining.length === 0
      ? ['  nothing: every VPC in scope is where the policy wants it']
      : capped(
          n.remaining,
          (r) => `  - ${named(r.resourceId, r.name)}: ${r.verdict}. ${oneLine(r.why)}`,
          'resources (see the vecguard findings in Security Hub)',
        )),
  ];
  const failed = a.failed > 0 ? `, ${a.failed} failed` : '';
  return {
    kind: 'run-report',
    subject: subjectLine(
      `vecguard ${n.dryRun ? 'dry run' : 'run'} ${n.accountId} ${n.region}: ${enforced(n.verdictsAfter)}/${after} enforced, ${a.applied} applied${failed}, ${n.remaining.length} left`,
    ),
    message: lines.join('\n'),
    attributes: attributes('run-report', n.accountId, n.region, { runId: n.runId }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Failure report

/** What a person should do about an error, by the error's name (the taxonomy in functions/shared/errors.ts). */
export function adviceFor(
  errorName: string,
  n: Pick<FailureReportNotice, 'accountId' | 'region' | 'runId'>,
): string {
  switch (errorName) {
    case 'AccessError':
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
    case 'AuthFailure':
      return `vecguard was refused access. Check that the vecguard role in account ${n.accountId} exists, trusts the hub, and allows the action named in the error; then start the run again.`;
    case 'ExpiredToken':
    case 'InvalidClientTokenId':
      return 'The credentials vecguard used are invalid or expired. Check the role it assumes and start the run again.';
    case 'ThrottlingError':
    case 'RequestLimitExceeded':
    case 'TooManyRequestsException':
      return `AWS throttled vecguard beyond its retries in ${n.accountId} ${n.region}. The next run continues where this one stopped; if this repeats, run fewer scopes at once or ask AWS to raise the API limits.`;
    case 'InvalidInputError':
    case 'PolicyError':
    case 'ConfigError':
      return 'The input, policy or configuration is wrong and will fail the same way on retry. Fix what the error names (a policy error names the path in the policy file), redeploy, and start the run again.';
    case 'UnrecordedChangeError':
      return `A change was made and the audit log refused its record, so the run stopped before changing anything else. Its intent is in the log; the next run reads the outcome back from the live state and records it. Check the state table's health (throttling, a KMS key, an IAM change), then start a run.`;
    case 'StoreIntegrityError':
    case 'BlobIncompleteError':
    case 'BlobNotFoundError':
      return `State stored for run ${n.runId} is missing or incomplete. Start a new run; if this repeats, check the state table's health and who else writes to it.`;
    case 'States.Timeout':
      return 'A step ran past its time limit. Start the run again; if this repeats, narrow the run (fewer VPCs) or raise the step timeout.';
    case 'TransientAwsError':
    case 'AwsCallError':
    case 'Lambda.ServiceException':
    case 'Lambda.TooManyRequestsException':
      return 'An AWS call kept failing after retries. Check the AWS Health Dashboard for the Region, then start the run again.';
    default:
      return `Read the error above and the Step Functions execution history of run ${n.runId}, fix the cause, and start the run again.`;
  }
}

const CHANGES_LISTED_MAX = 50;

/** What the run changed, as the audit log says after reconciling, and anything the log cannot say. */
function changeLines(n: FailureReportNotice): string[] {
  if (n.changes === undefined) return [];
  const line = (c: RecordedChange) =>
    `  - ${c.outcome}${c.reconciled ? ' (read back from the live state)' : ''}: ${c.kind} on ${oneLine(c.resourceId, 256)} (action ${oneLine(c.actionId, 256)})`;
  const lines: string[] = ['WHAT THIS RUN CHANGED'];
  if (n.changes === null) {
    lines.push(
      '  The audit log could not be read, so the changes cannot be listed from it; the error below names any change the failing step made without recording it.',
    );
  } else if (n.changes.length === 0) {
    lines.push('  Nothing, according to the audit log.');
  } else {
    lines.push(
      `  From the audit log (${n.changes.length}):`,
      ...n.changes.slice(0, CHANGES_LISTED_MAX).map(line),
    );
    if (n.changes.length > CHANGES_LISTED_MAX) {
      lines.push(
        `  … and ${n.changes.length - CHANGES_LISTED_MAX} more: see the audit log (run ${n.runId}).`,
      );
    }
  }
  for (const u of n.unrecorded ?? [])
    lines.push(
      `  - MADE, NOT RECORDED when made (from the execution history): ${oneLine(u, ERROR_TEXT_MAX)}`,
    );
  for (const c of n.openIntents ?? []) {
    lines.push(
      `  - NOT KNOWN yet whether made (intent recorded, no outcome yet; see below): ${c.kind} on ${oneLine(c.resourceId, 256)} (action ${oneLine(c.actionId, 256)})`,
    );
  }
  for (const p of n.problems ?? []) lines.push(`  ! ${oneLine(p, ERROR_TEXT_MAX)}`);
  lines.push('');
  return lines;
}

export function failureReportNotification(n: FailureReportNotice): Notification {
  const message = n.error.message.trim() === '' ? '(no message)' : n.error.message.trim();
  // An error message can quote what AWS returned: one line, escapes shown, bounded.
  const clipped = oneLine(message, ERROR_TEXT_MAX);
  const lines = [
    `vecguard run ${n.runId} failed in state ${n.state} for account ${n.accountId} in ${n.region}${n.at ? ` at ${n.at}` : ''}.`,
    `Nothing after ${n.state} ran in this run; changes made before it stand.`,
    '',
    ...changeLines(n),
    'WHICH ERROR',
    `  ${oneLine(n.error.name, 256)}: ${clipped}`,
    '',
    'WHAT TO DO',
    `  ${adviceFor(n.error.name, n)}`,
  ];
  return {
    kind: 'failure-report',
    subject: subjectLine(`vecguard FAILED in ${n.state} ${n.accountId} ${n.region}: ${n.error.name}`),
    message: lines.join('\n'),
    attributes: attributes('failure-report', n.accountId, n.region, { runId: n.runId }),
  };
}
