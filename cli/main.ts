/**
 * The `vecguard` command: dispatch, one-line errors, documented exit codes. A stack trace only with --debug.
 */
import { readFileSync } from 'node:fs';
import { displayText } from '../functions/domain/display-text.ts';
import { approvalsCommand, approveCommand, rejectCommand } from './commands/approvals.ts';
import { planCommand, scanCommand } from './commands/assess.ts';
import { demoCommand } from './commands/demo.ts';
import { eventsCommand } from './commands/events.ts';
import { policyCommand } from './commands/policy.ts';
import { sandboxCommand } from './commands/sandbox.ts';
import { CliError, EXIT, type ExitCode, type Io } from './io.ts';

const HELP = `vecguard — keeps every VPC of an AWS estate encrypting its traffic in transit.

Usage: vecguard <command> [options]

Commands:
  demo                   run the enforcement loop end to end on a local sandbox (see vecguard demo --help)
  events classify FILE   what the loop would do with each event of the files (offline)
  policy validate FILE   check a policy file
  policy init [FILE]     write the commented example policy
  sandbox                serve a local AWS loaded with a scenario (see vecguard sandbox --help)
  scan                   audit one account + Region, read-only (see vecguard scan --help)
  plan                   scan, then the remediation plan it would carry out; changes nothing
  approvals              list the approvals the loop is waiting for
  approve ID             approve one, as your own AWS identity (through the approver URL)
  reject ID              refuse one, as your own AWS identity

Options:
  --help, -h             help for vecguard or a command
  --version              print the version
  --debug                print stack traces

Exit codes: 0 ok, 1 findings (with --fail-on) or invalid events (events classify), 2 usage or bad input,
3 AWS or access error.
`;

type Command = (args: readonly string[], io: Io) => Promise<ExitCode>;
const COMMANDS: Readonly<Record<string, Command>> = {
  demo: demoCommand,
  events: eventsCommand,
  policy: policyCommand,
  sandbox: sandboxCommand,
  scan: scanCommand,
  plan: planCommand,
  approvals: approvalsCommand,
  approve: approveCommand,
  reject: rejectCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(HELP);
      return name === undefined ? EXIT.usage : EXIT.ok;
    }
    if (name === '--version') {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) throw new CliError(`unknown command "${name}"; run \`vecguard --help\` for the list`);
    return await command(rest, io);
  } catch (e) {
    if (debug && e instanceof Error) io.stderr.write(`${e.stack}\n`);
    if (e instanceof CliError) {
      // One line, whatever an AWS error message carries (escapes, line breaks).
      io.stderr.write(`vecguard: ${displayText(e.message)}\n`);
      return e.exitCode;
    }
    // node:util parseArgs reports unknown or malformed flags with these codes.
    const code = (e as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`vecguard: ${(e as Error).message}; see \`vecguard ${name ?? ''} --help\`\n`);
      return EXIT.usage;
    }
    io.stderr.write(
      `vecguard: unexpected error: ${displayText((e as Error).message ?? String(e), { max: 2_000 })}${debug ? '' : ' (rerun with --debug for details)'}\n`,
    );
    return EXIT.aws;
  }
}
