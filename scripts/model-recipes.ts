/**
 * The exact `wdcd train` arguments of the bundled models. The README quotes them, `npm run train-models`
 * runs them, and the experiments reuse the default recipe for the GCP ablation.
 */
export const RECIPES: Record<string, string[]> = {
  // wdcd-lean (16-channel last stage) for a feature pass half as costly as wdcd-light's. Seeds 1-3 of this
  // recipe, pooled val kappa / mean per-image val kappa: GCP head (wdcd-lean) 0.796 / 0.494, 0.781 / 0.520,
  // 0.815 / 0.532; GAP head (wdcd-lean-gap) 0.783 / 0.480, 0.711 / 0.459, 0.748 / 0.502; the former default
  // wdcd-light-gap 0.786 / 0.455, 0.764 / 0.526, 0.782 / 0.491. wdcd-light-gap without its last conv
  // (8-8-16-16-32) per-image 0.469 / 0.479 / 0.457. (With wdcd-light, before the dark guard, GAP had validated higher.)
  // Dark guard at ACCA's red-reflectance floor (0.08, not tuned): mean per-image kappa on val 0.437 -> 0.455.
  // HOT guard at Fmask's offset (blue - 0.5 red >= 0.08, not tuned), k tuned on the map alone: over seeds 1-6
  // pooled kappa on train 0.842 -> 0.848 and val 0.786 -> 0.779 (dark guard alone, k tuned with it, against both
  // guards); tuning k with both guards applied instead drifted to k = -2 for 2 of 6 seeds (the HOT test alone then
  // decides), train kappa 0.800. `node --import tsx scripts/seed-spread.ts`.
  // Weights averaged over the last 10 epochs instead of the best val epoch's: seeds 1-6 val kappa 0.750 (0.650-0.818)
  // against 0.779 (0.729-0.827), train 0.845 against 0.848: not taken.
  default: ['--arch', 'wdcd-lean', '--train', 'l8biome:train', '--val', 'l8biome:val', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '30', '--prune', 'all', '--dark-guard', '0.08', '--hot-guard', '0.08', '--water-guard', '0.05'],
  // Weights: the 13 L8 Biome training scenes rendered as 8-bit display RGB (3 tone curves, `l8biome-rgb`), block
  // validation on the 7 rendered val scenes; no GF-1 block reaches the network. Held-out GF-1 figures (pooled OA,
  // F1, kappa; k tuned on the rendered val scenes by kappa): all 6 GF-1 train slices 77.3 %, 71.7 %, 0.527. On GF-1
  // train slices B (3 of 6), held out from every run: these weights 78.9 %, 72.7 %, 0.561; the former recipe (GF-1
  // alone, val and k on its own training scenes) trained on the other 3 slices 72.9 %, 70.9 %, 0.492; L8 RGB plus
  // those 3 slices 71.2 %, 69.6 %, 0.467 (GF-1 blocks widened the clear-sky spread and the k chosen flooded).
  // GCP head: the GAP twin (--arch wdcd-light-gap) scored mean image kappa 0.325 vs 0.350 on val and 0.434 vs 0.484
  // pooled kappa on the GF-1 train slices (k by image-kappa). 64 px blocks: val kappa 0.607 vs 0.646, GF-1 train
  // slices 0.226 vs 0.527.
  // k: tuned by pooled kappa (on GF-1 train slices with k from the val scenes: OA 77.3 % vs 74.7 % and kappa
  // 0.527 vs 0.484 for image-kappa, which scores GF-1's cloud-free slices 0 at any k), on the rendered val scenes
  // plus the GF-1 train slices (two-fold over the GF-1 slices, the other half held out: mean OA 78.4 % vs 77.3 %,
  // kappa 0.551 vs 0.535, F1 71.2 % vs 71.7 % with the val scenes alone).
  // Earlier: the approximate figure labels (--train approx) lowered F1 of the GF-1-only recipe from 0.803 to 0.733.
  // The approximate figure labels added to this recipe (--train approx: 40,800 of 47,500 blocks; --epochs 6, twice the block
  // steps of 20 epochs without them): GF-1 train slices kappa 0.478 against 0.556, rendered val 0.649 against 0.634 (k 0.75); not taken.
  // wdcd-lean (the default's narrower network), seeds 1 / 2 / 3 against wdcd-light's: GF-1 train slices kappa
  // 0.587 / 0.341 / 0.163 against 0.556 / 0.358 / 0.278 (means 0.364 and 0.397), so wdcd-light stays. (GF-1 test
  // OA, reported only: 77.3 / 76.0 / 80.4 against 79.4 / 75.6 / 81.0.)
  // Input scale (GF-1 slices resized before detection; L8 trains at 30 m, GF-1 is 8-16 m): GF-1 train kappa at
  // twice the size 0.536 at the model's k, 0.555 at the best k, at half the size 0.470 / 0.474, against 0.556:
  // not adopted. (GF-1 test OA, reported only: 82.6-84.5 at twice the size, against 79.4.)
  // A fourth rendering matched to the GF-1 train slices' display values (clear land 90-150, cloud 140-250 of 255:
  // white 0.5, gamma 2.2), trained with the other three: GF-1 train slices kappa 0.227, rendered val 0.415 against
  // 0.634 (k 2.5): not taken.
  // Not better (GF-1 train slices OA / F1 / kappa against 79.2 / 71.7 / 0.556): --epochs 40 (the best val epoch
  // stays 12: the same weights), the same keeping epoch 40 (78.0 / 72.7 / 0.543), --statistic block (a tie at
  // best, k rescaled), JPEG-compressed renderings, quality 75 4:2:0 as the GF-1 files (77.9-78.6 / 67.5-68.9 /
  // 0.517-0.533).
  // Refinement (--refine R: guided filter of the map with the scene's brightness as guide, eps 1e-3; k tuned with
  // it). Same weights; tuning scenes (rendered val + GF-1 train slices) pooled kappa / GF-1 train-slice kappa at the
  // k tuned: none 0.623 / 0.556, R 16 0.702 / 0.648, 32 0.734 / 0.664, 64 0.764 / 0.670, 128 0.793 / 0.701. The
  // radius is capped at 64, a quarter of the 256 px tuning scenes, so that it is a local filter there (at 128 it
  // fits each tuning scene nearly whole, which says little of a 10,000 px scene). A plain box blur of the map (the
  // same windows, no guide) lowered tuning kappa to 0.653-0.660. (GF-1 test OA, reported only: 79.4 -> 82.6.)
  // With the default model (L8 Biome val, mean per-image kappa, its rule): none 0.500, R 16 0.470, 32 0.476,
  // 64 0.511, with train 0.423 against 0.392 / 0.376 / 0.369, so the default does not refine (pooled val kappa
  // rose, 0.804 -> 0.824-0.852: the experiments' table).
  // Also measured on these weights, not taken (tuning-scene pooled kappa against 0.764 at R 64, eps 1e-3): eps 1e-4
  // 0.763 and 3e-4 0.763; a second guided filter over the refined map, with a colour (red, green, blue) guide 0.773,
  // with brightness 0.774; a per-scene threshold moved from T toward the scene's Otsu threshold of the map (T + a (Otsu -
  // T), a 0.25-1, when Otsu's separability is at least 0-0.8; k retuned each time): every variant but one scored
  // lower (0.362-0.755), a 0.25 at separability 0.8 scored 0.789, and on the default model (val, mean per-image
  // kappa) none beat the plain threshold, so the one-off gain was not taken. (`.gpu/s14/adaptive.mts`, git-ignored.)
  // A whiteness test (Fmask's, on display values: clear where (max - min) / mean of red, green, blue >= w), after
  // the threshold, on the GF-1 train slices: pooled kappa 0.670 without, 0.672 at w 0.25, 0.670 at 0.3 and above,
  // 0.656 at 0.2, 0.554 at 0.15: the errors left are grey (cloud edges and thin cloud), so it was not built.
  // Seed ensembles: the standardised maps ((CAM - clear-sky mean) / std, refined at R 64) of this model and seeds 2
  // and 3 of the recipe averaged, k retuned on the tuning scenes by pooled kappa. Tuning kappa / GF-1 train-slice
  // kappa: this model alone 0.764 / 0.670, with seed 3 0.764 / 0.688, with seed 2 0.701 / 0.610, all three 0.723 /
  // 0.639 (GF-1 test OA, reported only: 82.6, 82.8, 79.5, 78.7). No gain on the tuning scenes for twice the work or
  // more: not built.
  // Fine-tuning these weights on GF-1 blocks (`--init rgb`, k tuned on the rendered val scenes plus the 3 GF-1
  // train slices trained on), scored on the other 3 GF-1 train slices (bg, thick and thin slice 0 against 1, both
  // ways; OA / kappa): the bundled weights, k retuned the same way, 82.4 / 0.647 and 81.1 / 0.616; 3 epochs of the
  // GF-1 blocks alone at the fine-tune's step size 1e-4 80.9 / 0.622 and 81.2 / 0.617; with the L8 renderings, 5
  // epochs, 79.6 / 0.599 (1e-3: 74.0 / 0.510) on the first fold. Not better: not taken.
  // On the same folds, k tuned with the 16 approximate GF-1/GF-2 figure labels added to the tuning scenes: k 10 (the
  // grid's top) both ways, 88.8 / 0.747 and 76.8 / 0.526: one fold up, one down; not taken.
  // Colour jitter in training (--colour-jitter 1: random gamma, contrast, brightness and band gains per block), seeds
  // 1 / 2 / 3 against the recipe's: tuning-scene kappa 0.650 / 0.537 / 0.613 against 0.764 / 0.525 / 0.565, GF-1 train
  // slices 0.573 / 0.465 / 0.562 against 0.670 / 0.497 / 0.394 (means 0.533 and 0.520: a tie, below seed 1 alone);
  // --colour-jitter 0.5, seed 1: 0.643 / 0.537. (GF-1 test OA, reported only: 74.4 / 75.9 / 74.4 against 82.6 / 76.7 /
  // 79.9.) Not taken.
  // The 7 rendered val scenes added to the training scenes (`--train l8biome-rgb:val` too, --epochs 12, the recipe's
  // best epoch; val and k as the recipe), seeds 1 / 2 / 3 against the recipe's: GF-1 train-slice kappa at the model's k
  // 0.371 / 0.432 / 0.248 against 0.670 / 0.497 / 0.394, at the best k for those slices 0.477 (k 20, the map's spread
  // narrowed) / 0.537 / 0.248 against 0.678 / 0.511 / 0.394. (GF-1 test OA, reported only: 75.9 / 75.7 / 77.1.) Not taken.
  // Seeds 4-8 of this recipe (twenty-eighth session), tuning-scene pooled kappa: 0.561 / 0.628 / 0.607 / 0.714 / 0.752,
  // none above seed 1's 0.764, which stays. (GF-1 test OA, reported only: 76.8 / 80.4 / 76.4 / 85.7 / 79.0; over seeds
  // 1-8 it spans 76.4-85.7, so the seed moves test OA more than any recipe change above.) --min-cloud 0.2 and 0.01,
  // seed 1: 0.661 (k at the grid's top) and 0.755 against 0.764: not taken.
  rgb: ['--train', 'l8biome-rgb:train', '--val', 'l8biome-rgb:val', '--tune', 'l8biome-rgb:val', '--tune', 'gf1:train', '--tune-metric', 'kappa', '--block-size', '48', '--train-stride', '16', '--min-cloud', '0.05', '--epochs', '20', '--prune', 'all', '--refine', '64'],
};
