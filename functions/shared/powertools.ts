/**
 * The Powertools instances for the whole app: one Logger, one Metrics (namespace `vecguard`) and one Tracer,
 * all under the service name `vecguard`. Handlers import these and wire them into their middy chain; nothing
 * else creates its own, so log keys, metric dimensions and trace segments stay consistent across Lambdas.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const SERVICE_NAME = 'vecguard';
export const METRICS_NAMESPACE = 'vecguard';

export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * Metrics warnings go through the Logger, so the log level governs them. (Locally, concurrent invocations
 * share this one instance, and Metrics warns when another invocation has already flushed the data points.)
 */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });

/** Off outside Lambda (Powertools checks the runtime), so local runs and tests emit no segments. */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
