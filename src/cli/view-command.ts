import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { CODING_NAMES } from '../evaluate/mask-codings.js';
import { startViewer, type Viewer } from '../view/index.js';
import { wholeNumber } from '../number-rules.js';
import { numberList, numberOption } from './options.js';
import { progressPrinter } from './progress-bar.js';

export const VIEW_USAGE = `wdcd view MASK.tif --image IMAGE [--image IMAGE ...] [--cam CAM.tif] [--truth TRUTH] [--coding NAME]
          [--mask-coding NAME] [--rgb R,G,B] [--port N] [--quiet]

  Serves a page on 127.0.0.1 (the address is printed; nothing is opened) showing the image, the activation
  map and the mask, with opacity, swipe, pan and zoom, the values under the cursor, and the summary.
  Every file is read once before the address is printed, so an unreadable one is refused (exit 2).
  --image FILE          the image (repeat for single-band files in band order)
  --cam FILE            the activation map (one band, on the mask's grid)
  --truth FILE          a truth mask: metrics, false positives and misses in their own colours
  --coding NAME         the truth mask's coding: auto | ${CODING_NAMES.join(' | ')} (default auto)
  --mask-coding NAME    the mask's coding, same names (default: wdcd's own 0 clear / 1 cloud / 255 nodata when
                        the values fit, else guessed like --coding); e.g. 38cloud for a 0/255 mask
  --rgb R,G,B           image bands (1-based) shown as red, green, blue at first, e.g. 4,3,2 for a Landsat 8 stack
                        (default: 1,2,3 for PNG, JPEG and 8-bit three-band images, else 3,2,1; the page can change them)
  --port N              port (default: a free one)
  -q, --quiet           no progress on stderr (warnings and failed requests still print)`;

export async function viewCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      image: { type: 'string', multiple: true },
      cam: { type: 'string' },
      truth: { type: 'string' },
      coding: { type: 'string' },
      'mask-coding': { type: 'string' },
      rgb: { type: 'string' },
      port: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length !== 1) {
    // Band files listed after one --image (as detect takes them) land here as extra masks.
    const got = positionals.length ? `, got ${positionals.length}: ${positionals.join(', ')}; each image file takes its own --image` : '';
    throw new InputError(`give exactly one mask file${got}\n\n` + VIEW_USAGE);
  }
  if (!v.image?.length) throw new InputError('give the image with --image\n\n' + VIEW_USAGE);
  const rgb = numberList(v.rgb, '--rgb');
  if (rgb && rgb.length !== 3) throw new InputError(`give three bands (red, green, blue), got ${rgb.length}`, '--rgb');
  // Progress while the files are read, then the server's warnings (unreadable data, failed requests) for as long
  // as it runs: without them a failing page would leave the terminal silent.
  const progress = progressPrinter(process.stderr, v.quiet);
  let viewer: Viewer;
  try {
    viewer = await startViewer({
      mask: positionals[0],
      image: v.image,
      cam: v.cam,
      truth: v.truth,
      truthCoding: v.coding,
      maskCoding: v['mask-coding'],
      rgb: rgb?.map((b) => b - 1) as [number, number, number] | undefined,
      port: numberOption(v.port, '--port', wholeNumber, 'a port number'),
      onProgress: progress,
    });
  } finally {
    progress.done();
  }
  process.stdout.write(`${viewer.url}\n`);
  process.stderr.write('serving on loopback only; press Ctrl+C to stop\n');
  const stop = async () => {
    await viewer.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
