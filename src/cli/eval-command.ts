import { parseArgs } from 'node:util';
import { evaluateFiles, renderReportJson, renderReportTable } from '../evaluate/index.js';
import { CODING_NAMES } from '../evaluate/mask-codings.js';
import { InputError } from '../errors.js';

export const EVAL_USAGE = `wdcd eval PREDICTION TRUTH [PREDICTION TRUTH ...] [--coding NAME] [--prediction-coding NAME] [--json]

  Pixel confusion matrix, OA, precision, recall, F1, IoU and kappa per image and pooled over all pairs.
  Cloud is positive; thin cloud counts as cloud, shadow does not; fill/nodata in either mask is excluded.
  A file's declared nodata is excluded where its coding has no class for it; where the coding reads it as clear or
  cloud it is scored so, with a warning. Truth pixels the prediction leaves nodata are excluded, warned about and
  counted (JSON "unpredicted"). Palette PNGs are read as their palette indices.
  --coding NAME   truth mask coding: auto | ${CODING_NAMES.join(' | ')} (default auto)
  --prediction-coding NAME
                  prediction mask coding, the same names (default wdcd: 0 clear, 1 cloud, 255 nodata); a
                  prediction written 0 clear / 255 cloud by another tool needs 38cloud (it prints a warning if not)
  --json          the report as JSON on stdout instead of a table`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { coding: { type: 'string' }, 'prediction-coding': { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length === 0 || positionals.length % 2 !== 0) throw new InputError('expected pairs of PREDICTION TRUTH files\n\n' + EVAL_USAGE);
  const pairs = [];
  for (let i = 0; i < positionals.length; i += 2) pairs.push({ prediction: positionals[i], truth: positionals[i + 1] });
  const report = await evaluateFiles(pairs, {
    coding: v.coding,
    predictionCoding: v['prediction-coding'],
    onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  process.stdout.write(v.json ? renderReportJson(report) + '\n' : renderReportTable(report) + '\n');
}
