/**
 * The local runtime keeps to one loop a process and leaves nothing behind: the handlers read one environment
 * and keep their clients per container, as in Lambda, so a second loop would run its events in the first's
 * sandbox; a start that fails, or a demo whose session fails, stops the sandbox and removes the policy copy.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { PolicyError } from '../../functions/domain/errors.ts';
import { startLocalLoop } from '../../local/loop.ts';

const OPTIONS = { scenario: 'default', policyFile: 'examples/vecguard.policy.yaml', speed: 600 };

describe('the local loop', () => {
  it('refuses a second loop while one runs, and starts one again once it stopped', async () => {
    const first = await startLocalLoop(OPTIONS);
    try {
      await expect(startLocalLoop(OPTIONS)).rejects.toThrow(
        /a local loop is already running in this process/,
      );
    } finally {
      await first.stop();
    }
    const second = await startLocalLoop(OPTIONS);
    await second.stop();
  });

  it('puts the environment back when it stops, and removes its copy of the policy', async () => {
    const before = process.env.VECGUARD_TABLE_NAME;
    const loop = await startLocalLoop({ ...OPTIONS, approvalTimeoutMinutes: 10 });
    expect(process.env.VECGUARD_TABLE_NAME).toBe('vecguard-state');
    expect(existsSync(loop.policyFile)).toBe(true);
    await loop.stop();
    expect(process.env.VECGUARD_TABLE_NAME).toBe(before);
    expect(existsSync(loop.policyFile)).toBe(false);
  });

  it('a policy that does not parse fails the start and leaves nothing running', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vecguard-bad-policy-')), 'bad.yaml');
    writeFileSync(file, 'version: 1\nlimits: { maxChangesPerRun: -3 }\n');
    await expect(
      startLocalLoop({ ...OPTIONS, policyFile: file, approvalTimeoutMinutes: 10 }),
    ).rejects.toThrow(/maxChangesPerRun/);
    const loop = await startLocalLoop(OPTIONS);
    await loop.stop();
  });

  it('an alias bomb fails the start with a PolicyError naming the user’s file (the copy goes through the same limits)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vecguard-bomb-policy-')), 'bomb.yaml');
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    writeFileSync(file, levels.join('\n'));
    const error = await startLocalLoop({ ...OPTIONS, policyFile: file, approvalTimeoutMinutes: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as Error).message).toBe(
      `${file}: its YAML aliases (*name) expand past vecguard's limit (100 alias expansions): write the repeated values out, or alias fewer or smaller nodes`,
    );
  });

  it('an approval timeout outside the policy’s bounds fails the start, naming it, and leaves nothing running', async () => {
    await expect(startLocalLoop({ ...OPTIONS, approvalTimeoutMinutes: 100_000 })).rejects.toThrow(
      /approval\.timeoutMinutes 100000/,
    );
    const loop = await startLocalLoop(OPTIONS);
    await loop.stop();
  });

  it('a demo whose session fails ends with the error and stops its sandbox (no hang)', async () => {
    let stderr = '';
    // OU targets, and the default scenario has no organisation: on-event refuses the sweep.
    const code = await main(
      [
        'demo',
        '--approve',
        'none',
        '--policy',
        'test/fixtures/policies/ou-targets.policy.yaml',
        '--out',
        mkdtempSync(join(tmpdir(), 'vecguard-demo-')),
      ],
      { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } },
    );
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Organizations/);
    const loop = await startLocalLoop(OPTIONS);
    await loop.stop();
  });
});
