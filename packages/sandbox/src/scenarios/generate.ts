/**
 * A generated estate for benchmarks and scale tests: accounts × Regions × VPCs, a share of them blocked.
 * Deterministic: the same parameters and seed always give the same estate (and so the same ids).
 */
import { z } from 'zod';
import type { ScenarioInput } from '../ec2/scenario-schema.ts';

const Share = z.number().min(0).max(1);

export const EstateGeneratorSchema = z.strictObject({
  seed: z.number().int().default(1),
  accounts: z.number().int().min(1).max(1000),
  regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a Region name such as us-east-1')).min(1),
  vpcsPerRegion: z.number().int().min(1).max(5000),
  blockedShare: Share.default(0.3),
  monitoredShare: Share.default(0.5),
  internetGatewayShare: Share.default(0.2),
});
export type EstateGenerator = z.infer<typeof EstateGeneratorSchema>;

type GeneratedAccount = NonNullable<ScenarioInput['accounts']>[number];

/** mulberry32: a small, well-distributed PRNG; enough for shaping test data, never for secrets. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Account ids 200000000001, 200000000002, … so they never collide with the demo's 111111111111. */
export function generatedAccountId(index: number): string {
  return String(200_000_000_000 + index + 1);
}

export function generateEstate(params: EstateGenerator): GeneratedAccount[] {
  const next = random(params.seed);
  return Array.from({ length: params.accounts }, (_, a) => ({
    id: generatedAccountId(a),
    name: `generated-${a + 1}`,
    regions: params.regions.map((region) => ({
      name: region,
      vpcs: Array.from({ length: params.vpcsPerRegion }, (_, v) => {
        const blocked = next() < params.blockedShare;
        const monitored = next() < params.monitoredShare;
        const internetGateway = next() < params.internetGatewayShare;
        return {
          name: `app-${String(v + 1).padStart(4, '0')}`,
          cidr: `10.${Math.floor(v / 250) % 256}.${v % 250}.0/24`,
          tags: { env: v % 5 === 0 ? 'dev' : 'prod' },
          ...(monitored ? { encryptionControl: { mode: 'monitor' as const } } : {}),
          internetGateway,
          instances: [
            { name: 'app', type: 'm6i.large' },
            ...(blocked ? [{ name: 'legacy', type: 'c5.large' }] : []),
          ],
        };
      }),
    })),
  }));
}
