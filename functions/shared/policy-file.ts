/**
 * Reading a policy file: the one way every reader (the CLI, the on-event and step handlers, the local loop)
 * gets from a path to a policy, within the parse limits of functions/domain/policy.ts. The size is checked by
 * `stat` before a byte is read, so a file far too large is refused at once, not after minutes of parsing.
 */
import { readFileSync, statSync } from 'node:fs';
import { PolicyError } from '../domain/errors.ts';
import { type Policy, parsePolicyDocument, policySizeProblem, validatePolicy } from '../domain/policy.ts';

/** A policy file that cannot be read at all; `code` is the system's (ENOENT, EACCES, EISDIR…). */
export class PolicyFileUnreadableError extends PolicyError {
  readonly code: string;

  constructor(file: string, code: string) {
    super(file, [
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory; name the policy file itself'
          : `cannot read the policy file (${code})`,
    ]);
    this.name = 'PolicyFileUnreadableError';
    this.code = code;
  }
}

/** The text of a policy file, refused (PolicyError) when it is too large or cannot be read. */
export function readPolicyText(file: string): string {
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new PolicyFileUnreadableError(file, 'EISDIR');
    const tooLarge = policySizeProblem(stat.size);
    if (tooLarge) throw new PolicyError(file, [tooLarge]);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    throw new PolicyFileUnreadableError(file, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  // Checked again on what was read: the file may have grown since the stat (or be a pipe, whose size is 0).
  const tooLarge = policySizeProblem(bytes.byteLength);
  if (tooLarge) throw new PolicyError(file, [tooLarge]);
  return bytes.toString('utf8');
}

/** A policy file as plain data (before the schema), within the parse limits. */
export function readPolicyDocument(file: string): unknown {
  return parsePolicyDocument(readPolicyText(file), file);
}

/** Read, parse and validate a policy file. Throws PolicyError naming the file and every problem. */
export function loadPolicyFile(file: string): Policy {
  return validatePolicy(readPolicyDocument(file), file);
}
