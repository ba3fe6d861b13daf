/**
 * The one middy chain every handler uses, built once per module at load: Powertools logger, metrics and
 * tracer, the Powertools parser on the step's schema, and error names the state machine understands
 * (`ThrottlingError` and `TransientAwsError` are retried; `InvalidInputError` and `AccessDeniedError` are
 * not). Every error message starts with the step's name, so a failure report says where it happened.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import {
  AccessError,
  AwsCallError,
  InvalidInputError,
  THROTTLING_CODES,
  VecguardError,
} from '../shared/errors.ts';
import { logger, metrics, tracer } from '../shared/powertools.ts';

/** An error as the state machine should see it: the name decides Retry and Catch. */
export function stepError(step: string, error: unknown): Error {
  const message = `${step}: ${(error as Error)?.message ?? String(error)}`;
  const named = (name: string) => {
    const e = new Error(message, { cause: error });
    e.name = name;
    return e;
  };
  if (error instanceof AccessError) return named('AccessDeniedError');
  if (error instanceof AwsCallError) {
    if (THROTTLING_CODES.has(error.code)) return named('ThrottlingError');
    return named(error.retryable ? 'TransientAwsError' : 'AwsCallError');
  }
  if (error instanceof InvalidInputError) return named(error.name);
  if ((error as Error)?.name === 'ParseError') return named('InvalidInputError');
  if (error instanceof VecguardError) return named(error.name);
  return named((error as Error)?.name || 'Error');
}

export function lambdaHandler<Schema extends z.ZodType, Result>(
  step: string,
  schema: Schema,
  run: (input: z.infer<Schema>, context: Context) => Promise<Result>,
) {
  return middy<z.infer<Schema>, Result, Error, Context>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(parser({ schema }))
    .use({
      onError: (request) => {
        const error = stepError(step, request.error);
        logger.error(`${step} failed`, error);
        request.error = error;
      },
    })
    .handler((input, context) => {
      // One data point per step run, by step: the dashboard's heartbeat, and never an empty EMF flush.
      metrics.addDimension('step', step);
      metrics.addMetric('StepRuns', MetricUnit.Count, 1);
      return run(input, context);
    });
}
