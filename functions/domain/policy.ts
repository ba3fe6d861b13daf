/**
 * The policy: a file the user owns that says which VPCs should be in which mode, which exclusions are
 * acceptable, and which actions vecguard may take on its own. Validated with a schema; every problem is
 * reported with the path that holds it and what would be accepted there.
 *
 * Safe defaults: with an empty policy every action waits for a human approval, nothing is `auto`.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  ACTION_RISKS,
  GATED_ACTION_KINDS,
  type Gate,
  type GatedActionKind,
  GateSchema,
} from './action-kinds.ts';
import { ApproverSchema } from './approvers.ts';
import { PolicyError } from './errors.ts';
import {
  AccountIdSchema,
  type ExclusionName,
  ExclusionNameSchema,
  IGNORE_TAG,
  MODE_TAG,
  RegionSchema,
  type Tags,
} from './model.ts';
import { ParentIdSchema } from './organization.ts';

export const DesiredModeSchema = z.enum(['enforce', 'monitor', 'ignore']);
export type DesiredMode = z.infer<typeof DesiredModeSchema>;

const gateShape = Object.fromEntries(GATED_ACTION_KINDS.map((k) => [k, GateSchema.optional()])) as Record<
  GatedActionKind,
  z.ZodOptional<typeof GateSchema>
>;
export const ActionGatesSchema = z.strictObject(gateShape);
export type ActionGates = Partial<Record<GatedActionKind, Gate>>;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time is HH:MM, 24-hour');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const MaintenanceWindowSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
    /** Start of the window, local to `timezone`. A window whose end is before its start spans midnight. */
    start: HHMM,
    end: HHMM,
    timezone: z
      .string()
      .default('UTC')
      .refine(isKnownTimeZone, 'an IANA time zone such as UTC or Europe/Berlin'),
  })
  .refine((w) => w.start !== w.end, { message: 'start and end must differ', path: ['end'] });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

const TagValuesSchema = z.union([z.string(), z.array(z.string()).min(1)]);

export const TargetSchema = z.strictObject({
  name: z.string().min(1),
  /** Absent: every account. */
  accounts: z.array(AccountIdSchema).min(1).optional(),
  /**
   * Absent: every OU. Matches when the account sits anywhere below one of these (its parent chain, read
   * from AWS Organizations: functions/domain/organization.ts). A policy with such a target needs the
   * organisation read: `policyNeedsOrganization`.
   */
  organizationalUnits: z.array(ParentIdSchema).min(1).optional(),
  /** Absent: every Region. */
  regions: z.array(RegionSchema).min(1).optional(),
  /** Every listed tag must match; a list of values means any of them. */
  vpcTags: z.record(z.string(), TagValuesSchema).optional(),
  mode: DesiredModeSchema,
  /** Exclusions this target accepts; absent: the policy's defaults. */
  acceptableExclusions: z.array(ExclusionNameSchema).optional(),
  /** Gates that override the defaults for this target. */
  actions: ActionGatesSchema.optional(),
});
export type Target = z.infer<typeof TargetSchema>;

/**
 * No policy may let one run, or one sweep, make more changes than this. Each change is one item of the
 * change-budget set in the state table (functions/adapters/store/change-budget.ts), well under DynamoDB's
 * 400 KB item limit at this size; and a rollout of more than a thousand changes at once is one no reviewer
 * can follow.
 */
export const MAX_CHANGES_HARD_LIMIT = 1000;

export const DEFAULT_LIMITS = { maxChangesPerRun: 25, maxChangesPerSweep: 100, maxMonthlyCostUsd: 1000 };

export const PolicySchema = z.strictObject({
  version: z.literal(1),
  /** Plan and report everything; apply nothing (mutating calls go out with DryRun or not at all). */
  dryRun: z.boolean().default(false),
  pricing: z
    .strictObject({
      /** Price of one VPC encryption control per hour (billed from 2026-03-01; monitor mode included). */
      perVpcHourUsd: z.number().nonnegative().default(0.15),
      hoursPerMonth: z.number().positive().default(730),
    })
    .default({ perVpcHourUsd: 0.15, hoursPerMonth: 730 }),
  approval: z
    .strictObject({
      /** An unanswered approval is rejected after this long. */
      timeoutMinutes: z.number().int().min(1).max(43_200).default(1440),
      /**
       * Who may answer (functions/domain/approvers.ts): principal ARNs or patterns of the hub account.
       * Absent or empty: any principal of the hub account that holds the `vecguard-approver` policy.
       */
      approvers: z.array(ApproverSchema).optional(),
    })
    .default({ timeoutMinutes: 1440 }),
  limits: z
    .strictObject({
      /**
       * Blast radius: changes one run may make, across all its iterations (auto and approved together);
       * the rest are deferred to the next run. Counted in the state table (docs/loop.md "Change caps").
       */
      maxChangesPerRun: z
        .number()
        .int()
        .min(0)
        .max(
          MAX_CHANGES_HARD_LIMIT,
          `at most ${MAX_CHANGES_HARD_LIMIT} (a hard maximum); roll out larger estates over several runs`,
        )
        .default(DEFAULT_LIMITS.maxChangesPerRun),
      /** Changes all the runs of one scheduled sweep may make together, across every scope it starts. */
      maxChangesPerSweep: z
        .number()
        .int()
        .min(0)
        .max(
          MAX_CHANGES_HARD_LIMIT,
          `at most ${MAX_CHANGES_HARD_LIMIT} (a hard maximum); roll out larger estates over several sweeps`,
        )
        .default(DEFAULT_LIMITS.maxChangesPerSweep),
      /** Actions whose added monthly cost would pass this are deferred. */
      maxMonthlyCostUsd: z.number().nonnegative().default(DEFAULT_LIMITS.maxMonthlyCostUsd),
    })
    .default(DEFAULT_LIMITS),
  /**
   * Where new flow logs carrying `${encryption-status}` are delivered. Absent: vecguard plans no flow logs
   * (it cannot guess a destination), and only reports VPCs that lack one.
   */
  flowLogs: z
    .strictObject({
      destinationType: z.enum(['cloud-watch-logs', 's3']),
      /** A log group ARN or an S3 bucket ARN. */
      destination: z.string().startsWith('arn:', 'an ARN (arn:aws:logs:… or arn:aws:s3:::bucket)'),
      /** The role CloudWatch Logs delivery assumes; required for cloud-watch-logs. */
      deliverLogsPermissionArn: z.string().startsWith('arn:', 'an IAM role ARN').optional(),
    })
    .refine((f) => f.destinationType === 's3' || f.deliverLogsPermissionArn !== undefined, {
      message: 'cloud-watch-logs delivery needs deliverLogsPermissionArn (an IAM role ARN)',
      path: ['deliverLogsPermissionArn'],
    })
    .optional(),
  /** When mutating actions may run. Empty: any time. */
  maintenanceWindows: z.array(MaintenanceWindowSchema).default([]),
  defaults: z
    .strictObject({
      mode: DesiredModeSchema.default('enforce'),
      acceptableExclusions: z.array(ExclusionNameSchema).default([]),
      actions: ActionGatesSchema.default({}),
    })
    .default({ mode: 'enforce', acceptableExclusions: [], actions: {} }),
  /** First match wins. */
  targets: z.array(TargetSchema).default([]),
});
export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

/** Every kind waits for a human unless the policy says otherwise: every kind carries a risk. */
export const DEFAULT_GATES: Readonly<Record<GatedActionKind, Gate>> = Object.fromEntries(
  GATED_ACTION_KINDS.map((k) => [k, ACTION_RISKS[k].length > 0 ? 'approval' : 'auto']),
) as Record<GatedActionKind, Gate>;

function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_value':
      return `${where}: ${issue.message}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys': {
      const prefix = where === '(top level)' ? '' : `${where}.`;
      return issue.keys.map((k) => `${prefix}${k}: unknown key; remove it or check its spelling`).join('\n');
    }
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Validate an already-parsed policy object. Throws PolicyError naming every bad path. */
export function validatePolicy(input: unknown, source = 'policy'): Policy {
  const result = PolicySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((i) => describeIssue(i).split('\n'));
  throw new PolicyError(source, problems);
}

/**
 * Parse limits. A policy is a few KB; these bounds are far above any real one and keep a hostile or mistaken
 * file (a 38 MB log passed as --policy, a YAML "billion laughs" of nested aliases) from costing minutes of
 * parsing or memory before the schema even sees it. Readers of a policy file check the size before reading
 * (functions/shared/policy-file.ts); the text is checked again here for callers that pass text.
 */
export const POLICY_LIMITS = {
  /** Bytes of the file (UTF-8). */
  maxBytes: 1024 * 1024,
  /**
   * yaml's `maxAliasCount`: how far aliases (`*name`) may expand, counted as yaml counts it (the nodes an
   * alias stands for × the aliases). yaml's own default, made explicit: anchors for a few shared gates fit.
   */
  maxAliasCount: 100,
} as const;

const MAX_SYNTAX_ERRORS = 10;
const TOO_DEEP =
  'its YAML nests too deeply to read (a policy is a few levels deep): check that this is the policy file';

/** A byte count as people read it: `512 B`, `3.4 KiB`, `38.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${Number((bytes / (1024 * 1024)).toFixed(1))} MiB`;
}

/** The problem line for a policy of `bytes` bytes, or undefined when it is within the limit. */
export function policySizeProblem(bytes: number): string | undefined {
  if (bytes <= POLICY_LIMITS.maxBytes) return undefined;
  return `the file is ${formatBytes(bytes)}; a policy may be at most ${formatBytes(POLICY_LIMITS.maxBytes)} (a real one is a few KB): check that this is the policy file`;
}

/**
 * A policy file's text as plain data (YAML, of which JSON is a subset), within the parse limits: the one
 * way the product turns policy text into data. Throws PolicyError with line numbers for syntax errors, and
 * one line for a file too large or aliases that expand too far.
 */
export function parsePolicyDocument(text: string, source = 'policy'): unknown {
  // Characters never outnumber UTF-8 bytes, so a text longer than the limit is too large without encoding it.
  const tooLarge = policySizeProblem(
    text.length > POLICY_LIMITS.maxBytes ? text.length : new TextEncoder().encode(text).byteLength,
  );
  if (tooLarge) throw new PolicyError(source, [tooLarge]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.some((e) => /call stack/i.test(e.message))) throw new PolicyError(source, [TOO_DEEP]);
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const line = e.linePos?.[0];
      const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      return `${line ? `line ${line.line}, column ${line.col}` : 'syntax'}: ${what}`;
    });
    // One broken bracket can make hundreds of errors: the first few locate it.
    const shown = lines.slice(0, MAX_SYNTAX_ERRORS);
    if (lines.length > shown.length)
      shown.push(
        `… and ${lines.length - shown.length} more syntax errors after these; fix the first ones first`,
      );
    throw new PolicyError(source, shown);
  }
  try {
    return doc.toJS({ maxAliasCount: POLICY_LIMITS.maxAliasCount });
  } catch (e) {
    // yaml throws a ReferenceError ("Excessive alias count…") when aliases expand past maxAliasCount, and
    // a RangeError when nesting is deep enough to exhaust the stack.
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new PolicyError(source, [
        `its YAML aliases (*name) expand past vecguard's limit (${POLICY_LIMITS.maxAliasCount} alias expansions): write the repeated values out, or alias fewer or smaller nodes`,
      ]);
    }
    if (e instanceof RangeError) {
      throw new PolicyError(source, [TOO_DEEP]);
    }
    throw e;
  }
}

/** Parse and validate a policy file's text (YAML, of which JSON is a subset), within the parse limits. */
export function parsePolicy(text: string, source = 'policy'): Policy {
  return validatePolicy(parsePolicyDocument(text, source), source);
}

/**
 * Does matching this policy need to know where accounts sit in AWS Organizations? True when any target
 * names organizational units — whatever its mode: an `ignore` target under an OU must win over the targets
 * after it, which it can only do when the account's OUs are known. Whoever audits or sweeps for such a
 * policy must read the organisation (functions/adapters/organizations.ts) rather than match without it:
 * without the OUs every OU target silently fails to match.
 */
export function policyNeedsOrganization(policy: Pick<Policy, 'targets'>): boolean {
  return policy.targets.some((t) => t.organizationalUnits !== undefined);
}

/** The OU and root ids the policy's targets name, each once. */
export function organizationalUnitsOf(policy: Pick<Policy, 'targets'>): string[] {
  return [...new Set(policy.targets.flatMap((t) => t.organizationalUnits ?? []))];
}

/** Where a VPC sits, for matching targets. */
export interface VpcScope {
  readonly accountId: string;
  readonly region: string;
  /** The account's parent chain (OUs nearest first, then the root); empty when not read. */
  readonly organizationalUnitIds: readonly string[];
  readonly tags: Tags;
}

/** The policy as it applies to one VPC. */
export interface ResolvedVpcPolicy {
  readonly mode: DesiredMode;
  /** What decided the mode: `tag:vecguard:ignore`, `tag:vecguard:mode`, `target:<name>` or `defaults`. */
  readonly source: string;
  readonly acceptableExclusions: readonly ExclusionName[];
  readonly gates: Readonly<Record<GatedActionKind, Gate>>;
}

function tagsMatch(wanted: Record<string, string | string[]>, tags: Tags): boolean {
  return Object.entries(wanted).every(([key, value]) => {
    const actual = tags[key];
    if (actual === undefined) return false;
    return Array.isArray(value) ? value.includes(actual) : value === actual || value === '*';
  });
}

export function targetMatches(target: Target, scope: VpcScope): boolean {
  if (target.accounts && !target.accounts.includes(scope.accountId)) return false;
  if (target.regions && !target.regions.includes(scope.region)) return false;
  if (
    target.organizationalUnits &&
    !target.organizationalUnits.some((ou) => scope.organizationalUnitIds.includes(ou))
  )
    return false;
  if (target.vpcTags && !tagsMatch(target.vpcTags, scope.tags)) return false;
  return true;
}

/**
 * Resolve the policy for one VPC. Order: the `vecguard:ignore` tag, then a valid `vecguard:mode` tag, then
 * the first matching target, then the defaults. An unreadable `vecguard:mode` tag value is ignored (the
 * audit reports it) rather than guessed at.
 */
export function resolveVpcPolicy(policy: Policy, scope: VpcScope): ResolvedVpcPolicy {
  const target = policy.targets.find((t) => targetMatches(t, scope));
  const gates = { ...DEFAULT_GATES, ...policy.defaults.actions, ...(target?.actions ?? {}) };
  const acceptableExclusions = target?.acceptableExclusions ?? policy.defaults.acceptableExclusions;
  const base = { acceptableExclusions, gates };

  const ignoreTag = scope.tags[IGNORE_TAG];
  if (ignoreTag !== undefined && ignoreTag.toLowerCase() !== 'false') {
    return { ...base, mode: 'ignore', source: `tag:${IGNORE_TAG}` };
  }
  const modeTag = DesiredModeSchema.safeParse(scope.tags[MODE_TAG]?.trim().toLowerCase());
  if (modeTag.success) return { ...base, mode: modeTag.data, source: `tag:${MODE_TAG}` };
  if (target) return { ...base, mode: target.mode, source: `target:${target.name}` };
  return { ...base, mode: policy.defaults.mode, source: 'defaults' };
}

/**
 * Caps above which a policy that asks no person warns (`policyWarnings`): the defaults. They are the
 * largest blast radius vecguard ships with, and they assume people approve the risky kinds; a policy that
 * lets every action run on its own and also raises the caps removes both rails at once.
 */
export const UNATTENDED_CAPS = {
  maxChangesPerRun: DEFAULT_LIMITS.maxChangesPerRun,
  maxChangesPerSweep: DEFAULT_LIMITS.maxChangesPerSweep,
} as const;

/** Does no action of any target (or of the defaults) wait for a person? `off` asks nobody either. */
export function asksNobody(policy: Policy): boolean {
  const gateSets = [
    { ...DEFAULT_GATES, ...policy.defaults.actions },
    ...policy.targets
      .filter((t) => t.mode !== 'ignore')
      .map((t) => ({ ...DEFAULT_GATES, ...policy.defaults.actions, ...(t.actions ?? {}) })),
  ];
  const gates = gateSets.flatMap((g) => Object.values(g));
  return !gates.includes('approval') && gates.includes('auto');
}

/**
 * What a valid policy still should not say without a second look, one line each (`vecguard policy
 * validate` prints them and exits 0): today, caps above `UNATTENDED_CAPS` while no action waits for a person.
 */
export function policyWarnings(policy: Policy): string[] {
  if (!asksNobody(policy)) return [];
  const { maxChangesPerRun, maxChangesPerSweep } = policy.limits;
  const high = [
    ...(maxChangesPerRun > UNATTENDED_CAPS.maxChangesPerRun
      ? [`limits.maxChangesPerRun is ${maxChangesPerRun} (default ${UNATTENDED_CAPS.maxChangesPerRun})`]
      : []),
    ...(maxChangesPerSweep > UNATTENDED_CAPS.maxChangesPerSweep
      ? [`limits.maxChangesPerSweep is ${maxChangesPerSweep} (default ${UNATTENDED_CAPS.maxChangesPerSweep})`]
      : []),
  ];
  if (high.length === 0) return [];
  return [
    `every action runs without approval and ${high.join(' and ')}: one run can change that much with nobody asked; lower the caps or gate the risky kinds with approval`,
  ];
}

/** Monthly price of one VPC's encryption control under this policy. */
export function monthlyControlCostUsd(policy: Policy): number {
  return policy.pricing.perVpcHourUsd * policy.pricing.hoursPerMonth;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function localWeekdayAndMinute(
  at: Date,
  timeZone: string,
): { day: (typeof WEEKDAYS)[number]; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as (typeof WEEKDAYS)[number];
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

function previousDay(day: (typeof WEEKDAYS)[number]): (typeof WEEKDAYS)[number] {
  const i = WEEKDAYS.indexOf(day);
  return WEEKDAYS[(i + WEEKDAYS.length - 1) % WEEKDAYS.length] ?? 'sun';
}

/** Is `at` inside one of the policy's maintenance windows? No windows means always. */
export function inMaintenanceWindow(policy: Pick<Policy, 'maintenanceWindows'>, at: Date): boolean {
  if (policy.maintenanceWindows.length === 0) return true;
  return policy.maintenanceWindows.some((w) => {
    const { day, minute } = localWeekdayAndMinute(at, w.timezone);
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    if (start < end) return w.days.includes(day) && minute >= start && minute < end;
    // Spans midnight: the part after midnight belongs to the window that opened the day before.
    return (w.days.includes(day) && minute >= start) || (w.days.includes(previousDay(day)) && minute < end);
  });
}
