/**
 * EC2 errors as the API reports them: a code, a message, an HTTP status.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
import { ServiceError } from '../service.ts';

export class Ec2Error extends ServiceError {
  override readonly name = 'Ec2Error';
}

export function notFound(code: string, id: string, what: string): Ec2Error {
  return new Ec2Error(code, `The ${what} ID '${id}' does not exist`);
}

export function invalidParameter(message: string): Ec2Error {
  return new Ec2Error('InvalidParameterValue', message);
}

export function missingParameter(name: string): Ec2Error {
  return new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
}

export function incorrectState(message: string): Ec2Error {
  return new Ec2Error('IncorrectState', message);
}

export function dryRunSucceeded(): Ec2Error {
  return new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}

/**
 * The refusal for a change an enforced VPC encryption control forbids (a non-capable instance type, an
 * internet gateway without its exclusion…). AWS does not document the EC2 code; RDS uses
 * `VpcEncryptionControlViolationException`, so the sandbox uses the EC2-style `VpcEncryptionControlViolation`.
 */
export function encryptionViolation(message: string): Ec2Error {
  return new Ec2Error('VpcEncryptionControlViolation', message);
}

/** `required(x, 'VpcId')` narrows an optional input member or answers MissingParameter. */
export function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || (typeof value === 'string' && value === '')) {
    throw missingParameter(name);
  }
  return value;
}
