/**
 * Model-constraint validation with the messages AWS's Coral front end writes, e.g.
 * `2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be
 * null; Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than
 * or equal to 2`. STS answers them as `ValidationError`, awsJson services as `ValidationException`.
 */
import { AwsQueryError } from './aws-query.ts';

export interface StringRule {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly oneOf?: readonly string[];
}

export interface NumberRule {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
}

export class ValidationErrors {
  private readonly problems: string[] = [];

  private add(value: unknown, path: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
    this.problems.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  required(path: string, value: unknown): boolean {
    if (value === undefined || value === null) {
      this.add(value, path, 'Member must not be null');
      return false;
    }
    return true;
  }

  string(path: string, value: unknown, rule: StringRule): void {
    if (value === undefined || value === null) {
      if (rule.required) {
        this.required(path, value);
      }
      return;
    }
    const text = String(value);
    if (rule.min !== undefined && text.length < rule.min) {
      this.add(text, path, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && text.length > rule.max) {
      this.add(text, path, `Member must have length less than or equal to ${rule.max}`);
    }
    if (rule.pattern !== undefined && !rule.pattern.test(text)) {
      this.add(text, path, `Member must satisfy regular expression pattern: ${patternSource(rule.pattern)}`);
    }
    if (rule.oneOf !== undefined && !rule.oneOf.includes(text)) {
      this.add(text, path, `Member must satisfy enum value set: [${rule.oneOf.join(', ')}]`);
    }
  }

  integer(path: string, value: unknown, rule: NumberRule): void {
    if (value === undefined || value === null) {
      if (rule.required) {
        this.required(path, value);
      }
      return;
    }
    const number = Number(value);
    if (rule.min !== undefined && number < rule.min) {
      this.add(number, path, `Member must have value greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && number > rule.max) {
      this.add(number, path, `Member must have value less than or equal to ${rule.max}`);
    }
  }

  list(path: string, value: unknown, rule: NumberRule): void {
    if (value === undefined || value === null) {
      if (rule.required) {
        this.required(path, value);
      }
      return;
    }
    const length = Array.isArray(value) ? value.length : 0;
    if (rule.min !== undefined && length < rule.min) {
      this.add(`[${length} items]`, path, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && length > rule.max) {
      this.add(`[${length} items]`, path, `Member must have length less than or equal to ${rule.max}`);
    }
  }

  get count(): number {
    return this.problems.length;
  }

  /** The Coral-style message, or `undefined` when everything passed. */
  message(): string | undefined {
    const n = this.problems.length;
    if (n === 0) {
      return undefined;
    }
    return `${n} validation error${n === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`;
  }

  /** Throws an awsQuery error with `code` when anything failed. */
  throwIfAny(code: string): void {
    const message = this.message();
    if (message !== undefined) {
      throw new AwsQueryError(code, message);
    }
  }
}

/** `[\w+=,.@-]*` rather than `^[\w+=,.@-]*$`: the model writes patterns without anchors. */
function patternSource(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, '').replace(/\$$/, '');
}
