// The sandbox under load, in its own process: prints its URL on stdout, serves until stdin closes.
import { startFullSandbox } from '../sandbox/full.ts';

const scenario = process.argv[2] ?? 'large';
const { sandbox } = await startFullSandbox({ port: 0, scenario, clock: { speed: 0 } });
process.stdout.write(`${sandbox.url}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await sandbox.stop();
  process.exit(0);
});
