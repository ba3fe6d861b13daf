import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATED_ACTION_KINDS } from '../../functions/domain/action-kinds.ts';
import { run } from './helpers.ts';

describe('vecguard policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecguard-policy-'));

  it('init writes the example policy, which then validates', async () => {
    const file = join(dir, 'p.yaml');
    expect((await run('policy', 'init', file)).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('acceptableExclusions: [InternetGateway, NatGateway]');
    const validated = await run('policy', 'validate', file);
    expect(validated).toMatchObject({ code: 0, stderr: '' });
    expect(validated.stdout).toContain('every action needs approval by default');
  });

  it('validate stays offline, and says what a policy with OU targets will need of a deployment', async () => {
    const example = await run('policy', 'validate', 'examples/vecguard.policy.yaml');
    expect(example.stdout).not.toContain('Organizations');
    const r = await run('policy', 'validate', 'test/fixtures/policies/ou-targets.policy.yaml');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(
      'targets OUs (ou-vg01-sandbox1, ou-vg01-platform, ou-vg01-workload): vecguard will read AWS Organizations, from the management account or a delegated administrator (docs/deploy.md)',
    );
  });

  it('init refuses to overwrite without --force', async () => {
    const file = join(dir, 'exists.yaml');
    writeFileSync(file, 'mine');
    const r = await run('policy', 'init', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vecguard: ${file} exists; pass --force to overwrite it\n`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    expect((await run('policy', 'init', file, '--force')).code).toBe(0);
  });

  it('a broken policy gives exit 2 and names the path, without a stack trace', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\ndefaults:\n  mode: enforced\n');
    const r = await run('policy', 'validate', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^vecguard: .*bad\.yaml: defaults\.mode: .*allowed: "enforce", "monitor", "ignore"\n$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('validate accepts a policy where nothing waits for a person and the cap is high, with one warning line (exit 0)', async () => {
    const file = join(dir, 'all-auto.yaml');
    const gates = GATED_ACTION_KINDS;
    writeFileSync(
      file,
      `version: 1\nlimits:\n  maxChangesPerRun: 500\ndefaults:\n  actions:\n${gates.map((g) => `    ${g}: auto\n`).join('')}`,
    );
    const r = await run('policy', 'validate', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid/);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /all-auto\.yaml: warning: every action runs without approval and limits\.maxChangesPerRun is 500/,
      ),
    ]);
  });

  it('validate refuses a cap above the hard maximum with exit 2, in one line', async () => {
    const file = join(dir, 'huge-cap.yaml');
    writeFileSync(file, 'version: 1\nlimits:\n  maxChangesPerRun: 100000000\n');
    const r = await run('policy', 'validate', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^vecguard: .*huge-cap\.yaml: limits\.maxChangesPerRun: at most 1000 \(a hard maximum\)[^\n]*\n$/,
    );
  });

  it('a missing file says how to create one', async () => {
    const r = await run('policy', 'validate', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file; create one with `vecguard policy init');
  });

  it('unknown commands and flags are usage errors (exit 2) in one line', async () => {
    for (const argv of [['frobnicate'], ['policy', 'validate', '--strict', 'x'], ['policy', 'nope']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
    }
  });

  it('--help lists the commands and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy validate FILE');
  });

  describe('parse limits: every command that reads a policy refuses a hostile one with exit 2, in one line', () => {
    // A "billion laughs": 9 levels, each aliasing the previous one nine times.
    const bomb = join(dir, 'bomb.yaml');
    writeFileSync(
      bomb,
      ['a0: &a0 [x, x, x, x, x, x, x, x, x]']
        .concat(
          Array.from(
            { length: 8 },
            (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`,
          ),
        )
        .join('\n'),
    );
    // 38 MiB by its size alone (a sparse file): refused by stat, never read.
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 38 * 1024 * 1024);
    const commands = [
      ['policy', 'validate'],
      ['demo', '--approve', 'none', '--out', join(dir, 'out'), '--policy'],
      ['scan', '--policy'],
      ['plan', '--policy'],
    ];

    for (const argv of commands) {
      it(`${argv[0]}: an alias bomb`, async () => {
        const r = await run(...argv, bomb);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(
          `vecguard: ${bomb}: its YAML aliases (*name) expand past vecguard's limit (100 alias expansions): write the repeated values out, or alias fewer or smaller nodes\n`,
        );
      });

      it(`${argv[0]}: a 38 MiB file`, async () => {
        const r = await run(...argv, big);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(
          `vecguard: ${big}: the file is 38 MiB; a policy may be at most 1 MiB (a real one is a few KB): check that this is the policy file\n`,
        );
      });
    }

    it('a directory is named as such', async () => {
      const r = await run('policy', 'validate', dir);
      expect(r).toMatchObject({
        code: 2,
        stderr: `vecguard: ${dir}: is a directory; name the policy file itself\n`,
      });
    });
  });
});
