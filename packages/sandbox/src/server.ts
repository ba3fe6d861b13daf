/**
 * `startSandboxServer`: a local AWS on loopback. One `node:http` endpoint serves every emulated service; the
 * real AWS SDK v3 clients reach it through `AWS_ENDPOINT_URL` (see `SandboxHandle.env`) and are routed by
 * the SigV4 credential scope. EC2 is always present; other services are plugged in through `services`
 * (or `register` later) without touching the router.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallLog } from './call-log.ts';
import { type ClockOptions, SandboxClock } from './clock.ts';
import { createControlHandler } from './control-api.ts';
import {
  CredentialRegistry,
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type SandboxCredentials,
} from './credentials.ts';
import { Ec2Emulator, type Ec2EmulatorOptions } from './ec2/emulator.ts';
import { FaultInjector } from './faults.ts';
import { type RawRequest, SandboxRouter } from './router.ts';
import type { ServiceEmulator } from './service.ts';
import { Throttle, type ThrottleSettings } from './throttle.ts';

/** What a service factory gets: the shared parts a service may need (STS registers keys, for one). */
export interface SandboxContext {
  readonly clock: SandboxClock;
  readonly credentials: CredentialRegistry;
  readonly calls: CallLog;
  readonly defaultRegion: string;
}

export type ServiceFactory = (context: SandboxContext) => ServiceEmulator;

export interface SandboxServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Region put in `env`; requests may address any Region. Default `us-east-1`. */
  readonly region?: string;
  /** Clock settings; tests usually pass `{ speed: 0 }` and move time with `clock.advance`. */
  readonly clock?: ClockOptions;
  /** Throttling (off by default). */
  readonly throttle?: Partial<ThrottleSettings>;
  /** Seed of the fault injector's randomness. */
  readonly faultSeed?: number;
  /** Extra services (STS, Security Hub, SNS, DynamoDB, Config, Step Functions…). */
  readonly services?: ReadonlyArray<ServiceEmulator | ServiceFactory>;
  /** EC2 emulator settings (durations, initial scenario). */
  readonly ec2?: Ec2EmulatorOptions;
  /** Use an existing registry (shared with an STS built beforehand). */
  readonly credentials?: CredentialRegistry;
}

export interface SandboxHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Environment a shell or child process needs to talk to the sandbox with the default credentials. */
  readonly env: Readonly<Record<string, string>>;
  readonly region: string;
  readonly clock: SandboxClock;
  readonly throttle: Throttle;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
  readonly credentials: CredentialRegistry;
  readonly ec2: Ec2Emulator;
  readonly router: SandboxRouter;
  /** Default credentials, in the shape SDK clients take. */
  readonly clientCredentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * What an SDK client's constructor takes to talk to the sandbox as `accessKeyId` (default: the default key),
   * in `region` (default: the sandbox's), with no retries (a test sees the first answer).
   */
  clientConfig(options?: { accessKeyId?: string; region?: string }): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  registerCredentials(accessKeyId: string, accountId: string, secretAccessKey?: string): SandboxCredentials;
  /** Adds a service after start. */
  register(service: ServiceEmulator | ServiceFactory): ServiceEmulator;
  stop(): Promise<void>;
}

export async function startSandboxServer(options: SandboxServerOptions = {}): Promise<SandboxHandle> {
  const region = options.region ?? 'us-east-1';
  const clock = new SandboxClock(options.clock);
  const credentials = options.credentials ?? new CredentialRegistry();
  const throttle = new Throttle(clock, options.throttle);
  const faults = new FaultInjector(options.faultSeed);
  const calls = new CallLog();
  const router = new SandboxRouter({ clock, credentials, throttle, faults, calls });
  const context: SandboxContext = { clock, credentials, calls, defaultRegion: region };
  const ec2 = new Ec2Emulator(clock, options.ec2, credentials);
  router.register(ec2);
  const register = (service: ServiceEmulator | ServiceFactory): ServiceEmulator => {
    const emulator = typeof service === 'function' ? service(context) : service;
    router.register(emulator);
    return emulator;
  };
  for (const service of options.services ?? []) {
    register(service);
  }
  router.setControlHandler(createControlHandler({ router, clock, credentials, throttle, faults, calls }));

  const server = createServer({ keepAlive: true }, (req, res) => {
    serve(router, req, res);
  });
  const port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    region,
    env: {
      AWS_ENDPOINT_URL: url,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    clock,
    throttle,
    faults,
    calls,
    credentials,
    ec2,
    router,
    clientCredentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
    clientConfig: (options = {}) => ({
      endpoint: url,
      region: options.region ?? region,
      credentials: {
        accessKeyId: options.accessKeyId ?? DEFAULT_ACCESS_KEY_ID,
        secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
      },
      maxAttempts: 1,
    }),
    registerCredentials: (accessKeyId, accountId, secretAccessKey) =>
      credentials.register(accessKeyId, accountId, secretAccessKey === undefined ? {} : { secretAccessKey }),
    register,
    stop: async () => {
      await close(server);
      // Every service gets its chance to release what it holds, even when one of them fails to.
      const results = await Promise.allSettled(router.emulators().map((e) => e.close?.()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

function serve(router: SandboxRouter, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    const raw: RawRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      body:
        chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'),
    };
    router.handle(raw).then(
      (response) => {
        res.writeHead(response.status, {
          ...response.headers,
          'content-length': Buffer.byteLength(response.body),
        });
        res.end(response.body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`sandbox router failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
