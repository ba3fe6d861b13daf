/**
 * Routes each request to the service named by its SigV4 credential scope, after the checks AWS itself
 * makes before a service sees a call: who is calling (access key → account), is the caller throttled, and
 * (sandbox only) is a fault injected. Every call lands in the call log, whatever its outcome.
 */
import { randomUUID } from 'node:crypto';
import type { CallLog } from './call-log.ts';
import type { SandboxClock } from './clock.ts';
import type { CredentialRegistry } from './credentials.ts';
import type { FaultInjector } from './faults.ts';
import {
  defaultAuthFailure,
  renderError,
  type SandboxError,
  type SandboxProtocol,
  type SandboxRequest,
  type SandboxResponse,
  type ServiceEmulator,
} from './service.ts';
import { parseCredentialScope } from './sigv4.ts';
import { isReadAction, type Throttle } from './throttle.ts';

/** An HTTP request as the server received it (header names lower case). */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RouterParts {
  readonly clock: SandboxClock;
  readonly credentials: CredentialRegistry;
  readonly throttle: Throttle;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
}

/** Answers `/_sandbox/...` requests (see control-api.ts). */
export type ControlHandler = (req: RawRequest) => Promise<SandboxResponse>;

export class SandboxRouter {
  private readonly services = new Map<string, ServiceEmulator>();
  private readonly parts: RouterParts;
  private control: ControlHandler | undefined;

  constructor(parts: RouterParts) {
    this.parts = parts;
  }

  register(service: ServiceEmulator): void {
    if (this.services.has(service.signingName)) {
      throw new Error(`a service is already registered for signing name "${service.signingName}"`);
    }
    this.services.set(service.signingName, service);
  }

  /** Every registered emulator, in registration order. */
  emulators(): ServiceEmulator[] {
    return [...this.services.values()];
  }

  service(signingName: string): ServiceEmulator | undefined {
    return this.services.get(signingName);
  }

  get signingNames(): string[] {
    return [...this.services.keys()];
  }

  setControlHandler(handler: ControlHandler): void {
    this.control = handler;
  }

  async handle(raw: RawRequest): Promise<SandboxResponse> {
    if (raw.path.startsWith('/_sandbox/') && this.control !== undefined) {
      return this.control(raw);
    }
    const { clock, credentials, throttle, faults, calls } = this.parts;
    const at = clock.now();
    const requestId = randomUUID();
    const scope = parseCredentialScope(raw.headers.authorization, raw.path);
    const emulator = scope === undefined ? undefined : this.services.get(scope.service);
    const protocol: SandboxProtocol = emulator?.protocol ?? guessProtocol(raw);

    const refuse = (error: SandboxError, facts: { action: string; accountId?: string }): SandboxResponse => {
      const response = renderError(protocol, error, requestId);
      calls.append({
        at,
        service: scope?.service ?? 'unknown',
        action: facts.action,
        ...(facts.accountId === undefined ? {} : { accountId: facts.accountId }),
        ...(scope === undefined ? {} : { region: scope.region, accessKeyId: scope.accessKeyId }),
        mutating: !isReadAction(facts.action),
        dryRun: false,
        status: response.status,
        errorCode: error.code,
      });
      return response;
    };

    if (scope === undefined) {
      return refuse(
        {
          status: 403,
          code: 'MissingAuthenticationToken',
          message: 'Request is missing a SigV4 Authentication Token',
        },
        { action: inferAction(raw) },
      );
    }
    if (emulator === undefined) {
      return refuse(
        {
          status: 400,
          code: 'UnknownService',
          message: `The sandbox has no emulator for service "${scope.service}" (registered: ${this.signingNames.join(', ')})`,
        },
        { action: inferAction(raw) },
      );
    }
    const identity = credentials.lookup(scope.accessKeyId);
    if (identity === undefined) {
      const failure = emulator.authFailure ?? defaultAuthFailure(protocol);
      return refuse(emulator.authFailureCode ? { ...failure, code: emulator.authFailureCode } : failure, {
        action: inferAction(raw),
      });
    }
    const request: SandboxRequest = {
      service: scope.service,
      region: scope.region,
      accountId: identity.accountId,
      accessKeyId: scope.accessKeyId,
      method: raw.method,
      path: raw.path,
      headers: raw.headers,
      body: raw.body,
    };
    const action = emulator.actionOf?.(request) ?? inferAction(raw);
    const throttleKey = {
      service: scope.service,
      accountId: identity.accountId,
      region: scope.region,
      action,
    };
    if (!throttle.tryAcquire(throttleKey)) {
      return refuse(
        {
          status: 503,
          code:
            emulator.throttlingCode ?? (protocol === 'ec2' ? 'RequestLimitExceeded' : 'ThrottlingException'),
          message: 'Request limit exceeded.',
        },
        { action, accountId: identity.accountId },
      );
    }
    const fault = faults.decide(throttleKey);
    if (fault !== undefined && fault.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    }
    if (fault?.error !== undefined) {
      return refuse(fault.error, { action, accountId: identity.accountId });
    }

    let response: SandboxResponse;
    try {
      response = await emulator.handle(request);
    } catch (error) {
      response = renderError(
        protocol,
        {
          status: 500,
          code: protocol === 'ec2' ? 'InternalError' : 'InternalFailure',
          message: `sandbox ${scope.service} emulator failed: ${error instanceof Error ? error.message : String(error)}`,
        },
        requestId,
      );
    }
    const facts = response.call;
    const record = calls.append({
      at,
      service: scope.service,
      action: facts?.action ?? action,
      accountId: identity.accountId,
      region: scope.region,
      accessKeyId: scope.accessKeyId,
      mutating: facts?.mutating ?? !isReadAction(action),
      dryRun: facts?.dryRun ?? /(?:^|&)DryRun=true(?:&|$)/.test(raw.body),
      status: response.status,
      ...errorCodeOf(response),
    });
    faults.observe(record);
    return response;
  }
}

function errorCodeOf(response: SandboxResponse): { errorCode?: string } {
  if (response.call?.errorCode !== undefined) {
    return { errorCode: response.call.errorCode };
  }
  if (response.status < 300) {
    return {};
  }
  const fromHeader = response.headers['x-amzn-errortype'];
  if (fromHeader !== undefined) {
    return { errorCode: fromHeader.split(':')[0] ?? fromHeader };
  }
  const fromXml = /<Code>([^<]+)<\/Code>/.exec(response.body)?.[1];
  if (fromXml !== undefined) {
    return { errorCode: fromXml };
  }
  const fromJson = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(response.body)?.[1];
  return fromJson === undefined ? {} : { errorCode: fromJson };
}

/** The action a request asks for, without knowing the service: query `Action=`, JSON `X-Amz-Target`, or REST. */
export function inferAction(raw: RawRequest): string {
  const target = raw.headers['x-amz-target'];
  if (target !== undefined) {
    return target.slice(target.lastIndexOf('.') + 1);
  }
  const formAction = /(?:^|&)Action=([^&]*)/.exec(raw.body)?.[1];
  if (formAction !== undefined) {
    return decodeURIComponent(formAction);
  }
  const queryAction = /[?&]Action=([^&]*)/.exec(raw.path)?.[1];
  if (queryAction !== undefined) {
    return decodeURIComponent(queryAction);
  }
  return `${raw.method} ${raw.path.split('?')[0]}`;
}

function guessProtocol(raw: RawRequest): SandboxProtocol {
  if (raw.headers['x-amz-target'] !== undefined) {
    return 'json';
  }
  return (raw.headers['content-type'] ?? '').includes('x-www-form-urlencoded') ? 'query' : 'rest-json';
}
