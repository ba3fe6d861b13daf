/**
 * Scenario files: the estate the sandbox starts with (../ec2/scenario-schema.ts), plus what the demo
 * replays while vecguard watches (recorded CloudTrail calls, drift) and, for benchmarks, a generator.
 * Built-in names resolve to the files beside this module; anything else is a path to the user's own copy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Scenario, ScenarioSchema } from '../ec2/scenario-schema.ts';
import { type ScenarioOrganization, ScenarioOrganizationSchema } from '../organizations/scenario.ts';
import { EstateGeneratorSchema, generateEstate } from './generate.ts';

export const BUILT_IN_SCENARIOS = ['default', 'large', 'drift', 'declarative-policy'] as const;

const Name = z.string().min(1);
const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit account id');

/** A CloudTrail-recorded API call, replayed against the sandbox and delivered as an EventBridge event. */
export const CloudTrailEventSchema = z.strictObject({
  kind: z.literal('cloudtrail'),
  eventName: z.literal('CreateVpc'),
  account: AccountId,
  region: z.string().min(1),
  userIdentityArn: z.string().startsWith('arn:'),
  vpc: z.strictObject({
    name: Name,
    cidr: z.string().default('10.0.0.0/16'),
    tags: z.record(z.string(), z.string()).default({}),
  }),
});

/** A change behind vecguard's back (../ec2/drift.ts), naming VPCs and instances instead of ids. */
export const DriftEventSchema = z.strictObject({
  kind: z.literal('drift'),
  /** before-sweep: applied before vecguard's first sweep; after-sweep: between the first and a second sweep. */
  phase: z.enum(['before-sweep', 'after-sweep']).default('after-sweep'),
  change: z.looseObject({
    kind: z.string(),
    vpc: Name.optional(),
    account: AccountId.optional(),
    region: z.string().optional(),
  }),
});

export const ScenarioEventSchema = z.discriminatedUnion('kind', [CloudTrailEventSchema, DriftEventSchema]);
export type ScenarioEvent = z.infer<typeof ScenarioEventSchema>;
export type CloudTrailScenarioEvent = z.infer<typeof CloudTrailEventSchema>;
export type DriftScenarioEvent = z.infer<typeof DriftEventSchema>;

/**
 * Someone who calls the sandbox with their own access key: who the key stands for (an IAM user or an
 * assumed-role session, of any account), for the services that act on the caller's identity (STS
 * GetCallerIdentity, Lambda function URLs with AWS_IAM auth).
 */
export const PrincipalSchema = z.strictObject({
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'an access key id: 16–128 of A–Z 0–9'),
  secretAccessKey: z.string().min(1).optional(),
  arn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:(iam|sts)::\d{12}:(user|role|assumed-role|root)/,
      'an IAM principal ARN (arn:aws:iam::<account>:user/… or arn:aws:sts::<account>:assumed-role/…)',
    ),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const ScenarioFileSchema = ScenarioSchema.extend({
  /** Access keys and who they stand for (`PrincipalSchema`); absent: only the default key. */
  principals: z.array(PrincipalSchema).default([]),
  /** The AWS Organization the accounts sit in (../organizations/scenario.ts); absent: none. */
  organization: ScenarioOrganizationSchema.optional(),
  events: z.array(ScenarioEventSchema).default([]),
  generate: EstateGeneratorSchema.optional(),
});

export interface LoadedScenario {
  readonly name: string;
  readonly description: string;
  /** The estate to load into the EC2 emulator. */
  readonly estate: Scenario;
  /** For the Organizations emulator; absent: no account is in an organisation. */
  readonly organization?: ScenarioOrganization;
  readonly events: readonly ScenarioEvent[];
  readonly principals: readonly Principal[];
}

export function scenarioPath(nameOrPath: string): string {
  return (BUILT_IN_SCENARIOS as readonly string[]).includes(nameOrPath)
    ? fileURLToPath(new URL(`./${nameOrPath}.yaml`, import.meta.url))
    : nameOrPath;
}

/** Thrown for a scenario that cannot be read or does not validate; the message names the file and the path. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export function parseScenarioFile(text: string, source: string): LoadedScenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ScenarioError(`${source}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = ScenarioFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw new ScenarioError(
      `${source}: ${where.replace(/^\./, '') || '(top level)'}: ${first?.message ?? 'invalid'}` +
        (parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : ''),
    );
  }
  const { events, generate, organization, principals, ...estate } = parsed.data;
  const generated = generate ? generateEstate(generate) : [];
  return {
    name: source,
    description: estate.description ?? '',
    estate: generated.length
      ? ScenarioSchema.parse({ ...estate, accounts: [...estate.accounts, ...generated] })
      : estate,
    ...(organization ? { organization } : {}),
    events,
    principals,
  };
}

/** Load a built-in scenario by name, or a scenario file by path. */
export function loadScenarioFile(nameOrPath: string): LoadedScenario {
  const path = scenarioPath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioError(
      code === 'ENOENT'
        ? `scenario "${nameOrPath}" not found: use one of ${BUILT_IN_SCENARIOS.join(', ')} or a path to a scenario file`
        : `${path}: cannot read it (${code ?? String(e)})`,
    );
  }
  const loaded = parseScenarioFile(text, nameOrPath);
  return { ...loaded, name: nameOrPath };
}
