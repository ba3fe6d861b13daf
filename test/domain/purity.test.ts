import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importsOf, sourceFiles } from '../support/imports.ts';

const DOMAIN = 'functions/domain';
// The domain may use these and its own sibling files, nothing else: no AWS SDK, no node:*, no other folder.
const ALLOWED_PACKAGES = new Set(['zod', 'yaml']);

function forbiddenImports(file: string, source: string): string[] {
  return importsOf(source)
    .filter((spec) => {
      if (spec.startsWith('./')) return spec.includes('/..');
      if (spec.startsWith('../') || spec.startsWith('#')) return true;
      return !ALLOWED_PACKAGES.has(spec);
    })
    .map((spec) => `${file} imports ${spec}`);
}

describe('functions/domain stays pure', () => {
  const files = sourceFiles(DOMAIN);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  it('imports no AWS SDK, no node built-in and nothing outside functions/domain', () => {
    const offences = files.flatMap((f) => forbiddenImports(f, readFileSync(f, 'utf8')));
    expect(offences).toEqual([]);
  });

  it('the check itself catches each kind of forbidden import', () => {
    const bad = [
      "import { EC2Client } from '@aws-sdk/client-ec2';",
      "import { readFileSync } from 'node:fs';",
      "import { logger } from '../shared/powertools.ts';",
      "import { x } from '#adapters/ec2.ts';",
      "const m = await import('@aws-sdk/client-sns');",
      "import 'aws-xray-sdk';",
      "import { y } from './sub/../../adapters/x.ts';",
    ];
    for (const line of bad) expect(forbiddenImports('f.ts', line), line).toHaveLength(1);
    expect(forbiddenImports('f.ts', "import { z } from 'zod';\nimport { a } from './model.ts';")).toEqual([]);
  });
});
