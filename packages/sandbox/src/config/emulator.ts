/**
 * AWS Config for the sandbox: `PutEvaluations` (awsJson1_1, `X-Amz-Target: StarlingDoveService.PutEvaluations`),
 * which is how a custom Config rule Lambda reports compliance.
 *
 * A real ResultToken comes from the rule invocation event. By default any non-empty token is accepted (a
 * handler test builds its own event); `issueResultToken` mints tokens tied to a rule name, and with
 * `strictResultTokens` only minted tokens are accepted (`InvalidResultTokenException` otherwise).
 * https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html
 * https://docs.aws.amazon.com/config/latest/APIReference/API_Evaluation.html
 */
import { randomUUID } from 'node:crypto';
import { AccountRegionStore } from '../account-region-store.ts';
import {
  type AwsJsonOperation,
  type AwsJsonService,
  awsJsonActionOf,
  type JsonObject,
  serveAwsJson,
} from '../aws-json.ts';
import type { SandboxClock } from '../clock.ts';
import { type SandboxRequest, type SandboxResponse, type ServiceEmulator, ServiceError } from '../service.ts';
import { ValidationErrors } from '../validation.ts';

const COMPLIANCE_TYPES = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA'];

export interface StoredEvaluation {
  readonly accountId: string;
  readonly region: string;
  readonly resultToken: string;
  /** The rule the token was minted for, when it was minted by `issueResultToken`. */
  readonly configRuleName?: string;
  readonly complianceResourceType: string;
  readonly complianceResourceId: string;
  readonly complianceType: string;
  readonly annotation?: string;
  /** Epoch ms. */
  readonly orderingTimestamp: number;
  /** Sandbox-clock epoch ms. */
  readonly recordedAt: number;
}

export interface ConfigEmulatorOptions {
  readonly clock?: Pick<SandboxClock, 'now'>;
  /** Only tokens minted by `issueResultToken` are accepted. Default false. */
  readonly strictResultTokens?: boolean;
}

class ConfigError extends ServiceError {
  override readonly name = 'ConfigError';
}

const CONFIG: AwsJsonService<ConfigError> = {
  targetPrefix: 'StarlingDoveService.',
  version: '1.1',
  title: 'Config',
  errors: ConfigError,
};

interface Scope {
  readonly evaluations: StoredEvaluation[];
}

export class ConfigEmulator implements ServiceEmulator {
  readonly signingName = 'config';
  readonly protocol = 'json' as const;

  private readonly clock: Pick<SandboxClock, 'now'>;
  private readonly strictResultTokens: boolean;
  private readonly tokens = new Map<string, { ruleName: string; accountId: string; region: string }>();
  private readonly scopes = new AccountRegionStore<Scope>(() => ({ evaluations: [] }));
  private readonly operations: Readonly<Record<string, AwsJsonOperation>> = {
    PutEvaluations: (input, req) => this.putEvaluations(req, input),
  };

  constructor(options: ConfigEmulatorOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.strictResultTokens = options.strictResultTokens ?? false;
  }

  /** A ResultToken as a rule invocation event would carry it. */
  issueResultToken(ruleName: string, accountId: string, region: string): string {
    const token = Buffer.from(JSON.stringify({ ruleName, nonce: randomUUID() })).toString('base64');
    this.tokens.set(token, { ruleName, accountId, region });
    return token;
  }

  /** Every evaluation put in an account and Region, in order (TestMode calls are not stored). */
  evaluations(accountId: string, region: string): StoredEvaluation[] {
    return [...(this.scopes.find(accountId, region)?.evaluations ?? [])];
  }

  /**
   * The current evaluation per (rule or token, resource type, resource id): Config keeps the one with the
   * latest OrderingTimestamp, whatever the arrival order.
   */
  latestEvaluations(accountId: string, region: string): StoredEvaluation[] {
    const latest = new Map<string, StoredEvaluation>();
    for (const evaluation of this.evaluations(accountId, region)) {
      const key = `${evaluation.configRuleName ?? evaluation.resultToken}\n${evaluation.complianceResourceType}\n${evaluation.complianceResourceId}`;
      const current = latest.get(key);
      if (current === undefined || evaluation.orderingTimestamp >= current.orderingTimestamp) {
        latest.set(key, evaluation);
      }
    }
    return [...latest.values()];
  }

  actionOf(req: SandboxRequest): string {
    return awsJsonActionOf(CONFIG, req);
  }

  handle(req: SandboxRequest): Promise<SandboxResponse> {
    return serveAwsJson(CONFIG, req, this.operations);
  }

  private putEvaluations(req: SandboxRequest, body: JsonObject): { FailedEvaluations: unknown[] } {
    const errors = new ValidationErrors();
    errors.string('resultToken', body.ResultToken, { required: true });
    errors.list('evaluations', body.Evaluations, { max: 100 });
    const evaluations = Array.isArray(body.Evaluations)
      ? (body.Evaluations as Record<string, unknown>[])
      : [];
    evaluations.forEach((evaluation, i) => {
      const path = `evaluations.${i + 1}.member`;
      errors.string(`${path}.complianceResourceType`, evaluation.ComplianceResourceType, {
        required: true,
        min: 1,
        max: 256,
      });
      errors.string(`${path}.complianceResourceId`, evaluation.ComplianceResourceId, {
        required: true,
        min: 1,
        max: 768,
      });
      errors.string(`${path}.complianceType`, evaluation.ComplianceType, {
        required: true,
        oneOf: COMPLIANCE_TYPES,
      });
      errors.string(`${path}.annotation`, evaluation.Annotation, { min: 1, max: 256 });
      errors.required(`${path}.orderingTimestamp`, evaluation.OrderingTimestamp);
    });
    const message = errors.message();
    if (message !== undefined) {
      throw new ConfigError('ValidationException', message);
    }
    const resultToken = body.ResultToken as string;
    const minted = this.tokens.get(resultToken);
    if (resultToken === '' || (this.strictResultTokens && minted === undefined)) {
      throw new ConfigError('InvalidResultTokenException', 'The resultToken provided is invalid');
    }
    if (minted !== undefined && (minted.accountId !== req.accountId || minted.region !== req.region)) {
      throw new ConfigError('InvalidResultTokenException', 'The resultToken provided is invalid');
    }
    const toStore: StoredEvaluation[] = [];
    for (const evaluation of evaluations) {
      if (evaluation.ComplianceType === 'INSUFFICIENT_DATA') {
        throw new ConfigError(
          'InvalidParameterValueException',
          'The ComplianceType INSUFFICIENT_DATA is not supported by PutEvaluations; use COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE',
        );
      }
      const ordering = Number(evaluation.OrderingTimestamp);
      if (!Number.isFinite(ordering)) {
        throw new ConfigError('SerializationException', 'OrderingTimestamp must be epoch seconds');
      }
      toStore.push({
        accountId: req.accountId,
        region: req.region,
        resultToken,
        ...(minted === undefined ? {} : { configRuleName: minted.ruleName }),
        complianceResourceType: evaluation.ComplianceResourceType as string,
        complianceResourceId: evaluation.ComplianceResourceId as string,
        complianceType: evaluation.ComplianceType as string,
        ...(typeof evaluation.Annotation === 'string' ? { annotation: evaluation.Annotation } : {}),
        orderingTimestamp: Math.round(ordering * 1000),
        recordedAt: this.clock.now(),
      });
    }
    if (body.TestMode !== true) {
      this.scopes.of(req.accountId, req.region).evaluations.push(...toStore);
    }
    return { FailedEvaluations: [] };
  }
}

/** A service factory for `startSandboxServer({ services: [config()] })`, on the sandbox clock. */
export function config(
  options: Omit<ConfigEmulatorOptions, 'clock'> = {},
): (context: { clock: SandboxClock }) => ConfigEmulator {
  return (context) => new ConfigEmulator({ ...options, clock: context.clock });
}
