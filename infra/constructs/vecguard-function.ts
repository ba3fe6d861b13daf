/**
 * One vecguard Lambda: a handler module of functions/handlers bundled with esbuild (the AWS SDK included:
 * the encryption-control commands need a newer client-ec2 than the runtime ships), the policy file copied
 * next to it, its own role under the hub role path, and its own log group with a retention.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HUB_ROLE_PATH } from '../permissions.ts';

/** The repository root: entries, the lock file and the policy file are resolved against it. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

/** Where Lambda unpacks the code (`LAMBDA_TASK_ROOT`); the policy file is copied there. */
const TASK_ROOT = '/var/task';

export interface VecguardFunctionProps {
  /** The handler module under functions/handlers, without `.ts` (e.g. `inventory`). It exports `handler`. */
  readonly handlerModule: string;
  /** The policy file, relative to the repository root; bundled with the function. */
  readonly policyFile: string;
  /** Environment beyond `VECGUARD_POLICY_FILE`, which this construct sets. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - no reservation (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export class VecguardFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: VecguardFunctionProps) {
    super(scope, id);
    const entry = join(PROJECT_ROOT, 'functions', 'handlers', `${props.handlerModule}.ts`);
    if (!existsSync(entry)) {
      throw new Error(
        `handlerModule "${props.handlerModule}": ${relative(PROJECT_ROOT, entry)} does not exist; name a module of functions/handlers without .ts`,
      );
    }
    const policyPath = relative(PROJECT_ROOT, resolve(PROJECT_ROOT, props.policyFile));
    if (policyPath.startsWith('..')) {
      throw new Error(
        `policyFile "${props.policyFile}" is outside the repository; copy it under the repository (bundling only sees the project root)`,
      );
    }
    const policyName = basename(policyPath);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      path: HUB_ROLE_PATH,
      description: `vecguard ${props.handlerModule} function`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      description: `vecguard: ${props.handlerModule}`,
      environment: {
        ...props.environment,
        VECGUARD_POLICY_FILE: `${TASK_ROOT}/${policyName}`,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        // Some dependencies are CommonJS and call require(): give the ESM bundle one.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        bundleAwsSDK: true,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => [
            `cp "${inputDir}/${policyPath}" "${outputDir}/${policyName}"`,
          ],
        },
      },
    });
    logGroup.grantWrite(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords take no resource. (Functions that also read EC2 say why below.)',
    });
  }
}
