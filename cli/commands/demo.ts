import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { type CallRecord, DEFAULT_ACCOUNT_ID, ScenarioError } from '@vecguard/sandbox';
import { STEP_MAX_MS } from '../../functions/adapters/run-changes.ts';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import { parseStoredFinding } from '../../functions/domain/asff.ts';
import { displayText, terminalJson } from '../../functions/domain/display-text.ts';
import { formatUsd } from '../../functions/domain/notifications.ts';
import type { Policy } from '../../functions/domain/policy.ts';
import { setDiePoints } from '../../functions/shared/die-points.ts';
import { type LocalLoop, startLocalLoop } from '../../local/loop.ts';
import { loadFaultsFile } from '../demo/faults.ts';
import { ProgressDisplay } from '../demo/progress.ts';
import { COMPACT_ABOVE, vpcResults } from '../demo/results.ts';
import { type ApproveMode, type FileEvent, runSession, type SessionOptions } from '../demo/session.ts';
import { type DemoSummary, summarise } from '../demo/summary.ts';
import { readEventFile } from '../event-files.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';
import { renderReportHtml } from '../report/html.ts';
import { EXAMPLE_POLICY_PATH, loadPolicyFile } from './policy.ts';

export const DEMO_HELP = `Usage: vecguard demo [options]

Runs vecguard's enforcement loop end to end on a local sandbox AWS loaded with a scenario: replays the
scenario's recorded events (a VPC created while vecguard watches), then a scheduled sweep of every account
and Region of the estate, and shows each approval request. Nothing leaves this machine.

Options:
  --scenario NAME     default | large | drift | declarative-policy, or a path to a scenario file (default: default)
  --policy FILE       the policy to enforce (default: the commented example, examples/vecguard.policy.yaml)
  --approve MODE      ask: show each approval request and wait for y/n (default in a terminal)
                      all: approve everything · none: approve nothing; requests time out (default without a terminal)
  --dry-run           plan and report everything; the sandbox receives no mutating call
  --events FILE       also deliver the events of FILE to on-event, as EventBridge would, after the
                      scenario's recorded events and before the sweep (repeatable; the formats of
                      \`vecguard events classify\`)
  --faults FILE       inject faults: YAML or JSON { faults: [sandbox fault rules], die: [{ handler, point,
                      times? }] } (docs/cli.md)
  --out DIR           where to write report.html, findings.json, notifications.jsonl, audit-log.jsonl,
                      calls.jsonl (default: ./vecguard-out)
  --json              end stdout with one line: the summary as JSON (schema: docs/cli.md)

Examples:
  vecguard demo
  vecguard demo --approve all --json
  vecguard demo --scenario drift --approve all
  vecguard demo --scenario large --approve none      # 2 accounts × 2 Regions × 1000 VPCs
  vecguard demo --dry-run --out /tmp/rehearsal
  vecguard demo --approve all --events test/fixtures/event-files/cloudtrail-log-file.json
`;

/**
 * The hub: the sandbox's default credentials are this account's, as a hub's Lambda role is the hub account's.
 * A drift event that names no account or Region changes this scope.
 */
const HUB = { accountId: DEFAULT_ACCOUNT_ID, region: 'us-east-1' } as const;
/** Sandbox seconds per real second: a 10-minute enforce transition takes a second. */
const SPEED = 600;

/** A VPC's or Transit Gateway's name on one line: a Name tag can hold escapes and line breaks. */
function targetName(a: Pick<Approval, 'target'>): string {
  return displayText(a.target.name ?? a.target.id, { max: 128 });
}

/** What a person is asked to approve; every value from AWS or the table on one line (displayText). */
export function approvalText(a: Approval): string {
  const lines = [
    `Approval ${a.approvalId} — ${targetName(a)} (${displayText(a.target.id)}) · ${a.accountId} ${a.region}${a.dryRun ? ' · dry-run' : ''}`,
    ...a.actions.map(
      (x) => `  • ${displayText(x.summary)}${x.risks.length ? ` [${x.risks.join(', ')}]` : ''}`,
    ),
    `  monthly cost: ${formatUsd(a.monthlyCostUsd, true)} · unanswered, it counts as "no" at ${a.expiresAt.slice(11, 16)} UTC`,
  ];
  return `${lines.join('\n')}\n`;
}

/** " · 1 FAILED (4 attempts)": an action whose client error never stops fails once per iteration. */
function failedText(a: DemoSummary['actions']): string {
  if (a.failed === 0) return '';
  return ` · ${a.failed} FAILED${a.failedAttempts > a.failed ? ` (${a.failedAttempts} attempts)` : ''}`;
}

/** "3 delivered: 2 started runs, 1 ignored" — the --events, by what on-event did with them. */
function eventsText(e: NonNullable<DemoSummary['events']>): string {
  const parts = [
    `${e.started} started runs`,
    e.ignored ? `${e.ignored} ignored` : '',
    e.invalid ? `${e.invalid} invalid (a deployment dead-letters them)` : '',
    e.deadLettered ? `${e.deadLettered} dead-lettered after ${3} attempts` : '',
  ].filter(Boolean);
  return `${e.delivered} delivered: ${parts.join(', ')}`;
}

/**
 * One line of calls.jsonl: a call the sandbox answered, in words a reader of AWS knows — the time in ISO
 * (sandbox clock), who (the access key), and the error code when it failed (`DryRunOperation` is how EC2
 * answers a dry run that would have succeeded).
 */
function callLine(c: CallRecord) {
  return {
    seq: c.seq,
    time: new Date(c.at).toISOString(),
    service: c.service,
    action: c.action,
    ...(c.accountId ? { accountId: c.accountId } : {}),
    ...(c.region ? { region: c.region } : {}),
    ...(c.accessKeyId ? { accessKeyId: c.accessKeyId } : {}),
    mutating: c.mutating,
    dryRun: c.dryRun,
    status: c.status,
    ...(c.errorCode ? { errorCode: c.errorCode } : {}),
  };
}

export async function demoCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      scenario: { type: 'string', default: 'default' },
      policy: { type: 'string' },
      approve: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      events: { type: 'string', multiple: true },
      faults: { type: 'string' },
      out: { type: 'string', default: 'vecguard-out' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return EXIT.ok;
  }
  const interactive = Boolean(io.stdin?.isTTY);
  const approve = (values.approve ?? (interactive ? 'ask' : 'none')) as ApproveMode;
  if (!['ask', 'all', 'none'].includes(approve)) {
    throw new CliError(`--approve takes ask, all or none, got "${values.approve}"`);
  }
  if (approve === 'ask' && !io.stdin)
    throw new CliError('--approve ask needs a terminal to answer in; use --approve all or none');
  const policyFile = values.policy ? resolve(values.policy) : EXAMPLE_POLICY_PATH;
  const policy = loadPolicyFile(policyFile);
  // Read before the sandbox starts: a file that cannot be read is exit 2 with nothing to clean up.
  const events = values.events?.flatMap((file): FileEvent[] =>
    readEventFile(file).map((found) => ({
      label: `${basename(file)}${found.at === '(document)' ? '' : ` ${found.at}`}`,
      event: found.event,
      ...(found.invalid === undefined ? {} : { invalid: found.invalid }),
    })),
  );
  const faults = values.faults === undefined ? undefined : loadFaultsFile(values.faults);
  const dryRun = values['dry-run'] || policy.dryRun;
  const out = resolve(values.out);
  const started = performance.now();

  let loop: Awaited<ReturnType<typeof startLocalLoop>>;
  try {
    loop = await startLocalLoop({
      scenario: values.scenario,
      policyFile,
      speed: SPEED,
      dryRun,
      ...(faults && faults.die.length > 0 ? { dieAt: faults.die } : {}),
      // ask: ten real minutes to answer; all: an hour of sandbox time (6 s) for the scripted approver;
      // none: ten minutes of sandbox time (1 s), so that requests time out soon, as they would unanswered.
      approvalTimeoutMinutes: approve === 'ask' ? 10 * SPEED : approve === 'all' ? 60 : 10,
      // Transit Gateway encryption can take days on AWS; an hour of sandbox time keeps the demo short.
      durations: { tgwEncryptionMs: 10 * 60_000 },
    });
  } catch (e) {
    if (e instanceof ScenarioError) throw new CliError(e.message);
    throw e;
  }
  try {
    // After the loop is wired (its topic and table exist), before the first event: every call of the session.
    for (const rule of faults?.faults ?? []) loop.sandbox.faults.add(rule);
    const recovery = faults
      ? {
          clearFaults: () => {
            loop.sandbox.faults.clear();
            setDiePoints([]);
          },
          // The longest a step of a failed run may still be running in the local runner (task timeouts × speed).
          waitMs: STEP_MAX_MS / SPEED + 200,
        }
      : undefined;
    return await demoSession(loop, {
      values,
      approve,
      policy,
      policyFile,
      dryRun,
      out,
      started,
      io,
      events,
      recovery,
    });
  } finally {
    // Whatever happened, the sandbox, its port and the policy copy go with the session.
    await loop.stop();
  }
}

interface DemoContext {
  readonly values: { readonly scenario: string; readonly out: string; readonly json: boolean };
  readonly approve: ApproveMode;
  readonly policy: Policy;
  readonly policyFile: string;
  readonly dryRun: boolean;
  readonly out: string;
  readonly started: number;
  readonly io: Io;
  readonly events: readonly FileEvent[] | undefined;
  readonly recovery: SessionOptions['recovery'];
}

async function demoSession(loop: LocalLoop, context: DemoContext): Promise<ExitCode> {
  const { values, approve, policy, policyFile, dryRun, out, started, io, events, recovery } = context;
  const status = io.stderr;
  const scenario = loop.sandbox.scenario;
  status.write(
    `vecguard demo — scenario ${values.scenario}${scenario?.description ? `: ${scenario.description}` : ''}\n` +
      `policy ${policyFile} · approvals: ${approve}${dryRun ? ' · DRY-RUN: nothing will change' : ''} · sandbox ${loop.sandbox.url}\n\n`,
  );

  // Names for progress lines, from the estate the sandbox was loaded with.
  const names = new Map<string, string>();
  for (const [key, id] of Object.entries(loop.sandbox.ec2.scenarioIds))
    names.set(id, key.split('/').pop() ?? id);

  const rl =
    approve === 'ask' && io.stdin
      ? createInterface({ input: io.stdin, output: status as NodeJS.WritableStream })
      : undefined;
  // The status line is rewritten in place only where stderr is a terminal (a pipe or a file gets lines).
  const display = new ProgressDisplay(status, {
    interactive: Boolean(status.isTTY),
    ...(status.columns ? { columns: status.columns } : {}),
    names,
  });
  // One line per answered approval reads well for a handful of VPCs, not for thousands.
  const estateVpcs = (scenario?.estate.accounts ?? [])
    .flatMap((a) => a.regions)
    .reduce((n, r) => n + r.vpcs.length, 0);
  const approvalLines = approve !== 'ask' && estateVpcs <= COMPACT_ABOVE;
  if (approve !== 'ask' && !approvalLines)
    display.say(`${estateVpcs} VPCs: approvals are not listed one by one (they are in notifications.jsonl)`);

  let result: Awaited<ReturnType<typeof runSession>>;
  let deadLettered = 0;
  try {
    result = await runSession(
      loop,
      {
        approve,
        policyHasTargets: policy.targets.length > 0,
        ...HUB,
        ...(events ? { events } : {}),
        ...(recovery ? { recovery } : {}),
      },
      {
        onRunsStarted: (batch, runs) => display.runsStarted(batch, runs),
        onRunFinished: (runId, label, runStatus) => display.runFinished(runId, label, runStatus),
        onProgress: (p) => display.progress(p),
        onResourceCreated: (id, name) => names.set(id, name),
        onEventDelivered: (label, delivery) => {
          if (delivery.outcome === 'dead-lettered') deadLettered++;
          // One line an event for a handful; a burst of thousands is counted at the end instead.
          if ((events?.length ?? 0) > COMPACT_ABOVE) return;
          display.say(
            // The label names the user's file; the reason quotes the event: neither reaches the terminal raw.
            `  event ${displayText(label, { max: 256 })}: ${delivery.outcome === 'started' ? `started ${delivery.executions} run(s)` : `${delivery.outcome}: ${displayText(delivery.reason, { max: 512 })}`}`,
          );
        },
        ask: rl
          ? async (approval) => {
              display.pause();
              status.write(approvalText(approval));
              const answer = (await rl.question('Approve? [y/N] ')).trim().toLowerCase();
              display.resume();
              return answer === 'y' || answer === 'yes';
            }
          : undefined,
        onApprovalAnswered: (approval, decision) => {
          if (!approvalLines) return;
          display.say(`  approval ${approval.approvalId} for ${targetName(approval)}: ${decision}`);
        },
      },
    );
  } finally {
    rl?.close();
  }
  display.end();

  const sandbox = loop.sandbox;
  // vecguard's own changes: its credentials and the member roles it assumed with them. The recorded events
  // replay people's calls with their own credentials.
  const sts = sandbox.sts;
  const vecguardKeys = new Set([
    sandbox.clientCredentials.accessKeyId,
    ...sts.sessions.filter((s) => s.callerAccountId === HUB.accountId).map((s) => s.accessKeyId),
  ]);
  const mutatingCalls = sandbox.calls
    .query()
    .filter(
      (c) => c.service === 'ec2' && c.mutating && !c.dryRun && vecguardKeys.has(c.accessKeyId ?? ''),
    ).length;
  const calls = sandbox.calls.query();
  const summary = summarise({
    scenario: values.scenario,
    dryRun,
    approve,
    runs: result.runs,
    auditLog: result.auditLog,
    mutatingCalls,
    executionsStarted: calls.filter(
      (c) => c.service === 'states' && c.action === 'StartExecution' && c.errorCode === undefined,
    ).length,
    approvalRequests: sandbox.sns.published.filter(
      (m) => m.messageAttributes.kind?.StringValue === 'approval-request',
    ).length,
    ...(result.deliveries ? { events: result.deliveries } : {}),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });

  // The files a person keeps: the report page, and the raw records behind it.
  const hub = sandbox.securityHub;
  const sns = sandbox.sns;
  // As vecguard imported them (what Security Hub adds on its side, like Workflow, is left out).
  const findings = result.scopes.flatMap((s) => hub.findings(s.accountId, s.region).map(parseStoredFinding));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'findings.json'), `${terminalJson(findings, 2)}\n`);
  writeFileSync(
    join(out, 'notifications.jsonl'),
    sns.published.map((m) => terminalJson(m)).join('\n') + (sns.published.length ? '\n' : ''),
  );
  writeFileSync(
    join(out, 'audit-log.jsonl'),
    result.auditLog.map((e) => terminalJson(e)).join('\n') + (result.auditLog.length ? '\n' : ''),
  );
  writeFileSync(join(out, 'calls.jsonl'), calls.map((c) => `${terminalJson(callLine(c))}\n`).join(''));
  writeFileSync(
    join(out, 'report.html'),
    renderReportHtml({
      summaries: result.runs.flatMap((r) => (r.summary ? [r.summary] : [])),
      approvals: result.runs.flatMap((r) => r.approvals),
      auditLog: result.auditLog,
      findings,
      ...(scenario ? { scenario: { name: values.scenario, description: scenario.description } } : {}),
      generatedAt: new Date().toISOString(),
      dryRun,
    }),
  );

  const tgws = summary.transitGateways.map(
    (t) =>
      `Transit Gateway ${displayText(t.name ?? t.id, { max: 128 })}: encryption support ${displayText(t.encryptionSupport)}`,
  );
  const failed = summary.runs.filter((r) => r.status !== 'SUCCEEDED');
  io.stdout.write(
    `\n${vpcResults(summary, join(values.out, 'report.html'))}\n\n${tgws.join('\n')}${tgws.length ? '\n' : ''}` +
      `approvals: ${summary.approvals.requested} requested, ${summary.approvals.approved} approved, ` +
      `${summary.approvals.rejected} rejected, ${summary.approvals.expired} expired · ` +
      `${summary.actions.applied} actions applied${dryRun ? ` (${summary.actions.dryRun} dry-run)` : ''}` +
      `${failedText(summary.actions)} · ` +
      `${summary.mutatingCalls} mutating calls · ${summary.seconds} s\n` +
      `${failed.map((r) => `run ${r.runId} (${displayText(r.label)}) ${r.status}: ${displayText(r.error ?? '', { max: 2_000 })}\n`).join('')}` +
      `${summary.events ? `events: ${eventsText(summary.events)}\n` : ''}` +
      `files: ${join(values.out, 'report.html')}, findings.json, notifications.jsonl, audit-log.jsonl, calls.jsonl\n` +
      (values.json ? `${terminalJson(summary)}\n` : ''),
  );
  // A run that failed, or an event on-event could not take (kept in the dead-letter queue), is not a success.
  return failed.length > 0 || deadLettered > 0 ? EXIT.aws : EXIT.ok;
}
