/**
 * The exact `wdcd train` arguments of the bundled models. The README quotes them, `npm run train-models`
 * runs them, and the experiments reuse the default recipe for the GAP ablation.
 */
export const RECIPES: Record<string, string[]> = {
  default: ['--train', 'l8biome:train', '--val', 'l8biome:val', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '30', '--prune', 'all'],
  rgb: ['--train', 'gf1:train', '--val', 'approx', '--tune', 'gf1:train', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '30', '--prune', 'all'],
};
