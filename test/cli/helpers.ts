/** Shared by the CLI tests: `vecguard` run in-process, its output captured. */
import { main } from '../../cli/main.ts';

/** Run `vecguard ...argv` through `main`, as the binary would, and return its exit code and what it wrote. */
export async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}
