/** Writes a benchmark's figures into bench/RESULTS.md, one section per benchmark, replacing the last run's. */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

const FILE = new URL('./RESULTS.md', import.meta.url);
const HEADER =
  '# Benchmark results\n\nWritten by `npm run bench:*`; each section is the latest run of one benchmark.\n';

export async function recordResult(name: string, lines: readonly string[]): Promise<void> {
  const existing = await readFile(FILE, 'utf8').catch(() => HEADER);
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}`;
  const section = `## ${name}\n\n${new Date().toISOString().slice(0, 10)} on ${machine}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`;
  const pattern = new RegExp(`## ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n[\\s\\S]*?(?=\n## |$)`);
  const next = pattern.test(existing)
    ? existing.replace(pattern, section.trimEnd())
    : `${existing.trimEnd()}\n\n${section}`;
  await writeFile(FILE, `${next.trimEnd()}\n`);
}
