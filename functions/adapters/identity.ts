/**
 * Who vecguard (or the person answering an approval) is, and credentials for a member account.
 * - `whoAmI`: STS GetCallerIdentity, for who runs a command (`vecguard scan`). An approver's ARN is not
 *   read here: the approver endpoint takes it from the function URL's authenticated request
 *   (functions/adapters/approver.ts).
 * - `assumeScopeCredentials`: STS AssumeRole into the member-account role of a scope (`roleArn` in the
 *   execution input); the credentials are handed to the scope's EC2/Security Hub clients.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { AccessError, AwsCallError, toAwsCallError } from '../shared/errors.ts';

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
  /** The role trust policy's `sts:ExternalId` condition, when it has one (`VECGUARD_MEMBER_EXTERNAL_ID`). */
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
    throw assumeRoleError(error, roleArn, options.externalId !== undefined);
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

/**
 * STS refuses an AssumeRole with one AccessDenied whatever failed, the trust policy's principal or its
 * `sts:ExternalId` condition, and its message names neither. Across accounts the usual cause is an external id
 * the hub and the member stack disagree on, so the error names the role and says whether an external id was
 * sent (never its value), then gives STS's own words.
 */
function assumeRoleError(error: unknown, roleArn: string, sentExternalId: boolean): AwsCallError {
  const wrapped = toAwsCallError(error, 'sts', 'AssumeRole');
  if (wrapped.code !== 'AccessDenied') return wrapped;
  const refused = sentExternalId
    ? `${roleArn} refused the external id vecguard sent (VECGUARD_MEMBER_EXTERNAL_ID), or does not trust the caller: the member stack's externalId must equal the hub's memberExternalId`
    : `${roleArn} refused vecguard, which sent no external id (VECGUARD_MEMBER_EXTERNAL_ID is unset), or does not trust the caller: a member stack with an externalId needs the hub's memberExternalId set to the same value`;
  const stsSaid = error instanceof Error ? error.message : String(error);
  return new AccessError(
    'sts',
    'AssumeRole',
    wrapped.code,
    `${refused}, and its hubAccountId must be the hub's account. STS said: ${stsSaid}`,
    { cause: error },
  );
}
