/**
 * The handlers' configuration, read from the environment once and validated, so that a missing or malformed
 * variable fails the first invocation loudly, naming the variable and what to set, instead of surfacing later
 * as an `undefined` table name deep inside an AWS call. CDK sets these on every function; the local runner
 * sets them from the sandbox.
 */
import { z } from 'zod';
import { InvalidInputError } from './errors.ts';

/** What each variable is for: the text a person reads when it is missing or wrong. */
const HELP = {
  VECGUARD_TABLE_NAME: "the name of vecguard's DynamoDB state table (the CDK stack sets it)",
  VECGUARD_TOPIC_ARN:
    'the ARN of the SNS topic vecguard notifies, e.g. arn:aws:sns:us-east-1:111111111111:vecguard',
  VECGUARD_POLICY_FILE: 'the path of the policy file (.json, .yaml or .yml) bundled with the function',
  VECGUARD_STATE_MACHINE_ARN:
    'optional: the ARN of the enforcement-loop state machine, e.g. arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop',
  VECGUARD_DRY_RUN: "optional: true or false, to override the policy's dryRun",
  VECGUARD_MEMBER_EXTERNAL_ID:
    "optional: the external id the member role's trust policy requires (the member stack's externalId), 2–1224 of A–Z a–z 0–9 + = , . @ : / _ -",
} as const satisfies Record<string, string>;

type Variable = keyof typeof HELP;

const required = () =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is not set' : 'must be a string') })
    .trim()
    .min(1, { error: 'is empty', abort: true });

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );

const EnvSchema = z.object({
  VECGUARD_TABLE_NAME: required().regex(
    /^[A-Za-z0-9_.-]{3,255}$/,
    'is not a DynamoDB table name (3–255 of A–Z a–z 0–9 _ . -)',
  ),
  VECGUARD_TOPIC_ARN: required().regex(
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
    'is not an SNS topic ARN',
  ),
  VECGUARD_POLICY_FILE: required().regex(/\.(json|ya?ml)$/i, 'must name a .json, .yaml or .yml file'),
  VECGUARD_STATE_MACHINE_ARN: optional(
    z
      .string()
      .trim()
      .regex(
        /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
        'is not a state machine ARN',
      ),
  ),
  VECGUARD_DRY_RUN: optional(
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  ),
  // STS's own constraint on ExternalId: a value it would reject fails here, not at the first AssumeRole.
  VECGUARD_MEMBER_EXTERNAL_ID: optional(
    z
      .string()
      .trim()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, 'is not an external id STS accepts'),
  ),
});

export interface Config {
  readonly tableName: string;
  readonly topicArn: string;
  readonly policyFile: string;
  /** Absent: this function does not start or signal executions. */
  readonly stateMachineArn?: string;
  /** Absent: the policy's `dryRun` decides. */
  readonly dryRun?: boolean;
  /** Sent as `ExternalId` when assuming a member role. Absent: none is sent. */
  readonly memberExternalId?: string;
}

/** The environment is wrong: a deployment problem, never retried. `problems` has one line per variable. */
export class ConfigError extends InvalidInputError {
  readonly problems: readonly string[];
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; problem: string }[]) {
    const lines = problems.map(({ variable, problem }) => {
      const help = HELP[variable as Variable];
      return `${variable} ${problem}: set it to ${help}`;
    });
    super(
      lines.length === 1
        ? `vecguard configuration: ${lines[0]}`
        : `vecguard configuration has ${lines.length} problems:\n  ${lines.join('\n  ')}`,
    );
    this.name = 'ConfigError';
    this.problems = lines;
    this.variables = problems.map((p) => p.variable);
  }
}

/** Read and validate the configuration from `env`; throws `ConfigError` naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const picked = Object.fromEntries(Object.keys(HELP).map((name) => [name, env[name]]));
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    // One line per variable: its first problem is the one to fix.
    const byVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      if (!byVariable.has(variable)) byVariable.set(variable, issue.message);
    }
    throw new ConfigError([...byVariable].map(([variable, problem]) => ({ variable, problem })));
  }
  const e = parsed.data;
  return {
    tableName: e.VECGUARD_TABLE_NAME,
    topicArn: e.VECGUARD_TOPIC_ARN,
    policyFile: e.VECGUARD_POLICY_FILE,
    ...(e.VECGUARD_STATE_MACHINE_ARN === undefined ? {} : { stateMachineArn: e.VECGUARD_STATE_MACHINE_ARN }),
    ...(e.VECGUARD_DRY_RUN === undefined ? {} : { dryRun: e.VECGUARD_DRY_RUN }),
    ...(e.VECGUARD_MEMBER_EXTERNAL_ID === undefined
      ? {}
      : { memberExternalId: e.VECGUARD_MEMBER_EXTERNAL_ID }),
  };
}

let cached: Config | undefined;

/** The configuration of this process, read from `process.env` on first use and kept. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** Forget the cached configuration (tests that change the environment between cases). */
export function resetConfig(): void {
  cached = undefined;
}
