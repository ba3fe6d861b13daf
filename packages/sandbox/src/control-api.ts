/**
 * The sandbox's own JSON API under `/_sandbox/` (no SigV4): read the call log, inject faults, move the
 * clock, switch throttling, register credentials, and reach service-specific controls such as EC2 drift
 * at `/_sandbox/<signingName>/...`. Documented in docs/sandbox.md; the same operations exist in-process on
 * the handle `startSandboxServer` returns.
 */
import { z } from 'zod';
import type { CallLog, CallQuery } from './call-log.ts';
import type { SandboxClock } from './clock.ts';
import type { CredentialRegistry } from './credentials.ts';
import { type FaultInjector, FaultRuleInputSchema } from './faults.ts';
import type { ControlHandler, RawRequest, SandboxRouter } from './router.ts';
import type { ControlResult, SandboxResponse } from './service.ts';
import type { Throttle } from './throttle.ts';

export interface ControlParts {
  readonly router: SandboxRouter;
  readonly clock: SandboxClock;
  readonly credentials: CredentialRegistry;
  readonly throttle: Throttle;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
}

const ClockChangeSchema = z
  .object({ advanceMs: z.number().min(0).optional(), speed: z.number().min(0).optional() })
  .strict();
const BucketSchema = z.object({ burst: z.number().positive(), perSecond: z.number().min(0) }).strict();
const ThrottleChangeSchema = z
  .object({
    enabled: z.boolean().optional(),
    speed: z.number().min(0).optional(),
    read: BucketSchema.optional(),
    write: BucketSchema.optional(),
    services: z.array(z.string().min(1)).optional(),
  })
  .strict();
const CredentialsSchema = z
  .object({
    accessKeyId: z.string().min(16),
    accountId: z.string().regex(/^\d{12}$/),
    secretAccessKey: z.string().min(1).optional(),
  })
  .strict();

export function createControlHandler(parts: ControlParts): ControlHandler {
  return async (raw: RawRequest): Promise<SandboxResponse> => {
    try {
      const result = await dispatch(parts, raw);
      return json(result);
    } catch (error) {
      if (error instanceof z.ZodError) {
        return json({ status: 400, body: { error: 'InvalidRequest', issues: error.issues } });
      }
      return json({ status: 500, body: { error: error instanceof Error ? error.message : String(error) } });
    }
  };
}

async function dispatch(parts: ControlParts, raw: RawRequest): Promise<ControlResult> {
  const url = new URL(raw.path, 'http://sandbox.invalid');
  const segments = url.pathname.split('/').filter(Boolean).slice(1); // drop "_sandbox"
  const body: unknown = raw.body.trim() === '' ? undefined : JSON.parse(raw.body);
  const route = `${raw.method} /${segments.join('/')}`;
  const { clock, throttle, faults, calls, credentials, router } = parts;

  switch (route) {
    case 'GET /health':
      return ok({ ok: true, services: router.signingNames, now: new Date(clock.now()).toISOString() });
    case 'GET /calls':
      return ok({ lastSeq: calls.lastSeq, calls: calls.query(callQuery(url.searchParams)) });
    case 'DELETE /calls':
      calls.clear();
      return ok({ cleared: true });
    case 'GET /faults':
      return ok({ faults: faults.list() });
    case 'POST /faults':
      return { status: 201, body: faults.add(FaultRuleInputSchema.parse(body)) };
    case 'DELETE /faults':
      faults.clear();
      return ok({ cleared: true });
    case 'GET /clock':
      return ok(clockView(clock));
    case 'POST /clock': {
      const change = ClockChangeSchema.parse(body ?? {});
      if (change.speed !== undefined) {
        clock.speed = change.speed;
      }
      if (change.advanceMs !== undefined) {
        clock.advance(change.advanceMs);
      }
      return ok(clockView(clock));
    }
    case 'GET /throttle':
      return ok(throttle.settings);
    case 'POST /throttle':
      return ok(throttle.configure(stripUndefined(ThrottleChangeSchema.parse(body ?? {}))));
    case 'POST /throttle/reset':
      throttle.reset();
      return ok(throttle.settings);
    case 'POST /credentials': {
      const input = CredentialsSchema.parse(body);
      const stored = credentials.register(
        input.accessKeyId,
        input.accountId,
        input.secretAccessKey === undefined ? {} : { secretAccessKey: input.secretAccessKey },
      );
      return { status: 201, body: { accessKeyId: stored.accessKeyId, accountId: stored.accountId } };
    }
  }
  if (
    raw.method === 'DELETE' &&
    segments[0] === 'faults' &&
    segments[1] !== undefined &&
    segments.length === 2
  ) {
    return faults.remove(segments[1])
      ? ok({ removed: segments[1] })
      : { status: 404, body: { error: `no fault ${segments[1]}` } };
  }
  const service = segments[0] === undefined ? undefined : router.service(segments[0]);
  if (service?.control !== undefined) {
    return service.control({
      method: raw.method,
      path: `/${segments.slice(1).join('/')}`,
      query: url.searchParams,
      body,
    });
  }
  return { status: 404, body: { error: `no control route ${route}` } };
}

function callQuery(params: URLSearchParams): CallQuery {
  const query: Record<string, string | number | boolean> = {};
  for (const key of ['service', 'action', 'accountId', 'region', 'errorCode'] as const) {
    const value = params.get(key);
    if (value !== null) {
      query[key] = value;
    }
  }
  const mutating = params.get('mutating');
  if (mutating !== null) {
    query.mutating = mutating === 'true';
  }
  const since = params.get('sinceSeq');
  if (since !== null) {
    query.sinceSeq = Number(since);
  }
  return query as CallQuery;
}

function clockView(clock: SandboxClock): { now: number; iso: string; speed: number } {
  const now = clock.now();
  return { now, iso: new Date(now).toISOString(), speed: clock.speed };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function ok(body: unknown): ControlResult {
  return { status: 200, body };
}

function json(result: ControlResult): SandboxResponse {
  return {
    status: result.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result.body),
  };
}
