/**
 * `vecguard scan` and `vecguard plan`: read one account + Region, audit it against the policy, and (plan)
 * show the remediation the loop would carry out. Both only read: the EC2 gateway is in dry-run, no state
 * machine and no state table are involved, and nothing is imported into Security Hub.
 */
import { parseArgs } from 'node:util';
import { whoAmI } from '../../functions/adapters/identity.ts';
import { readInventory } from '../../functions/adapters/inventory.ts';
import { readParentChain } from '../../functions/adapters/organizations.ts';
import { describeAction } from '../../functions/domain/action-text.ts';
import type { Finding } from '../../functions/domain/asff.ts';
import { audit } from '../../functions/domain/audit.ts';
import { displayText, terminalJson } from '../../functions/domain/display-text.ts';
import { findingsForAudit } from '../../functions/domain/findings.ts';
import type { InventorySnapshot } from '../../functions/domain/model.ts';
import { formatUsd } from '../../functions/domain/notifications.ts';
import { plan as planRemediation } from '../../functions/domain/planner.ts';
import { organizationalUnitsOf, policyNeedsOrganization } from '../../functions/domain/policy.ts';
import type { RemediationPlan } from '../../functions/domain/remediation-plan.ts';
import {
  type AuditReport,
  PEERING_VERDICT_KINDS,
  TGW_VERDICT_KINDS,
  VERDICT_KINDS,
  type VpcVerdict,
} from '../../functions/domain/verdict.ts';
import { AccessError } from '../../functions/shared/errors.ts';
import { AwsClients, awsFailure, withCause } from '../aws.ts';
import { type Cell, paint, plural, type Style, styleFor, type Tone, table } from '../format.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';
import { EXAMPLE_POLICY_PATH, loadPolicyFile } from './policy.ts';

const FAIL_ON_ANY = 'any-failed';
const FAIL_ON_VALUES: readonly string[] = [
  ...VERDICT_KINDS,
  ...TGW_VERDICT_KINDS,
  ...PEERING_VERDICT_KINDS,
  FAIL_ON_ANY,
];

const COMMON_OPTIONS = `  --region R            the Region to read (default: AWS_REGION, or your profile's region)
  --profile P           a profile of ~/.aws/config (default: the SDK's credential chain, AWS_PROFILE)
  --policy FILE         the policy to judge against (default: the built-in example policy,
                        examples/vecguard.policy.yaml: enforce everywhere, accept the InternetGateway
                        and NatGateway exclusions, every action needs approval)
  --fail-on V[,V…]      exit 1 when a VPC, Transit Gateway or peering has one of these verdicts, e.g.
                        BLOCKED,DRIFTED; any-failed: any finding whose compliance is FAILED
  --help, -h            this help

Talks to AWS with your own credentials, or to a vecguard sandbox when AWS_ENDPOINT_URL points at one.
Exit codes: 0 ok, 1 a --fail-on verdict was found, 2 bad flags or policy, 3 AWS unreachable or refused.
`;

export const SCAN_HELP = `Usage: vecguard scan [options]

Reads every VPC, Transit Gateway and peering of one account + Region and says where each stands on VPC
Encryption Controls. Read-only: it makes no change and needs only ec2:Describe* and
ec2:GetVpcResourcesBlockingEncryptionEnforcement (the account id comes from STS GetCallerIdentity). A policy
whose targets name OUs also needs organizations:ListParents, which Organizations answers only to its
management account or a delegated administrator.

Options:
  --format F            table (default), json (the audit report) or asff (the Security Hub findings the
                        loop would import)
${COMMON_OPTIONS}
Examples:
  vecguard scan --region eu-west-1
  vecguard scan --profile prod --policy vecguard.policy.yaml --fail-on any-failed
  vecguard scan --format asff > findings.json
  vecguard scan --fail-on BLOCKED,DRIFTED   # in a shell with the exports \`vecguard sandbox\` prints
`;

export const PLAN_HELP = `Usage: vecguard plan [options]

Everything scan shows, then the remediation plan the loop would carry out: ordered actions, each with its
gate (auto, approval, off, manual), risk, monthly cost, status and reason. Always a dry run: it changes
nothing (--dry-run is accepted and implied).

Options:
  --format F            table (default) or json ({ audit, plan })
  --dry-run             implied; accepted for scripts that say it
${COMMON_OPTIONS}
Examples:
  vecguard plan --region us-east-1
  vecguard plan --policy vecguard.policy.yaml --format json | jq '.plan.actions[] | select(.gate=="approval")'
`;

type Format = 'table' | 'json' | 'asff';

interface Assessment {
  readonly accountId: string;
  readonly region: string;
  readonly policyFile: string;
  readonly builtInPolicy: boolean;
  readonly snapshot: InventorySnapshot;
  readonly report: AuditReport;
  readonly findings: Finding[];
  readonly plan?: RemediationPlan;
}

function parseFailOn(values: readonly string[] | undefined): Set<string> {
  const wanted = new Set<string>();
  for (const raw of (values ?? []).flatMap((v) => v.split(','))) {
    const value = raw.trim();
    if (value === '') continue;
    const canonical =
      value.toLowerCase() === FAIL_ON_ANY ? FAIL_ON_ANY : value.toUpperCase().replace(/-/g, '_');
    if (!FAIL_ON_VALUES.includes(canonical)) {
      throw new CliError(
        `--fail-on: unknown verdict "${value}"; use any of ${[...VERDICT_KINDS, FAIL_ON_ANY].join(', ')} (or a TGW_/PEERING_ verdict)`,
      );
    }
    wanted.add(canonical);
  }
  return wanted;
}

async function assess(
  flags: { region?: string; profile?: string; policy?: string },
  withPlan: boolean,
): Promise<Assessment> {
  const policyFile = flags.policy ?? EXAMPLE_POLICY_PATH;
  const policy = loadPolicyFile(policyFile);
  const clients = new AwsClients({ region: flags.region, profile: flags.profile });
  try {
    const region = await clients.region();
    // The account id comes from the credentials, never from a flag.
    const identity = await whoAmI(clients.sts);
    // OU targets match only when the account's OUs are known: read them as the loop's on-event does.
    const organizationalUnitIds = policyNeedsOrganization(policy)
      ? await accountChain(clients, identity.accountId, organizationalUnitsOf(policy))
      : [];
    const ec2 = await clients.readOnlyEc2();
    const snapshot = await readInventory(ec2, {
      accountId: identity.accountId,
      region,
      takenAt: new Date().toISOString(),
      organizationalUnitIds,
    });
    // No verdict history here: the loop's table remembers verdicts, a scan does not (so no DRIFTED).
    const report = audit(snapshot, policy);
    const findings = findingsForAudit(report);
    const remediation = withPlan
      ? planRemediation(report, snapshot, policy, { at: new Date(), dryRun: true })
      : undefined;
    return {
      accountId: identity.accountId,
      region,
      policyFile,
      builtInPolicy: flags.policy === undefined,
      snapshot,
      report,
      findings,
      ...(remediation ? { plan: remediation } : {}),
    };
  } catch (e) {
    throw awsFailure(e, clients, 'sts');
  } finally {
    clients.close();
  }
}

/**
 * The scanned account's parent chain, read with the scan's own credentials (ListParents). A refusal is the
 * adapter's one line — why, from where, the alternative — as a usage-of-AWS error (exit 3), not the generic
 * "the identity needs organizations:ListParents": the fix may be other credentials or another policy.
 */
async function accountChain(
  clients: AwsClients,
  accountId: string,
  organizationalUnits: readonly string[],
): Promise<string[]> {
  try {
    return await readParentChain(await clients.organizations(), accountId, {
      organizationalUnits,
      reader: `the account of these credentials (${accountId})`,
    });
  } catch (e) {
    if (e instanceof AccessError && e.service === 'organizations') {
      throw withCause(new CliError(e.message, EXIT.aws), e);
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tables

const GOOD = new Set([
  'ENFORCED',
  'ENFORCED_WITH_EXCLUSIONS',
  'EXEMPT',
  'TGW_ENCRYPTION_ENABLED',
  'PEERING_ENCRYPTED',
  'PEERING_NOT_APPLICABLE',
]);
const WARN = new Set(['READY_TO_ENFORCE', 'TRANSITIONING', 'MANAGED_ELSEWHERE', 'TGW_ENCRYPTION_ENABLING']);

function toneOf(verdict: string): Tone {
  return GOOD.has(verdict) ? 'good' : WARN.has(verdict) ? 'warn' : 'bad';
}

/** What to do next about a VPC, in a few words; `vecguard plan` has the detail. */
export function nextStep(v: VpcVerdict): string {
  const wantsEnforce = v.desiredMode === 'enforce';
  switch (v.verdict) {
    case 'ENFORCED':
      return 'none';
    case 'ENFORCED_WITH_EXCLUSIONS':
      return `none (excluded: ${v.exclusionsEnabled.join(', ')})`;
    case 'READY_TO_ENFORCE':
      if (!wantsEnforce) return `none (policy asks ${v.desiredMode})`;
      return v.exclusionsNeeded.length
        ? `switch to enforce with ${v.exclusionsNeeded.join(', ')} excluded`
        : 'switch to enforce';
    case 'BLOCKED':
      if (!wantsEnforce) return `none (policy asks ${v.desiredMode})`;
      return v.exclusionsRefused.length
        ? `remove or accept ${v.exclusionsRefused.join(', ')}; clear blockers`
        : `clear ${plural(v.blockers.length, 'blocker')}`;
    case 'UNMONITORED':
      return 'create a monitor control';
    case 'TRANSITIONING':
      return 'wait: a change is in progress';
    case 'TRANSITION_FAILED':
      return 'read the state message, then retry';
    case 'DRIFTED':
      return 'restore enforce';
    case 'EXEMPT':
      return 'none (exempt)';
    case 'MANAGED_ELSEWHERE':
      return 'none here (a declarative policy owns it)';
  }
}

function modeState(v: VpcVerdict): string {
  return v.currentMode ? `${v.currentMode}/${v.controlState ?? '?'}` : 'no control';
}

function verdictCell(verdict: string): Cell {
  return { text: verdict, tone: toneOf(verdict) };
}

function namesOf(a: Assessment): Record<string, string> {
  const names: Record<string, string> = {};
  for (const v of a.report.vpcs) names[v.vpcId] = v.name;
  for (const t of a.snapshot.transitGateways) if (t.tags.Name) names[t.transitGatewayId] = t.tags.Name;
  return names;
}

function named(id: string, names: Readonly<Record<string, string>>): string {
  const name = names[id];
  return name && name !== id ? `${name} (${id})` : id;
}

function auditTables(a: Assessment, style: Style): string {
  const { report } = a;
  const names = namesOf(a);
  const out: string[] = [
    `account ${a.accountId} · ${a.region} · ${plural(report.vpcs.length, 'VPC')} · policy ${a.builtInPolicy ? 'built-in example (examples/vecguard.policy.yaml)' : a.policyFile}`,
  ];
  if (report.managedElsewhere) {
    out.push(
      paint(
        "the account's encryption controls are managed by a declarative policy: reported here, never changed by vecguard",
        'warn',
        style,
      ),
    );
  }
  out.push('');
  out.push(
    report.vpcs.length
      ? table(
          ['VPC', 'ID', 'VERDICT', 'MODE/STATE', 'BLOCKERS', 'NEXT'],
          report.vpcs.map((v) => [
            v.name === v.vpcId ? '-' : v.name,
            v.vpcId,
            verdictCell(v.verdict),
            modeState(v),
            String(v.blockers.length),
            nextStep(v),
          ]),
          style,
        )
      : 'no VPCs in this Region',
  );
  if (report.transitGateways.length) {
    out.push('');
    out.push(
      table(
        ['TRANSIT GATEWAY', 'VERDICT', 'ENCRYPTION', 'VPCS', 'NEXT'],
        report.transitGateways.map((t) => [
          named(t.transitGatewayId, names),
          verdictCell(t.verdict),
          t.encryptionSupport,
          String(t.attachedVpcIds.length),
          t.verdict === 'TGW_ENCRYPTION_DISABLED'
            ? t.unmetPreconditions.length
              ? `fix first: ${t.unmetPreconditions.join('; ')}`
              : 'enable encryption support'
            : t.verdict === 'TGW_ENCRYPTION_ENABLING'
              ? 'wait (can take days)'
              : 'none',
        ]),
        style,
      ),
    );
  }
  if (report.peerings.length) {
    out.push('');
    out.push(
      table(
        ['PEERING', 'BETWEEN', 'VERDICT', 'NEXT'],
        report.peerings.map((p) => [
          p.peeringConnectionId,
          `${names[p.requesterVpcId] ?? p.requesterVpcId} ↔ ${names[p.accepterVpcId] ?? p.accepterVpcId}`,
          verdictCell(p.verdict),
          p.verdict === 'PEERING_NEEDS_EXCLUSION' && p.needsExclusionOn.length
            ? `VpcPeering exclusion on ${p.needsExclusionOn.map((id) => names[id] ?? id).join(', ')} while enforced`
            : 'none',
        ]),
        style,
      ),
    );
  }
  const status = (s: string) => a.findings.filter((f) => f.Compliance?.Status === s).length;
  out.push('');
  out.push(
    `findings: ${status('PASSED')} passed, ${status('FAILED')} failed, ${status('WARNING')} warning` +
      (a.plan ? '' : ' · `vecguard plan` shows what would fix them'),
  );
  return `${out.join('\n')}\n`;
}

const GATE_TONE: Readonly<Record<string, Tone>> = {
  auto: 'good',
  approval: 'warn',
  off: 'dim',
  manual: 'dim',
};

function planTable(a: Assessment, style: Style): string {
  const p = a.plan;
  if (!p) return '';
  const names = namesOf(a);
  const s = p.summary;
  const head =
    `plan (dry run: nothing was changed) · ${plural(p.actions.length, 'action')}: ${s.ready} ready ` +
    `(${s.needApproval} need approval), ${s.deferred} deferred, ${s.skipped} off, ${s.guidance} for a person · ` +
    `${formatUsd(s.monthlyCostDeltaUsd, true)}/month if the ready ones are applied`;
  if (p.actions.length === 0) return `\n${head}\nnothing to do\n`;
  const rows: string[] = [];
  // The action's text is the last column (never padded), its reason on the line below it.
  const body = table(
    ['#', 'STATUS', 'GATE', 'RISK', '$/MONTH', 'ACTION'],
    p.actions.map((action, i) => [
      String(i + 1),
      { text: action.status, tone: action.status === 'ready' ? 'good' : 'dim' },
      { text: action.gate, tone: GATE_TONE[action.gate] },
      action.risks.join(',') || '-',
      action.monthlyCostDeltaUsd === 0 ? '-' : formatUsd(action.monthlyCostDeltaUsd, true),
      describeAction(action, names),
    ]),
    style,
  ).split('\n');
  const indent = ' '.repeat((body[0] ?? '').indexOf('ACTION'));
  rows.push(body[0] ?? '');
  p.actions.forEach((action, i) => {
    rows.push(body[i + 1] ?? '');
    if (action.kind !== 'manual-guidance')
      rows.push(paint(`${indent}why: ${displayText(action.reason)}`, 'dim', style));
  });
  return `\n${head}\n\n${rows.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// The commands

interface Matched {
  readonly id: string;
  readonly name: string;
  readonly verdict: string;
}

/** What --fail-on matches: verdicts by name, and any-failed by the findings' compliance. */
function failOnMatches(a: Assessment, wanted: ReadonlySet<string>): Matched[] {
  const names = namesOf(a);
  const resources: Matched[] = [
    ...a.report.vpcs.map((v) => ({ id: v.vpcId, name: v.name, verdict: v.verdict as string })),
    ...a.report.transitGateways.map((t) => ({
      id: t.transitGatewayId,
      name: names[t.transitGatewayId] ?? t.transitGatewayId,
      verdict: t.verdict as string,
    })),
    ...a.report.peerings.map((p) => ({
      id: p.peeringConnectionId,
      name: p.peeringConnectionId,
      verdict: p.verdict,
    })),
  ];
  // findingsForAudit keeps the report's order: VPCs, then Transit Gateways, then peerings.
  return resources.filter(
    (r, i) =>
      wanted.has(r.verdict) || (wanted.has(FAIL_ON_ANY) && a.findings[i]?.Compliance?.Status === 'FAILED'),
  );
}

async function assessCommand(name: 'scan' | 'plan', args: readonly string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      region: { type: 'string' },
      profile: { type: 'string' },
      policy: { type: 'string' },
      format: { type: 'string', default: 'table' },
      'fail-on': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
      ...(name === 'plan' ? { 'dry-run': { type: 'boolean' as const, default: true } } : {}),
    },
  });
  if (values.help) {
    io.stdout.write(name === 'scan' ? SCAN_HELP : PLAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length)
    throw new CliError(
      `${name} takes no arguments, got "${positionals[0]}"; see \`vecguard ${name} --help\``,
    );
  const formats: readonly Format[] = name === 'scan' ? ['table', 'json', 'asff'] : ['table', 'json'];
  const format = values.format as Format;
  if (!formats.includes(format)) {
    throw new CliError(
      `--format takes ${formats.join(', ')}, got "${values.format}"${name === 'plan' && format === 'asff' ? '; for findings use `vecguard scan --format asff`' : ''}`,
    );
  }
  if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(values.region))
    throw new CliError(`--region takes a Region such as us-east-1, got "${values.region}"`);
  const failOn = parseFailOn(values['fail-on']);

  const a = await assess(
    {
      ...(values.region ? { region: values.region } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values.policy ? { policy: values.policy } : {}),
    },
    name === 'plan',
  );
  const style = styleFor(io);
  if (format === 'json') {
    const body = name === 'plan' ? { audit: a.report, plan: a.plan } : a.report;
    io.stdout.write(`${terminalJson(body, 2)}\n`);
  } else if (format === 'asff') {
    io.stdout.write(`${terminalJson(a.findings, 2)}\n`);
  } else {
    io.stdout.write(auditTables(a, style) + planTable(a, style));
  }

  if (failOn.size === 0) return EXIT.ok;
  const matched = failOnMatches(a, failOn);
  if (matched.length === 0) return EXIT.ok;
  const shown = matched.slice(0, 10).map((m) => `${displayText(m.name, { max: 128 })} ${m.verdict}`);
  io.stderr.write(
    `vecguard: ${plural(matched.length, 'resource')} matched --fail-on ${[...failOn].join(',')}: ${shown.join(', ')}${matched.length > shown.length ? ', …' : ''}\n`,
  );
  return EXIT.findings;
}

export function scanCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  return assessCommand('scan', args, io);
}

export function planCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  return assessCommand('plan', args, io);
}
