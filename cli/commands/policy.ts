import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PolicyError } from '../../functions/domain/errors.ts';
import {
  organizationalUnitsOf,
  type Policy,
  policyNeedsOrganization,
  policyWarnings,
  resolveVpcPolicy,
} from '../../functions/domain/policy.ts';
import {
  loadPolicyFile as loadPolicy,
  PolicyFileUnreadableError,
} from '../../functions/shared/policy-file.ts';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';

export const EXAMPLE_POLICY_PATH = fileURLToPath(
  new URL('../../examples/vecguard.policy.yaml', import.meta.url),
);

export const POLICY_HELP = `Usage:
  vecguard policy validate FILE    check a policy file; prints every problem with its path
  vecguard policy init [FILE]      write the commented example policy (default: vecguard.policy.yaml)
      --force                      overwrite FILE if it exists

Examples:
  vecguard policy init
  vecguard policy validate vecguard.policy.yaml
`;

/**
 * Read and validate a policy file (functions/shared/policy-file.ts: the parse limits, the one path every
 * reader takes); a missing file gets the hint to create one.
 */
function readPolicy(file: string): Policy {
  try {
    return loadPolicy(file);
  } catch (e) {
    if (e instanceof PolicyFileUnreadableError && e.code === 'ENOENT') {
      throw new CliError(`${file}: no such file; create one with \`vecguard policy init ${file}\``);
    }
    throw e;
  }
}

/** Load and validate a policy file; a bad one is a one-line CliError (exit 2) naming the first problem. */
export function loadPolicyFile(file: string) {
  try {
    return readPolicy(file);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    const [first, ...rest] = e.problems;
    throw new CliError(
      rest.length === 0
        ? `${file}: ${first}`
        : `${file}: ${first} (and ${rest.length} more; \`vecguard policy validate ${file}\` lists them all)`,
    );
  }
}

export async function policyCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(POLICY_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub === 'validate') {
    const { positionals } = parseArgs({ args: [...rest], allowPositionals: true, options: {} });
    const file = positionals[0];
    if (!file || positionals.length > 1)
      throw new CliError('policy validate takes one FILE; see `vecguard policy --help`');
    let policy: Policy;
    try {
      policy = readPolicy(file);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      // Validating is for seeing every problem: one per line, then the verdict.
      if (e.problems.length > 1) io.stdout.write(e.problems.map((p) => `${file}: ${p}\n`).join(''));
      throw new CliError(
        e.problems.length === 1
          ? `${file}: ${e.problems[0]}`
          : `${file}: ${e.problems.length} problems (listed above)`,
      );
    }
    const defaults = resolveVpcPolicy(policy, {
      accountId: '000000000000',
      region: 'us-east-1',
      organizationalUnitIds: [],
      tags: {},
    });
    const auto = Object.entries(defaults.gates)
      .filter(([, g]) => g === 'auto')
      .map(([k]) => k);
    io.stdout.write(
      `${file}: valid — ${policy.targets.length} target(s), default mode ${policy.defaults.mode}, ` +
        `${auto.length ? `auto by default: ${auto.join(', ')}` : 'every action needs approval by default'}` +
        `${policy.dryRun ? ', dry-run' : ''}\n` +
        // Offline: nothing is read here, but the reader should know what OU targets ask of a deployment.
        (policyNeedsOrganization(policy)
          ? `${file}: targets OUs (${organizationalUnitsOf(policy).join(', ')}): vecguard will read AWS Organizations, from the management account or a delegated administrator (docs/deploy.md)\n`
          : ''),
    );
    // Valid, so exit 0: a warning asks for a second look, it does not refuse the policy.
    for (const warning of policyWarnings(policy)) io.stderr.write(`${file}: warning: ${warning}\n`);
    return EXIT.ok;
  }
  if (sub === 'init') {
    const { positionals, values } = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: { force: { type: 'boolean', default: false } },
    });
    const file = positionals[0] ?? 'vecguard.policy.yaml';
    if (existsSync(file) && !values.force) throw new CliError(`${file} exists; pass --force to overwrite it`);
    writeFileSync(file, readFileSync(EXAMPLE_POLICY_PATH, 'utf8'));
    io.stdout.write(`wrote ${file}; edit it, then run \`vecguard policy validate ${file}\`\n`);
    return EXIT.ok;
  }
  throw new CliError(`unknown policy command "${sub}"; see \`vecguard policy --help\``);
}
