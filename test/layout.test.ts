/**
 * The walls of the layout (docs/design.md "Layout"): the sandbox is a package of its own that knows nothing of
 * vecguard, reached only through its entry; handlers call AWS only through adapters; the code cites only
 * documents the project contains.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sourceFiles } from './support/imports.ts';

const SANDBOX = 'packages/sandbox';
const PRODUCT = ['functions', 'local', 'cli', 'infra', 'test', 'bench'];
/** This file holds samples of what it forbids, to test its checks: it is not checked itself. */
const SELF = 'test/layout.test.ts';
const checked = (dirs: string[]) => dirs.flatMap((d) => sourceFiles(d)).filter((f) => f !== SELF);

/** Where a relative specifier lands, from the project's root. */
const target = (file: string, spec: string) => relative('.', resolve(dirname(file), spec));
const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** A product file's imports that reach into the sandbox package past its entry. */
function sandboxInternals(file: string, source: string): string[] {
  return importsOf(source).filter(
    (spec) =>
      spec.startsWith('@vecguard/sandbox/') ||
      spec.startsWith('#sandbox') ||
      (spec.startsWith('.') && inside(target(file, spec), SANDBOX)),
  );
}

/** A sandbox file's imports of anything outside the package (the product, its aliases). */
function productImports(file: string, source: string): string[] {
  return importsOf(source).filter(
    (spec) =>
      spec.startsWith('#') ||
      spec.startsWith('@vecguard/') ||
      (spec.startsWith('.') && !inside(target(file, spec), SANDBOX)),
  );
}

const offences = (files: string[], check: (file: string, source: string) => string[]) =>
  files.flatMap((f) => check(f, readFileSync(f, 'utf8')).map((spec) => `${f} imports ${spec}`));

describe('the sandbox is its own package', () => {
  const sandboxFiles = sourceFiles(SANDBOX);
  const productFiles = checked(PRODUCT);

  it('has files on both sides to check', () => {
    expect(sandboxFiles.length).toBeGreaterThan(30);
    expect(productFiles.length).toBeGreaterThan(100);
  });

  it('outside it, code imports only its package entry', () => {
    expect(offences(productFiles, sandboxInternals)).toEqual([]);
  });

  it('it imports nothing of functions/, cli/, infra/ or any other folder of the product', () => {
    expect(offences(sandboxFiles, productImports)).toEqual([]);
  });

  it('the checks catch each way across the wall', () => {
    expect(
      sandboxInternals('test/x.test.ts', "import { a } from '../packages/sandbox/src/server.ts';"),
    ).toHaveLength(1);
    expect(
      sandboxInternals('cli/x.ts', "import { a } from '@vecguard/sandbox/src/ec2/store.ts';"),
    ).toHaveLength(1);
    expect(sandboxInternals('cli/x.ts', "import { a } from '@vecguard/sandbox';")).toEqual([]);
    expect(
      productImports(`${SANDBOX}/src/x.ts`, "import { a } from '../../../functions/domain/x.ts';"),
    ).toHaveLength(1);
    expect(productImports(`${SANDBOX}/src/x.ts`, "import { a } from '#domain/x.ts';")).toHaveLength(1);
    expect(productImports(`${SANDBOX}/src/ec2/x.ts`, "import { a } from '../clock.ts';")).toEqual([]);
  });
});

describe('handlers call AWS only through adapters', () => {
  it('no file under functions/handlers imports an AWS SDK package', () => {
    const sdk = sourceFiles('functions/handlers').flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((spec) => spec.startsWith('@aws-sdk/'))
        .map((spec) => `${f} imports ${spec}`),
    );
    expect(sdk).toEqual([]);
  });
});

describe('the code cites only documents the project contains', () => {
  const files = checked([...PRODUCT, SANDBOX]);

  it('no file cites the design by a section of a document outside the project', () => {
    const cites = files.filter((f) => /\bDESIGN\s*§/.test(readFileSync(f, 'utf8')));
    expect(cites).toEqual([]);
  });

  it('every docs/*.md a source file names exists', () => {
    const missing = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\bdocs\/([\w-]+\.md)\b/g)]
        .map((m) => join('docs', m[1] ?? ''))
        .filter((doc) => !existsSync(doc))
        .map((doc) => `${f} cites ${doc}`),
    );
    expect(missing).toEqual([]);
  });
});
