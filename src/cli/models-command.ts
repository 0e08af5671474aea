import { bundledModelNames, loadModel, type ModelDescription } from '../model/model-file.js';
import { thresholdOf } from '../detect/clear-sky.js';

export const MODELS_USAGE = `wdcd models [NAME|DIR]   list the bundled models, or describe one`;

export async function modelsCommand(argv: string[]): Promise<void> {
  const names = argv.length ? argv : bundledModelNames();
  if (names.length === 0) process.stdout.write('no bundled models; describe a model folder with: wdcd models DIR\n');
  for (const name of names) {
    const { description: d } = loadModel(name);
    const stats = d.detection.clearSky;
    const init = d.training?.init as { model: string; command?: string } | undefined;
    process.stdout.write(
      `${name}: ${d.architecture.name}, ${d.architecture.blockSize} px blocks, bands ${d.bands.join(', ')} (${d.units}), sensor preset ${d.sensor}\n` +
        `  LPP pruned pools ${JSON.stringify(d.prunedPools)}, stride ${d.detection.stride}, gate ${d.detection.gate ? 'on' : 'off'}, ` +
        (stats ? `T = ${stats.mean.toFixed(3)} + ${d.detection.k} x ${stats.std.toFixed(3)} = ${thresholdOf(stats, d.detection.k).toFixed(3)}\n` : 'no threshold statistics\n') +
        `  spectral guards: ${guardText(d.detection) || 'none'}\n` +
        `  map refinement: ${d.detection.refine ? `guided filter, radius ${d.detection.refine.radius} px, eps ${d.detection.refine.eps}` : 'none'}\n` +
        (d.training?.command ? `  trained by: ${d.training.command}\n` : '') +
        (init ? `  fine-tuned from: ${init.model}${init.command ? `, itself trained by: ${init.command}` : ''}\n` : ''),
    );
  }
}

function guardText({ darkGuard, hotGuard, waterGuard }: ModelDescription['detection']): string {
  return [
    darkGuard ? `no cloud where ${darkGuard.band} < ${darkGuard.reflectance}` : '',
    hotGuard ? `no cloud where blue - 0.5 red < ${hotGuard.offset}` : '',
    waterGuard ? `no cloud where nir < ${waterGuard.reflectance}` : '',
  ].filter(Boolean).join('; ');
}
