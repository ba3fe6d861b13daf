/**
 * `vecguard demo --faults FILE`: the faults a rehearsal injects, from a YAML or JSON file —
 *
 *   faults:  fault rules in the sandbox control API's format (docs/sandbox.md), `after` included
 *   die:     handlers that die at a named point (functions/shared/die-points.ts), as a Lambda whose
 *            process ends mid-invocation
 *
 * Validated whole before the sandbox starts: a bad file is one line naming the path inside it (exit 2).
 */
import { readFileSync, statSync } from 'node:fs';
import { FaultRuleInputSchema } from '@vecguard/sandbox';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DiePointSchema } from '../../functions/shared/die-points.ts';
import { CliError } from '../io.ts';

/** A faults file is a page of rules; far larger is not one. */
const MAX_BYTES = 1024 * 1024;

export const FaultsFileSchema = z.strictObject({
  faults: z.array(FaultRuleInputSchema).default([]),
  die: z.array(DiePointSchema).default([]),
});
export type FaultsFile = z.infer<typeof FaultsFileSchema>;

function path(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts)
    out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  return out === '' ? '(top level)' : out;
}

/** Read and validate a faults file; a bad one is a CliError of one line. */
export function loadFaultsFile(file: string): FaultsFile {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) {
      throw new CliError(
        `${file}: more than 1 MiB; a faults file is a few rules: check that this is the one`,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read it (${code})`);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    throw new CliError(
      `${file}: ${at ? `line ${at.line}, column ${at.col}: ` : ''}${(syntax.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new CliError(`${file}: its YAML aliases expand too far; write the rules out`);
  }
  const parsed = FaultsFileSchema.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  const [first, ...rest] = parsed.error.issues;
  throw new CliError(
    `${file}: ${path(first?.path ?? [])}: ${first?.message ?? 'invalid'}${rest.length ? ` (and ${rest.length} more)` : ''}; the format is in docs/cli.md (demo --faults)`,
  );
}
