/**
 * Named points where a rehearsal can make a handler stop dead, as a Lambda does when its process is killed
 * or times out between two writes: nothing after the point runs, no catch in the handler sees it. Only the
 * local loop arms them (`startLocalLoop({ dieAt })`, `vecguard demo --faults`); in Lambda nothing arms them
 * and `diePoint` is a lookup in an empty list.
 *
 * The error is what Lambda reports for a runtime whose process exited (`Runtime.ExitError`), so the state
 * machine meets the same error name it would in AWS.
 */
import { z } from 'zod';

/** The points handlers declare. Apply: `after-intent` (intent recorded, nothing called), `after-change` (called, outcome not recorded). */
export const DIE_POINTS = {
  Apply: ['after-intent', 'after-change'],
} as const satisfies Record<string, readonly string[]>;

export const DiePointSchema = z
  .object({
    handler: z.enum(Object.keys(DIE_POINTS) as [keyof typeof DIE_POINTS]),
    point: z.string().min(1),
    /** How many times it fires; every time when absent. */
    times: z.number().int().positive().optional(),
  })
  .strict()
  .refine((d) => (DIE_POINTS[d.handler] as readonly string[]).includes(d.point), {
    message: `unknown point: the points are ${Object.entries(DIE_POINTS)
      .map(([h, points]) => `${h}: ${points.join(', ')}`)
      .join('; ')}`,
  });
export type DiePoint = z.infer<typeof DiePointSchema>;

export class HandlerDiedError extends Error {
  constructor(handler: string, point: string) {
    super(`Runtime exited with error: signal: killed (rehearsal: ${handler} died at ${point})`);
    this.name = 'Runtime.ExitError';
  }
}

const armed: { point: DiePoint; left: number }[] = [];

/** Arm these points (replacing any armed before); an empty list disarms. */
export function setDiePoints(points: readonly DiePoint[]): void {
  armed.length = 0;
  for (const point of points) armed.push({ point, left: point.times ?? Number.POSITIVE_INFINITY });
}

/** Dies here if a rehearsal armed this point. */
export function diePoint<H extends keyof typeof DIE_POINTS>(
  handler: H,
  point: (typeof DIE_POINTS)[H][number],
): void {
  const hit = armed.find((a) => a.left > 0 && a.point.handler === handler && a.point.point === point);
  if (!hit) return;
  hit.left--;
  throw new HandlerDiedError(handler, point);
}
