/**
 * The sandbox's one public entry: a local AWS on loopback that the real AWS SDK v3 clients and the AWS CLI
 * talk to unmodified. `startSandbox` brings up every emulated service behind one endpoint and hands back a
 * typed handle for each, so callers never reach into the package or cast a service.
 *
 * Everything not exported here is internal and may change without notice.
 */
import { type ConfigEmulator, type ConfigEmulatorOptions, config } from './config/emulator.ts';
import { DynamoDbEmulator, type DynamoDbEmulatorOptions } from './dynamodb/emulator.ts';
import { type FunctionUrlEmulator, functionUrls } from './lambda/function-urls.ts';
import {
  type OrganizationsEmulator,
  type OrganizationsEmulatorOptions,
  organizations,
} from './organizations/emulator.ts';
import { type LoadedScenario, loadScenarioFile, type Principal } from './scenarios/index.ts';
import {
  type SecurityHubEmulator,
  type SecurityHubEmulatorOptions,
  securityHub,
} from './securityhub/emulator.ts';
import {
  type SandboxHandle,
  type SandboxServerOptions,
  type ServiceFactory,
  startSandboxServer,
} from './server.ts';
import type { ServiceEmulator } from './service.ts';
import { type SnsEmulator, type SnsEmulatorOptions, sns } from './sns/emulator.ts';
import {
  type StepFunctionsEmulator,
  type StepFunctionsEmulatorOptions,
  stepFunctions,
} from './stepfunctions/emulator.ts';
import { type StsEmulator, type StsEmulatorOptions, sts } from './sts/emulator.ts';

export interface SandboxOptions extends Omit<SandboxServerOptions, 'services'> {
  /** A built-in scenario name (`BUILT_IN_SCENARIOS`) or a path to a scenario file; absent: an empty estate. */
  readonly scenario?: string;
  readonly sts?: Omit<StsEmulatorOptions, 'credentials' | 'clock'>;
  readonly sns?: Omit<SnsEmulatorOptions, 'clock'>;
  readonly securityHub?: Omit<SecurityHubEmulatorOptions, 'clock' | 'credentials'>;
  readonly config?: Omit<ConfigEmulatorOptions, 'clock'>;
  readonly dynamodb?: DynamoDbEmulatorOptions;
  /** Default: the scenario's `organization:` section. */
  readonly organizations?: Omit<OrganizationsEmulatorOptions, 'clock'>;
  /** Local handlers for Lambda tasks, time compression, wait overrides. */
  readonly stepFunctions?: Omit<StepFunctionsEmulatorOptions, 'clock'>;
  /** Services of your own, plugged into the same endpoint (see `ServiceEmulator`). */
  readonly services?: ReadonlyArray<ServiceEmulator | ServiceFactory>;
  /**
   * Access keys and the principals they stand for, beyond the scenario's `principals:` (the account is the
   * ARN's): what STS GetCallerIdentity and function URLs report for a call signed with the key.
   */
  readonly principals?: readonly Principal[];
}

/** A running sandbox: the endpoint, the shared parts, and one typed handle per service. */
export interface Sandbox extends SandboxHandle {
  /** The scenario it was loaded with, if any. */
  readonly scenario: LoadedScenario | undefined;
  readonly sts: StsEmulator;
  readonly sns: SnsEmulator;
  readonly securityHub: SecurityHubEmulator;
  readonly config: ConfigEmulator;
  readonly dynamodb: DynamoDbEmulator;
  readonly organizations: OrganizationsEmulator;
  readonly stepFunctions: StepFunctionsEmulator;
  /** Lambda function URLs (`AWS_IAM` auth) served by in-process handlers. */
  readonly functionUrls: FunctionUrlEmulator;
}

/** Starts the whole sandbox; `stop()` releases the port and every service. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { scenario: scenarioName, services, ...rest } = options;
  const scenario = scenarioName === undefined ? undefined : loadScenarioFile(scenarioName);
  const handle = await startSandboxServer({
    ...rest,
    ec2: { ...rest.ec2, ...(scenario ? { scenario: scenario.estate } : {}) },
    services: [
      sts(options.sts),
      securityHub(options.securityHub),
      sns(options.sns),
      config(options.config),
      () => new DynamoDbEmulator(options.dynamodb),
      organizations({ organization: scenario?.organization, ...options.organizations }),
      stepFunctions(options.stepFunctions),
      functionUrls(),
      ...(services ?? []),
    ],
  });
  const service = <T>(signingName: string) => handle.router.service(signingName) as T;
  for (const principal of [...(scenario?.principals ?? []), ...(options.principals ?? [])]) {
    const accountId = /::(\d{12}):/.exec(principal.arn)?.[1] ?? '';
    handle.credentials.register(principal.accessKeyId, accountId, {
      principalArn: principal.arn,
      ...(principal.secretAccessKey === undefined ? {} : { secretAccessKey: principal.secretAccessKey }),
    });
  }
  const urls = service<FunctionUrlEmulator>('lambda');
  urls.setBaseUrl(handle.url);
  return {
    ...handle,
    scenario,
    sts: service<StsEmulator>('sts'),
    sns: service<SnsEmulator>('sns'),
    securityHub: service<SecurityHubEmulator>('securityhub'),
    config: service<ConfigEmulator>('config'),
    dynamodb: service<DynamoDbEmulator>('dynamodb'),
    organizations: service<OrganizationsEmulator>('organizations'),
    stepFunctions: service<StepFunctionsEmulator>('states'),
    functionUrls: urls,
  };
}

export type { CallLog, CallQuery, CallRecord } from './call-log.ts';
export type { SandboxClock } from './clock.ts';
export {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_SECRET_ACCESS_KEY,
} from './credentials.ts';
export { INSTANCE_TYPES } from './ec2/catalogue.ts';
export type { DriftChange } from './ec2/drift.ts';
export type { Ec2Emulator } from './ec2/emulator.ts';
export { type Scenario, type ScenarioInput, ScenarioSchema } from './ec2/scenario-schema.ts';
export type { Ec2Durations, RegionState } from './ec2/store.ts';
export { type FaultInjector, type FaultRuleInput, FaultRuleInputSchema } from './faults.ts';
export {
  FUNCTION_URL_PREFIX,
  type FunctionUrlDefinition,
  type FunctionUrlHandler,
  type RegisteredFunctionUrl,
} from './lambda/function-urls.ts';
export type { ScenarioOrganizationInput } from './organizations/scenario.ts';
export {
  BUILT_IN_SCENARIOS,
  type CloudTrailScenarioEvent,
  type DriftScenarioEvent,
  type LoadedScenario,
  loadScenarioFile,
  type Principal,
  PrincipalSchema,
  ScenarioError,
  type ScenarioEvent,
  ScenarioFileSchema,
} from './scenarios/index.ts';
export {
  applyDriftEvent,
  type CloudTrailEventBridgeEvent,
  eventsOfPhase,
  replayCloudTrail,
} from './scenarios/replay.ts';
export { defaultProductArn, type ImportRecord } from './securityhub/emulator.ts';
export type { SandboxHandle, ServiceFactory } from './server.ts';
export type {
  SandboxRequest,
  SandboxResponse,
  ServiceEmulator,
} from './service.ts';
export type { PublishedMessage } from './sns/emulator.ts';
export type { ExecutionEvent } from './stepfunctions/history.ts';
export { type LambdaContext, type LocalHandler, lambdaContext } from './stepfunctions/lambda.ts';
export type { RunnerEvent } from './stepfunctions/runner.ts';
export type { Throttle, ThrottleSettings } from './throttle.ts';
export type {
  ConfigEmulator,
  DynamoDbEmulator,
  FunctionUrlEmulator,
  OrganizationsEmulator,
  SecurityHubEmulator,
  SnsEmulator,
  StepFunctionsEmulator,
  StsEmulator,
};
