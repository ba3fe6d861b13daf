/**
 * `vecguard events classify FILE...`: what the on-event function would do with each event of the files —
 * the runs it would start (account, Region, VPCs, execution name), or why it would ignore or refuse the event —
 * decided by the deployed function's own classifier (functions/domain/triggers.ts) on the events unwrapped by
 * the domain (functions/domain/event-envelopes.ts). Offline: nothing is called, nothing is started.
 */
import { parseArgs } from 'node:util';
import { terminalJson } from '../../functions/domain/display-text.ts';
import type { FoundEvent } from '../../functions/domain/event-envelopes.ts';
import { type Policy, policyNeedsOrganization } from '../../functions/domain/policy.ts';
import {
  classifyEvent,
  executionName,
  type Trigger,
  triggersToStart,
} from '../../functions/domain/triggers.ts';
import { readEventFile } from '../event-files.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';
import { EXAMPLE_POLICY_PATH, loadPolicyFile } from './policy.ts';

export const EVENTS_HELP = `Usage:
  vecguard events classify FILE... [--policy FILE]

Prints, for every event in the files, one JSON line: the runs the on-event function would start for it
(account, Region, the VPCs, the execution's name) or why it would ignore it or refuse it as invalid.
Offline: nothing is called, nothing is started.

A FILE holds JSON or JSON Lines, plain or gzip: EventBridge events, SNS messages or Lambda SNS/SQS batches
carrying them, raw CloudTrail records, or CloudTrail log files ({"Records": [...]}).

Options:
  --policy FILE   the policy whose targets a scheduled sweep covers (default: the built-in example)

Exit codes: 0 every event readable, 1 any event invalid, 2 a file that cannot be read or is not JSON.

Examples:
  vecguard events classify test/fixtures/events/cloudtrail-create-vpc.json
  vecguard events classify 111111111111_CloudTrail_us-east-1_20261124T0130Z_abc.json.gz | jq 'select(.outcome=="run")'
`;

/** One run the event would start. */
interface ScopeLine {
  readonly accountId: string;
  readonly region: string;
  /** null: the whole scope. */
  readonly vpcIds: readonly string[] | null;
  readonly source: Trigger['source'];
  readonly reason: string;
  readonly executionName: string;
}

/** One line of output: an event and what on-event would do with it. */
export type ClassifiedEvent = {
  readonly file: string;
  readonly at: string;
  readonly via: readonly string[];
  readonly id?: string;
} & (
  | { readonly outcome: 'run'; readonly scopes: readonly ScopeLine[]; readonly note?: string }
  | { readonly outcome: 'ignored' | 'invalid'; readonly reason: string }
);

/** What on-event would do with one found event, under `policy`. Never throws. */
export function classifyFound(file: string, found: FoundEvent, policy: Policy): ClassifiedEvent {
  const id = idOf(found.event);
  const where = { file, at: found.at, via: found.via, ...(id === undefined ? {} : { id }) };
  if (found.invalid !== undefined) return { ...where, outcome: 'invalid', reason: found.invalid };
  const decision = classifyEvent(found.event);
  if (decision.kind !== 'run') return { ...where, outcome: decision.kind, reason: decision.reason };
  // A sweep of a policy with OU targets needs the organisation, which only the deployed function reads.
  const offline = policyNeedsOrganization(policy) && decision.triggers.some((t) => t.source === 'schedule');
  const triggers = offline ? decision.triggers : triggersToStart(decision.triggers, policy);
  return {
    ...where,
    outcome: 'run',
    scopes: triggers.map((t) => ({
      accountId: t.accountId,
      region: t.region,
      vpcIds: t.vpcIds,
      source: t.source,
      reason: t.reason,
      executionName: executionName(t),
    })),
    ...(offline
      ? {
          note: 'the policy targets OUs: a deployed sweep reads AWS Organizations for their accounts; offline, only the scope the event came from is shown',
        }
      : {}),
  };
}

function idOf(event: unknown): string | undefined {
  const id = event !== null && typeof event === 'object' ? (event as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

export async function eventsCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(EVENTS_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'classify')
    throw new CliError(`unknown events command "${sub}"; see \`vecguard events --help\``);
  const { positionals, values } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: { policy: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    io.stdout.write(EVENTS_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) {
    throw new CliError('events classify takes one FILE or more; see `vecguard events --help`');
  }
  const policy = loadPolicyFile(values.policy ?? EXAMPLE_POLICY_PATH);
  // Every file is read before a line is printed: an unreadable one is exit 2 with nothing half-reported.
  const files = positionals.map((file) => ({ file, found: readEventFile(file) }));
  const counts = { run: 0, ignored: 0, invalid: 0, scopes: 0 };
  for (const { file, found } of files) {
    for (const event of found) {
      const line = classifyFound(file, event, policy);
      counts[line.outcome] += 1;
      if (line.outcome === 'run') counts.scopes += line.scopes.length;
      io.stdout.write(`${terminalJson(line)}\n`);
    }
  }
  const total = counts.run + counts.ignored + counts.invalid;
  io.stderr.write(
    `${total} event${total === 1 ? '' : 's'}: ${counts.run} would start runs (${counts.scopes} scope${counts.scopes === 1 ? '' : 's'}), ${counts.ignored} ignored, ${counts.invalid} invalid\n`,
  );
  return counts.invalid > 0 ? EXIT.findings : EXIT.ok;
}
