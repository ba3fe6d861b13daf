/**
 * STS for the sandbox: `GetCallerIdentity` and `AssumeRole` (awsQuery, XML).
 *
 * AssumeRole issues temporary keys and registers them in the sandbox's `CredentialRegistry` under the
 * role's account, so one sandbox holds several accounts: a hub handler assuming
 * `arn:aws:iam::222222222222:role/vecguard-member` then lands in account 222222222222's EC2, Security Hub,
 * SNS… state. Roles need not be declared (any well-formed role ARN is assumable) unless `strictRoles` is on;
 * a declared role can restrict who may assume it, require an ExternalId and cap the session duration.
 *
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
import { createHash, randomBytes } from 'node:crypto';
import * as stsModel from '@aws-sdk/client-sts';
import { AwsQueryError, type AwsQueryService, queryActionOf, serveAwsQuery } from '../aws-query.ts';
import type { SandboxClock } from '../clock.ts';
import type { CredentialRegistry } from '../credentials.ts';
import type { SandboxRequest, SandboxResponse, ServiceEmulator } from '../service.ts';
import { ValidationErrors } from '../validation.ts';

const STS: AwsQueryService = {
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  version: '2011-06-15',
  model: stsModel as unknown as Record<string, unknown>,
};

/** A role the sandbox knows; undeclared roles are assumable unless `strictRoles`. */
export interface RoleDefinition {
  readonly arn: string;
  /** IAM `MaxSessionDuration`, 3600–43200 s. Default 3600. */
  readonly maxSessionDurationSeconds?: number;
  /** Accounts whose principals the trust policy allows; absent = any account. */
  readonly trustedAccountIds?: readonly string[];
  /** `sts:ExternalId` condition of the trust policy. */
  readonly externalId?: string;
}

/** One set of temporary credentials STS issued. */
export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly roleArn: string;
  readonly roleSessionName: string;
  /** The role's account: where calls with these keys land. */
  readonly accountId: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` */
  readonly assumedRoleArn: string;
  /** `<RoleId>:<session>` */
  readonly assumedRoleId: string;
  /** Sandbox-clock epoch ms. */
  readonly expiresAt: number;
  /** Who assumed the role. */
  readonly callerAccountId: string;
  readonly callerArn: string;
  readonly externalId?: string;
}

export interface StsEmulatorOptions {
  readonly credentials: CredentialRegistry;
  /** Times sessions (expiry). Default: real time. */
  readonly clock?: Pick<SandboxClock, 'now'>;
  /** Only declared roles can be assumed (AccessDenied otherwise). Default false. */
  readonly strictRoles?: boolean;
  readonly roles?: readonly RoleDefinition[];
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
/** Role chaining caps a session at one hour, whatever the role allows. */
const ROLE_CHAINING_MAX_SECONDS = 3600;

export class StsEmulator implements ServiceEmulator {
  readonly signingName = 'sts';
  readonly protocol = 'query' as const;

  private readonly credentials: CredentialRegistry;
  private readonly clock: Pick<SandboxClock, 'now'>;
  private readonly strictRoles: boolean;
  private readonly roles = new Map<string, RoleDefinition>();
  private readonly issued = new Map<string, IssuedSession>();

  constructor(options: StsEmulatorOptions) {
    this.credentials = options.credentials;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.strictRoles = options.strictRoles ?? false;
    for (const role of options.roles ?? []) {
      this.defineRole(role);
    }
  }

  /** Declares (or replaces) a role. */
  defineRole(role: RoleDefinition): void {
    if (!ROLE_ARN.test(role.arn)) {
      throw new Error(`not a role ARN: "${role.arn}"`);
    }
    const max = role.maxSessionDurationSeconds ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new Error(`maxSessionDurationSeconds must be an integer in 3600–43200, got ${max}`);
    }
    this.roles.set(role.arn, role);
  }

  /** Every session issued so far, oldest first. */
  get sessions(): IssuedSession[] {
    return [...this.issued.values()];
  }

  session(accessKeyId: string): IssuedSession | undefined {
    return this.issued.get(accessKeyId);
  }

  actionOf(req: SandboxRequest): string {
    return queryActionOf(req);
  }

  handle(req: SandboxRequest): Promise<SandboxResponse> {
    return serveAwsQuery(STS, req, 'ValidationError', (operation, input) => {
      this.checkNotExpired(req.accessKeyId);
      switch (operation.name) {
        case 'GetCallerIdentity':
          return this.getCallerIdentity(req);
        case 'AssumeRole':
          return this.assumeRole(req, input);
        default:
          throw new AwsQueryError('InvalidAction', `The sandbox does not implement STS ${operation.name}`);
      }
    });
  }

  private checkNotExpired(accessKeyId: string): void {
    const session = this.issued.get(accessKeyId);
    if (session !== undefined && this.clock.now() >= session.expiresAt) {
      throw new AwsQueryError('ExpiredToken', 'The security token included in the request is expired', 403);
    }
  }

  private caller(req: SandboxRequest): { arn: string; userId: string; session?: IssuedSession } {
    const session = this.issued.get(req.accessKeyId);
    if (session !== undefined) {
      return { arn: session.assumedRoleArn, userId: session.assumedRoleId, session };
    }
    const principalArn = this.credentials.lookup(req.accessKeyId)?.principalArn;
    if (principalArn === undefined) {
      // A key without a named principal stands for the account's root user, whose UserId is the account id.
      return { arn: `arn:aws:iam::${req.accountId}:root`, userId: req.accountId };
    }
    return { arn: principalArn, userId: stableId('AIDA', principalArn) };
  }

  private getCallerIdentity(req: SandboxRequest): stsModel.GetCallerIdentityResponse {
    const caller = this.caller(req);
    return { UserId: caller.userId, Account: req.accountId, Arn: caller.arn };
  }

  private assumeRole(req: SandboxRequest, input: Record<string, unknown>): stsModel.AssumeRoleResponse {
    const { RoleArn, RoleSessionName, DurationSeconds, ExternalId, Policy } =
      input as unknown as stsModel.AssumeRoleRequest;
    const errors = new ValidationErrors();
    errors.string('roleArn', RoleArn, { required: true, min: 20, max: 2048 });
    errors.string('roleSessionName', RoleSessionName, {
      required: true,
      min: 2,
      max: 64,
      pattern: SESSION_NAME,
    });
    errors.integer('durationSeconds', DurationSeconds, { min: 900, max: 43200 });
    errors.string('externalId', ExternalId, { min: 2, max: 1224, pattern: EXTERNAL_ID });
    errors.string('policy', Policy, { min: 1, max: 2048 });
    errors.throwIfAny('ValidationError');
    const roleArn = RoleArn as string;
    const sessionName = RoleSessionName as string;

    const match = ROLE_ARN.exec(roleArn);
    if (match === null) {
      throw new AwsQueryError('ValidationError', `${roleArn} is invalid`);
    }
    const [, roleAccountId = '', , roleName = ''] = match;
    const caller = this.caller(req);
    const role = this.roles.get(roleArn);
    const denied = new AwsQueryError(
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      403,
    );
    if (role === undefined && this.strictRoles) {
      throw denied;
    }
    if (role?.trustedAccountIds !== undefined && !role.trustedAccountIds.includes(req.accountId)) {
      throw denied;
    }
    if (role?.externalId !== undefined && role.externalId !== ExternalId) {
      throw denied;
    }
    const duration = DurationSeconds ?? 3600;
    if (caller.session !== undefined && duration > ROLE_CHAINING_MAX_SECONDS) {
      throw new AwsQueryError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration > (role?.maxSessionDurationSeconds ?? 3600)) {
      throw new AwsQueryError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }

    const session: IssuedSession = {
      accessKeyId: `ASIA${randomToken(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
      roleArn,
      roleSessionName: sessionName,
      accountId: roleAccountId,
      assumedRoleArn: `arn:aws:sts::${roleAccountId}:assumed-role/${roleName}/${sessionName}`,
      assumedRoleId: `${stableId('AROA', roleArn)}:${sessionName}`,
      expiresAt: Math.floor(this.clock.now() / 1000) * 1000 + duration * 1000,
      callerAccountId: req.accountId,
      callerArn: caller.arn,
      ...(ExternalId === undefined ? {} : { externalId: ExternalId }),
    };
    this.issued.set(session.accessKeyId, session);
    this.credentials.register(session.accessKeyId, session.accountId, {
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
      principalArn: session.assumedRoleArn,
    });
    return {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: session.secretAccessKey,
        SessionToken: session.sessionToken,
        Expiration: new Date(session.expiresAt),
      },
      AssumedRoleUser: { AssumedRoleId: session.assumedRoleId, Arn: session.assumedRoleArn },
      ...(Policy === undefined
        ? {}
        : { PackedPolicySize: Math.min(100, Math.ceil((Policy.length / 2048) * 100)) }),
    };
  }
}

/** A service factory for `startSandboxServer({ services: [sts()] })`: shares the sandbox's registry and clock. */
export function sts(
  options: Omit<StsEmulatorOptions, 'credentials' | 'clock'> = {},
): (context: { credentials: CredentialRegistry; clock: SandboxClock }) => StsEmulator {
  return (context) => new StsEmulator({ ...options, credentials: context.credentials, clock: context.clock });
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomToken(length: number): string {
  return [...randomBytes(length)].map((b) => ID_ALPHABET[b % 32]).join('');
}

/** IAM unique ids look like `AROA` + 17 characters; derived from the ARN so they are stable per principal. */
function stableId(prefix: string, arn: string): string {
  const digest = createHash('sha256').update(arn).digest();
  return prefix + [...digest.subarray(0, 17)].map((b) => ID_ALPHABET[b % 32]).join('');
}
