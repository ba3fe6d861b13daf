import { parseArgs } from 'node:util';
import { ScenarioError, startSandbox } from '@vecguard/sandbox';
import { CliError, EXIT, type ExitCode, type Io } from '../io.ts';

export const SANDBOX_HELP = `Usage: vecguard sandbox [options]

Serves a local AWS (EC2 with VPC Encryption Controls, STS, Security Hub, SNS, Config, DynamoDB,
Organizations) on 127.0.0.1 until stopped, loaded with a scenario. Point any AWS SDK or the AWS CLI at it
with the environment it prints.

Options:
  --port N            TCP port (default 4566; 0 picks a free one)
  --scenario NAME     default | large | drift | declarative-policy, or a path to a scenario file
                      (default: default)
  --speed X           sandbox seconds per real second, for asynchronous changes (default 1)
  --throttle          enforce EC2's request-rate buckets (off by default)

Examples:
  vecguard sandbox --scenario default
  eval "$(vecguard sandbox --port 4566 | grep ^export)"; aws ec2 describe-vpcs
`;

function parseNumber(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new CliError(`--${flag} takes a number ≥ ${min}, got "${value}"`);
  return n;
}

export async function sandboxCommand(args: readonly string[], io: Io): Promise<ExitCode> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: 'string' },
      scenario: { type: 'string', default: 'default' },
      speed: { type: 'string' },
      throttle: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(SANDBOX_HELP);
    return EXIT.ok;
  }
  const port = parseNumber('port', values.port, 4566, 0);
  if (!Number.isInteger(port) || port > 65535)
    throw new CliError(`--port takes a TCP port (0-65535), got "${values.port}"`);
  const speed = parseNumber('speed', values.speed, 1, 0);

  let started: Awaited<ReturnType<typeof startSandbox>>;
  try {
    started = await startSandbox({
      port,
      scenario: values.scenario,
      clock: { speed },
      throttle: { enabled: values.throttle },
    });
  } catch (e) {
    if (e instanceof ScenarioError) throw new CliError(e.message);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`port ${port} is in use; pick another with --port (0 picks a free one)`);
    }
    throw e;
  }
  const sandbox = started;
  const { scenario } = started;
  const vpcs = scenario?.estate.accounts.flatMap((a) => a.regions.flatMap((r) => r.vpcs)).length ?? 0;
  const accounts = scenario?.estate.accounts.length ?? 0;
  const organization = scenario?.organization
    ? `, an organisation managed by ${scenario.organization.managementAccount}`
    : '';
  io.stdout.write(
    `# vecguard sandbox on ${sandbox.url} — scenario ${values.scenario}: ${vpcs} VPCs in ${accounts} account(s)${organization}\n` +
      `${Object.entries(sandbox.env)
        .map(([k, v]) => `export ${k}=${v}`)
        .join('\n')}\n` +
      `# Try: aws ec2 describe-vpcs   ·   Stop: Ctrl-C\n`,
  );
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await sandbox.stop();
  io.stderr.write('vecguard sandbox: stopped\n');
  return EXIT.ok;
}
