/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface Io {
  readonly stdout: { write(chunk: string): unknown };
  /** Where progress goes; a terminal (`isTTY`, `columns` as on `process.stderr`) gets a line rewritten in place. */
  readonly stderr: { write(chunk: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Aborted when the user asks a long-running command to stop (Ctrl-C); tests abort it themselves. */
  readonly signal?: AbortSignal;
  /** Where answers come from (the demo's approval prompts); absent in tests that answer nothing. */
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

/** Documented exit codes (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** Findings at or above `--fail-on`. */
  findings: 1,
  /** Bad flags, a bad policy file, bad input. */
  usage: 2,
  /** AWS could not be reached or refused access. */
  aws: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI prints as one line and maps to an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT.usage) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
