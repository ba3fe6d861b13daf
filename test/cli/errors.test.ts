/**
 * Every way scan, plan, approvals and approve can fail before they have an answer: one line on stderr that
 * says what to do, the documented exit code, and no stack trace unless --debug.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vecguard-errors-'));

/** Nothing the SDK's credential chain could find: no keys, no profile files, no instance metadata. */
function noCredentialsAnywhere() {
  for (const key of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_ENDPOINT_URL',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ])
    vi.stubEnv(key, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  vi.stubEnv('AWS_REGION', 'us-east-1');
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('usage errors (exit 2)', () => {
  const cases: [string[], string][] = [
    [['scan', '--format', 'xml'], 'vecguard: --format takes table, json, asff, got "xml"\n'],
    [
      ['plan', '--format', 'asff'],
      'vecguard: --format takes table, json, got "asff"; for findings use `vecguard scan --format asff`\n',
    ],
    [['scan', 'extra'], 'vecguard: scan takes no arguments, got "extra"; see `vecguard scan --help`\n'],
    [['scan', '--region', 'Mars'], 'vecguard: --region takes a Region such as us-east-1, got "Mars"\n'],
    [
      ['scan', '--fail-on', 'RED'],
      'vecguard: --fail-on: unknown verdict "RED"; use any of ENFORCED, ENFORCED_WITH_EXCLUSIONS, READY_TO_ENFORCE, BLOCKED, UNMONITORED, TRANSITIONING, TRANSITION_FAILED, DRIFTED, EXEMPT, MANAGED_ELSEWHERE, any-failed (or a TGW_/PEERING_ verdict)\n',
    ],
    [['approve'], 'vecguard: approve takes one approval ID; list them with `vecguard approvals`\n'],
    [
      ['approve', 'apr-1', 'apr-2'],
      'vecguard: approve takes one approval ID; list them with `vecguard approvals`\n',
    ],
    [
      ['approve', 'apr_1;drop'],
      'vecguard: "apr_1;drop" is not an approval id (like apr-3f2a9c0d41b7e685); list them with `vecguard approvals`\n',
    ],
    [['approvals', '--format', 'csv'], 'vecguard: --format takes table or json, got "csv"\n'],
    [
      ['approvals', '--approver-url', 'ftp://x'],
      'vecguard: --approver-url takes an http(s) URL, got "ftp://x"\n',
    ],
  ];
  for (const [argv, line] of cases) {
    it(`${argv.join(' ')}`, async () => {
      expect(await run(...argv)).toEqual({ code: 2, stdout: '', stderr: line });
    });
  }

  it('an unknown flag is one line that points at the help', async () => {
    const r = await run('scan', '--frobnicate');
    expect(r.code).toBe(2);
    // The middle is Node's parseArgs wording; the line is ours.
    expect(r.stderr).toMatch(
      /^vecguard: Unknown option '--frobnicate'\.[^\n]*; see `vecguard scan --help`\n$/,
    );
  });

  it('a broken policy file is exit 2, names the path and the problem, before any AWS call', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'version: 1\ndefaults:\n  mode: enforced\n');
    // An unreachable endpoint: the policy must fail first.
    vi.stubEnv('AWS_ENDPOINT_URL', `http://127.0.0.1:${await closedPort()}`);
    const r = await run('scan', '--policy', file);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `vecguard: ${file}: defaults.mode: Invalid option: expected one of "enforce"|"monitor"|"ignore"; allowed: "enforce", "monitor", "ignore"\n`,
    });
  });

  it('a policy with several problems stays on one line', async () => {
    const file = join(dir, 'two-problems.yaml');
    writeFileSync(file, 'version: 1\ndefaults:\n  mode: enforced\nlimits:\n  maxChangesPerRun: -1\n');
    const r = await run('plan', '--policy', file);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^vecguard: ${file}: .* \\(and 1 more; \`vecguard policy validate ${file}\` lists them all\\)\\n$`,
      ),
    );
  });

  it('a missing policy file says how to create one', async () => {
    const file = join(dir, 'nope.yaml');
    expect(await run('scan', '--policy', file)).toEqual({
      code: 2,
      stdout: '',
      stderr: `vecguard: ${file}: no such file; create one with \`vecguard policy init ${file}\`\n`,
    });
  });
});

describe('--help', () => {
  for (const command of ['scan', 'plan', 'approvals', 'approve']) {
    it(`${command} --help shows flags, examples and exit codes, and calls nothing`, async () => {
      vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:1');
      const r = await run(command, '--help');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^Usage: vecguard ${command}`));
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes: 0');
    });
  }

  it('the top-level help lists the commands', async () => {
    const r = await run('--help');
    for (const line of ['scan ', 'plan ', 'approvals ', 'approve ID '])
      expect(r.stdout).toContain(`\n  ${line}`);
  });
});

describe('AWS errors (exit 3, one line)', () => {
  it('no credentials anywhere', async () => {
    noCredentialsAnywhere();
    expect(await run('scan')).toEqual({
      code: 3,
      stdout: '',
      stderr:
        'vecguard: no AWS credentials found; set AWS_PROFILE or run aws configure (or point AWS_ENDPOINT_URL at a vecguard sandbox)\n',
    });
  });

  it('a --profile that does not exist', async () => {
    noCredentialsAnywhere();
    expect(
      (
        await run(
          'approvals',
          '--profile',
          'prod',
          '--approver-url',
          'https://abc.lambda-url.us-east-1.on.aws/',
        )
      ).stderr,
    ).toBe(
      'vecguard: no AWS credentials found for profile "prod"; check ~/.aws/config or run aws configure --profile prod\n',
    );
  });

  it('no Region anywhere is a usage error (exit 2)', async () => {
    noCredentialsAnywhere();
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    expect(await run('scan')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'vecguard: no AWS Region; pass --region, set AWS_REGION, or give your profile a region (aws configure)\n',
    });
  });

  it('an unreachable endpoint, for scan and for approve', async () => {
    const port = await closedPort();
    vi.stubEnv('AWS_ENDPOINT_URL', `http://127.0.0.1:${port}`);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const line = `vecguard: cannot reach http://127.0.0.1:${port}: connection refused (ECONNREFUSED); is the sandbox running? (\`vecguard sandbox\`), or unset AWS_ENDPOINT_URL to use AWS\n`;
    expect(await run('scan')).toEqual({ code: 3, stdout: '', stderr: line });
    const approver = `http://127.0.0.1:${port}/`;
    expect(await run('approve', 'apr-0123456789abcdef', '--approver-url', approver)).toEqual({
      code: 3,
      stdout: '',
      stderr: `vecguard: cannot reach the approver URL ${approver} (ECONNREFUSED); check --approver-url (or VECGUARD_APPROVER_URL) and the network\n`,
    });
  });

  it('--debug adds the stack, with the SDK error that caused it', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', `http://127.0.0.1:${await closedPort()}`);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const r = await run('scan', '--debug');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(r.stderr).toContain('Caused by: AwsCallError: sts GetCallerIdentity failed');
  });

  describe('against the sandbox', () => {
    let full: Sandbox;
    beforeAll(async () => {
      full = await startSandbox({ scenario: 'default', port: 0 });
    });
    afterAll(async () => {
      await full.stop();
    });
    const useSandbox = () => {
      for (const [key, value] of Object.entries(full.env)) vi.stubEnv(key, value);
    };

    it('credentials the endpoint does not know', async () => {
      useSandbox();
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDUNKNOWN');
      expect(await run('scan')).toEqual({
        code: 3,
        stdout: '',
        stderr:
          'vecguard: the AWS credentials were refused (InvalidClientTokenId: The security token included in the request is invalid); refresh them (aws sso login, aws configure) or pick another --profile\n',
      });
    });

    it('a read the identity is not allowed names the permission it needs', async () => {
      useSandbox();
      const rule = full.faults.add({
        service: 'ec2',
        action: 'DescribeVpcs',
        errorCode: 'UnauthorizedOperation',
        errorMessage: 'You are not authorized to perform this operation.',
      });
      try {
        expect(await run('scan')).toEqual({
          code: 3,
          stdout: '',
          stderr:
            'vecguard: DescribeVpcs was refused: You are not authorized to perform this operation; the identity needs ec2:DescribeVpcs\n',
        });
      } finally {
        full.faults.remove(rule.id);
      }
    });
  });
});
