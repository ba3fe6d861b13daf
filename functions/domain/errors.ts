/**
 * The domain's error taxonomy. "Bad input or policy" errors are never retried: they are reported with the
 * reason and dead-lettered. AWS-call errors live with the adapters (functions/shared/errors.ts) and extend
 * the same base, so one `instanceof VecguardError` catches both.
 */
export class VecguardError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VecguardError';
  }
}

/** Input that can never succeed as it is: a broken policy, an event of the wrong shape. Do not retry. */
export class InvalidInputError extends VecguardError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}

/** A policy file that does not validate. `problems` holds one line per issue, each naming its path. */
export class PolicyError extends InvalidInputError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(
      `${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`,
    );
    this.name = 'PolicyError';
    this.problems = problems;
  }
}
