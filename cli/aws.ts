/**
 * AWS clients for the CLI, built from `--region` / `--profile` and the SDK's default chain, and the one place
 * that turns whatever an AWS call threw into a one-line `CliError` saying what to do (exit 3).
 *
 * - Credentials: the SDK's default provider chain (environment, SSO, shared files, IMDS…); `--profile`
 *   selects a profile of the shared files, exactly like AWS_PROFILE.
 * - Endpoint: `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` when set (a vecguard sandbox), else AWS's.
 *   https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 * - Region: `--region`, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's `region`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { Ec2Gateway } from '../functions/adapters/ec2-gateway.ts';
import { AwsCallError } from '../functions/shared/errors.ts';
import { CliError, EXIT } from './io.ts';

export interface AwsFlags {
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

/** The service ids the SDK uses in `AWS_ENDPOINT_URL_<ID>`, and the host prefix of AWS's own endpoint. */
const SERVICES = {
  ec2: { envId: 'EC2', host: 'ec2' },
  sts: { envId: 'STS', host: 'sts' },
  dynamodb: { envId: 'DYNAMODB', host: 'dynamodb' },
  states: { envId: 'SFN', host: 'states' },
  organizations: { envId: 'ORGANIZATIONS', host: 'organizations' },
} as const;
type Service = keyof typeof SERVICES;

export const NO_CREDENTIALS =
  'no AWS credentials found; set AWS_PROFILE or run aws configure (or point AWS_ENDPOINT_URL at a vecguard sandbox)';

/** Clients for one CLI invocation; `close()` releases their sockets so the process can exit. */
export class AwsClients {
  readonly flags: AwsFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly sts: STSClient;
  #region: string | undefined;
  readonly #opened: { destroy(): void }[] = [];

  constructor(flags: AwsFlags, env: NodeJS.ProcessEnv = process.env) {
    this.flags = flags;
    this.env = env;
    this.sts = this.#track(new STSClient(this.config('sts')));
  }

  /** The configured endpoint for a service, when one is set (the sandbox); undefined means AWS's. */
  configuredEndpoint(service: Service): string | undefined {
    const own = this.env[`AWS_ENDPOINT_URL_${SERVICES[service].envId}`];
    return own?.trim() || this.env.AWS_ENDPOINT_URL?.trim() || undefined;
  }

  /** Where calls to a service go, for messages. */
  endpointFor(service: Service): string {
    return (
      this.configuredEndpoint(service) ??
      `https://${SERVICES[service].host}.${this.#region ?? this.flags.region ?? '<region>'}.amazonaws.com`
    );
  }

  config(service: Service) {
    const endpoint = this.configuredEndpoint(service);
    return {
      ...(this.flags.region ? { region: this.flags.region } : {}),
      ...(this.flags.profile ? { profile: this.flags.profile } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
  }

  /** The Region the clients use; a usage error (exit 2) when none is configured anywhere. */
  async region(): Promise<string> {
    if (this.#region) return this.#region;
    try {
      this.#region = await this.sts.config.region();
    } catch {
      this.#region = undefined;
    }
    if (!this.#region) {
      throw new CliError(
        'no AWS Region; pass --region, set AWS_REGION, or give your profile a region (aws configure)',
      );
    }
    return this.#region;
  }

  /** An EC2 gateway that can only read: dry-run, so even a stray mutating call changes nothing. */
  async readOnlyEc2(): Promise<Ec2Gateway> {
    const client = this.#track(
      new EC2Client({
        ...this.config('ec2'),
        region: await this.region(),
        retryMode: 'adaptive',
        maxAttempts: 4,
      }),
    );
    return new Ec2Gateway({ client, dryRun: true });
  }

  async dynamodb(): Promise<DynamoDBClient> {
    return this.#track(new DynamoDBClient({ ...this.config('dynamodb'), region: await this.region() }));
  }

  /** Organizations (global: one endpoint per partition); read only when the policy targets OUs. */
  async organizations(): Promise<OrganizationsClient> {
    return this.#track(
      new OrganizationsClient({
        ...this.config('organizations'),
        region: await this.region(),
        maxAttempts: 4,
      }),
    );
  }

  async sfn(): Promise<SFNClient> {
    return this.#track(new SFNClient({ ...this.config('states'), region: await this.region() }));
  }

  close(): void {
    for (const c of this.#opened) c.destroy();
  }

  #track<T extends { destroy(): void }>(client: T): T {
    this.#opened.push(client);
    return client;
  }
}

/** Codes that mean the credentials themselves were refused (not a missing permission). */
const BAD_CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'AuthFailure',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);
const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Errors along the `cause` chain (and inside an AggregateError), outermost first. */
function chain(error: unknown): { name?: string; code?: string; message?: string }[] {
  const out: { name?: string; code?: string; message?: string }[] = [];
  let e: unknown = error;
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth += 1) {
    out.push(e as { name?: string; code?: string; message?: string });
    if (e instanceof AggregateError) out.push(...(e.errors as typeof out));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A CliError that keeps what caused it, so `--debug` shows the SDK's stack too. */
export function withCause(error: CliError, cause: unknown): CliError {
  error.cause = cause;
  if (cause instanceof Error && cause.stack) error.stack = `${error.stack}\nCaused by: ${cause.stack}`;
  return error;
}

/**
 * Turn anything an AWS call threw into a one-line CliError with what to do. CliErrors pass through; errors
 * that are not about AWS are returned unchanged (main reports them as unexpected).
 */
export function awsFailure(error: unknown, clients: AwsClients, service: Service = 'ec2'): unknown {
  if (error instanceof CliError) return error;
  const links = chain(error);
  const call = error instanceof AwsCallError ? error : undefined;
  const svc = (call?.service as Service | undefined) ?? service;

  const network = links.find((l) => l.code !== undefined && l.code in NETWORK_CODES);
  if (network?.code) {
    const endpoint = clients.endpointFor(svc in SERVICES ? svc : service);
    const hint = clients.configuredEndpoint(svc in SERVICES ? svc : service)
      ? 'is the sandbox running? (`vecguard sandbox`), or unset AWS_ENDPOINT_URL to use AWS'
      : 'check the network and --region';
    return withCause(
      new CliError(
        `cannot reach ${endpoint}: ${NETWORK_CODES[network.code]} (${network.code}); ${hint}`,
        EXIT.aws,
      ),
      error,
    );
  }
  if (links.some((l) => l.name === 'CredentialsProviderError' || l.code === 'CredentialsProviderError')) {
    const message = clients.flags.profile
      ? `no AWS credentials found for profile "${clients.flags.profile}"; check ~/.aws/config or run aws configure --profile ${clients.flags.profile}`
      : NO_CREDENTIALS;
    return withCause(new CliError(message, EXIT.aws), error);
  }
  if (call) {
    // AWS's own words, without a final full stop: the hint follows after a semicolon.
    const awsMessage = oneLine(
      (call.cause as { message?: string } | undefined)?.message ?? call.message,
    ).replace(/\.$/, '');
    if (BAD_CREDENTIAL_CODES.has(call.code)) {
      return withCause(
        new CliError(
          `the AWS credentials were refused (${call.code}: ${awsMessage}); refresh them (aws sso login, aws configure) or pick another --profile`,
          EXIT.aws,
        ),
        error,
      );
    }
    if (DENIED_CODES.has(call.code)) {
      return withCause(
        new CliError(
          `${call.action} was refused: ${awsMessage}; the identity needs ${call.service}:${call.action}`,
          EXIT.aws,
        ),
        error,
      );
    }
    return withCause(
      new CliError(`${call.service} ${call.action} failed: ${call.code}: ${awsMessage}`, EXIT.aws),
      error,
    );
  }
  return error;
}
