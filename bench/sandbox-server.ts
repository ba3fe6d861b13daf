// The sandbox under load, in its own process: prints its URL on stdout, serves until stdin closes.
import { startSandbox } from '@vecguard/sandbox';

const scenario = process.argv[2] ?? 'large';
const sandbox = await startSandbox({ port: 0, scenario, clock: { speed: 0 } });
process.stdout.write(`${sandbox.url}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await sandbox.stop();
  process.exit(0);
});
