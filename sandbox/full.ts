/**
 * The whole sandbox: EC2 with a scenario loaded, and every other service vecguard calls (STS, Security Hub,
 * SNS, Config, DynamoDB, and Organizations with the scenario's organisation, if it has one). Used by `vecguard sandbox`, the demo, the end-to-end tests and the benchmarks.
 */
import { config } from './config/emulator.ts';
import { DynamoDbEmulator } from './dynamodb/emulator.ts';
import { organizations } from './organizations/emulator.ts';
import { type LoadedScenario, loadScenarioFile } from './scenarios/index.ts';
import { securityHub } from './securityhub/emulator.ts';
import { type SandboxHandle, type SandboxOptions, type ServiceFactory, startSandbox } from './server.ts';
import type { ServiceEmulator } from './service.ts';
import { sns } from './sns/emulator.ts';
import { sts } from './sts/emulator.ts';

export interface FullSandboxOptions extends Omit<SandboxOptions, 'services'> {
  /** A built-in scenario name or a path to a scenario file; absent: an empty estate. */
  readonly scenario?: string;
  /** Services beyond the standard set (the Step Functions runner, for one). */
  readonly extraServices?: ReadonlyArray<ServiceEmulator | ServiceFactory>;
}

export interface FullSandbox {
  readonly sandbox: SandboxHandle;
  readonly scenario: LoadedScenario | undefined;
}

export async function startFullSandbox(options: FullSandboxOptions = {}): Promise<FullSandbox> {
  const { scenario: scenarioName, extraServices, ...rest } = options;
  const scenario = scenarioName === undefined ? undefined : loadScenarioFile(scenarioName);
  const sandbox = await startSandbox({
    ...rest,
    ec2: { ...rest.ec2, ...(scenario ? { scenario: scenario.estate } : {}) },
    services: [
      sts(),
      securityHub(),
      sns(),
      config(),
      () => new DynamoDbEmulator(),
      organizations({ organization: scenario?.organization }),
      ...(extraServices ?? []),
    ],
  });
  return { sandbox, scenario };
}
