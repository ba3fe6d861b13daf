/**
 * Who vecguard (or the person answering an approval) is, and credentials for a member account.
 * - `whoAmI`: STS GetCallerIdentity; the approver's ARN recorded in the approval and the audit log comes
 *   from here, never from input.
 * - `assumeScopeCredentials`: STS AssumeRole into the member-account role of a scope (`roleArn` in the
 *   execution input); the credentials are handed to the scope's EC2/Security Hub clients.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { AwsCallError, toAwsCallError } from '../shared/errors.ts';

export interface CallerIdentity {
  readonly accountId: string;
  /** e.g. `arn:aws:sts::111111111111:assumed-role/SecurityAdmin/alice` */
  readonly arn: string;
  readonly userId: string;
}

/** The identity of the credentials `sts` signs with. */
export async function whoAmI(sts: STSClient): Promise<CallerIdentity> {
  let output: { Account?: string; Arn?: string; UserId?: string };
  try {
    output = await sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw toAwsCallError(error, 'sts', 'GetCallerIdentity');
  }
  if (!output.Account || !output.Arn || !output.UserId) {
    throw new AwsCallError(
      'sts',
      'GetCallerIdentity',
      'IncompleteResponse',
      'the answer lacks Account, Arn or UserId',
    );
  }
  return { accountId: output.Account, arn: output.Arn, userId: output.UserId };
}

/** Temporary credentials in the shape every SDK v3 client takes as `credentials`. */
export interface ScopeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface AssumeOptions {
  /** The role trust policy's `sts:ExternalId` condition, when it has one. */
  readonly externalId?: string;
  /** 900–43200 s; default 3600 (role chaining caps it at 3600). */
  readonly durationSeconds?: number;
}

/**
 * Role session names allow `[\w+=,.@-]`, 2–64 characters (they appear in CloudTrail as the session of every
 * call vecguard makes): anything else becomes `-`, and the name is cut to 64.
 */
export function roleSessionName(name: string): string {
  const cleaned = name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `vecguard-${cleaned}`.slice(0, 64);
}

/** Assume the member-account role of a scope. */
export async function assumeScopeCredentials(
  sts: STSClient,
  roleArn: string,
  sessionName: string,
  options: AssumeOptions = {},
): Promise<ScopeCredentials> {
  let output: {
    Credentials?: {
      AccessKeyId?: string;
      SecretAccessKey?: string;
      SessionToken?: string;
      Expiration?: Date;
    };
  };
  try {
    output = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: roleSessionName(sessionName),
        ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
        ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
      }),
    );
  } catch (error) {
    throw toAwsCallError(error, 'sts', 'AssumeRole');
  }
  const c = output.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new AwsCallError(
      'sts',
      'AssumeRole',
      'IncompleteResponse',
      `no complete credentials for ${roleArn}`,
    );
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}
