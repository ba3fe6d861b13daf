import fc from 'fast-check';

// `FC_NUM_RUNS=5000 npx vitest run test/domain` soaks the properties with many more inputs than the default
// 100 a CI run affords; a rare counterexample found that way is a bug, not noise.
const numRuns = Number(process.env.FC_NUM_RUNS);
if (Number.isInteger(numRuns) && numRuns > 0) fc.configureGlobal({ numRuns });
