/**
 * The exact `wdcd train` arguments of the bundled models. The README quotes them, `npm run train-models`
 * runs them, and the experiments reuse the default recipe for the GCP ablation.
 */
export const RECIPES: Record<string, string[]> = {
  // GAP head: with the same recipe the GCP head (--arch wdcd-light) scored lower on every val metric (README).
  // Dark guard at ACCA's red-reflectance floor (0.08, not tuned): mean per-image kappa on val 0.437 -> 0.455.
  default: ['--arch', 'wdcd-light-gap', '--train', 'l8biome:train', '--val', 'l8biome:val', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '30', '--prune', 'all', '--dark-guard', '0.08'],
  // GF-1 alone: with the approximate figure labels added (--train approx) F1 on the tuning scenes fell from
  // 0.803 to 0.733, and validating on them (--val approx) kept epoch 1 of a diverging run (see the README).
  rgb: ['--train', 'gf1:train', '--val', 'gf1:train', '--tune', 'gf1:train', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '20', '--prune', 'all'],
};
