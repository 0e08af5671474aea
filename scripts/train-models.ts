/** `npm run train-models [NAME...]`: retrains the bundled models with their recipes (scripts/model-recipes.ts). */
import { spawnSync } from 'node:child_process';
import { RECIPES } from './model-recipes.js';

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RECIPES);
for (const name of names) {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'train', ...RECIPES[name], '-o', `models/${name}`, '--overwrite'];
  process.stderr.write(`wdcd train ${RECIPES[name].join(' ')} -o models/${name}\n`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
