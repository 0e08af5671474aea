// `wdcd view` as a user starts it (a child process): the address on stdout, the first display bands from --rgb,
// refusals of bad --rgb values, a clean stop on Ctrl+C, unreadable files refused before the address is printed,
// warnings on stderr, and --mask-coding. The page itself is tested in test/view/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromFile } from 'geotiff';
import type { ViewerInfo, ViewerSummary } from '../../src/view/viewer-api.js';
import { REPO, show, wdcd } from './helpers.js';

const BIOME_TEST = '/work/shared/data/l8biome/test';
const IMAGE = join(BIOME_TEST, 'images', 'Urban_11_1326.tif'); // 8 bands: blue, green, red, NIR, ...
const MASK = join(BIOME_TEST, 'masks', 'Urban_11_1326.tif');
/** A GF-1 slice: an RGB JPEG and its grey 0/255 PNG mask, 512 x 512. */
const SLICE = '/work/shared/data/gf1/test/bg_slice/GF1_WFV1_E4.4_N9.5_20141201_L1A0000489018_0';
/** A 38-Cloud patch: red, green, blue band files and its 0/255 truth (255 cloud), 384 x 384. */
const CLOUD38 = '/work/shared/data/landsat8-38cloud';
const PATCH = 'patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF';

interface Started {
  url: string;
  stop: () => Promise<number | null>;
  /** Resolves once stderr matches (rejects after 20 s). */
  stderrMatch: (re: RegExp) => Promise<void>;
}

/** Starts `wdcd view ARGS`, waits for the address it prints, and returns it with a stop that sends SIGINT. */
function startView(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'view', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no address within 60 s\n${stderr}`));
    }, 60_000);
    const waiting = new Set<() => void>();
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      for (const check of waiting) check();
    });
    const stderrMatch = (re: RegExp) =>
      new Promise<void>((ok, fail) => {
        const t = setTimeout(() => (waiting.delete(check), fail(new Error(`stderr never matched ${re}:\n${stderr}`))), 20_000);
        const check = () => {
          if (!re.test(stderr)) return;
          clearTimeout(t);
          waiting.delete(check);
          ok();
        };
        waiting.add(check);
        check();
      });
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const url = /^http:\/\/\S+/m.exec(stdout)?.[0];
      if (!url) return;
      clearTimeout(timer);
      resolve({ url, stop: () => (child.kill('SIGINT'), closed), stderrMatch });
    });
    closed.then((code) => reject(new Error(`view exited ${code} before serving\n${stderr}`)));
  });
}

describe('wdcd view (command line)', () => {
  it('--rgb sets the first display bands, 1-based; Ctrl+C stops it with exit 0', async () => {
    const plain = await startView([MASK, '--image', IMAGE]);
    const chosen = await startView([MASK, '--image', IMAGE, '--rgb', '4,3,2']);
    try {
      const info = async (url: string) => (await (await fetch(new URL('api/info', url))).json()) as ViewerInfo;
      // An 8-band float stack opens as red, green, blue = bands 3, 2, 1; --rgb 4,3,2 asks for the false colour.
      assert.deepEqual((await info(plain.url)).image.rgb, [2, 1, 0]);
      assert.deepEqual((await info(chosen.url)).image.rgb, [3, 2, 1]);
    } finally {
      assert.equal(await plain.stop(), 0);
      assert.equal(await chosen.stop(), 0);
    }
  });

  it('band files listed after one --image (as detect takes them) are refused with exit 2, saying how to give them', async () => {
    const r = await wdcd(['view', MASK, '--image', IMAGE, IMAGE, MASK]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /give exactly one mask file, got 3: \S*Urban_11_1326\.tif, \S*images\/Urban_11_1326\.tif, \S*; each image file takes its own --image/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  });

  it('a bad --rgb is refused with exit 2, naming the option', async () => {
    const [two, outside, zero] = await Promise.all([
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '4,3']),
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '9,3,2']),
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '0,1,2']),
    ]);
    assert.equal(two.code, 2, show(two));
    assert.match(two.stderr, /--rgb: give three bands \(red, green, blue\), got 2/);
    for (const r of [outside, zero]) {
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /--rgb: display bands must be in 1\.\.8/);
      assert.equal(r.stdout, '', 'no address printed');
    }
  });
});

describe('wdcd view: unreadable files, warnings, --mask-coding', () => {
  it('a truncated JPEG as --image or --cam is refused with exit 2 naming it, before any address is printed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wdcd-view-cli-'));
    try {
      // The header is intact (the size reads fine), the pixel data stops half way.
      const whole = await readFile(`${SLICE}.jpg`);
      const cut = join(dir, 'cut.jpg');
      await writeFile(cut, whole.subarray(0, whole.length >> 1));
      const [image, cam] = await Promise.all([
        wdcd(['view', `${SLICE}.png`, '--image', cut], { timeoutMs: 60_000 }),
        wdcd(['view', `${SLICE}.png`, '--image', `${SLICE}.jpg`, '--cam', cut], { timeoutMs: 60_000 }),
      ]);
      for (const r of [image, cam]) {
        assert.equal(r.code, 2, show(r));
        assert.equal(r.stdout, '', 'no address printed');
        assert.match(r.stderr, /wdcd view: \S*cut\.jpg: cannot decode/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('warnings go to stderr: at start, and for every request that fails while it serves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wdcd-view-cli-'));
    const copy = join(dir, 'image.tif');
    await copyFile(IMAGE, copy);
    await chmod(copy, 0o644);
    const view = await startView([MASK, '--image', copy, '--cam', copy]);
    try {
      // An 8-band file as the CAM: the first band is shown, and the user is told.
      await view.stderrMatch(/^warning: \S*image\.tif: 8 bands, showing the first as CAM$/m);
      // The image is cut short while the page is open: the pixel read fails, answers 500 and says why on stderr.
      await truncate(copy, 1000);
      const res = await fetch(new URL('api/pixel?x=200&y=200', view.url));
      assert.equal(res.status, 500);
      await view.stderrMatch(/^warning: view: \/api\/pixel\?x=200&y=200: \S*image\.tif: cannot decode pixels/m);
    } finally {
      assert.equal(await view.stop(), 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--mask-coding views a 0/255 mask the server cannot guess; a wrong name is refused under that option', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wdcd-view-cli-'));
    // The 38-Cloud truth under a name that hints at no dataset: 0 clear, 255 cloud reads as several codings.
    const mask = join(dir, 'cloudmask.tif');
    await copyFile(join(CLOUD38, `gt_${PATCH}`), mask);
    const image = ['red', 'green', 'blue'].flatMap((b) => ['--image', join(CLOUD38, `${b}_${PATCH}`)]);
    try {
      const [guessed, wrong, help] = await Promise.all([
        wdcd(['view', mask, ...image]),
        wdcd(['view', mask, ...image, '--mask-coding', '38clod']),
        wdcd(['view', '--help']),
      ]);
      assert.equal(guessed.code, 2, show(guessed));
      assert.match(guessed.stderr, /give --mask-coding/);
      assert.equal(wrong.code, 2, show(wrong));
      assert.match(wrong.stderr, /--mask-coding: unknown mask coding "38clod"; use auto or one of: .*38cloud/);
      assert.equal(wrong.stdout, '');
      assert.match(help.stdout, /--mask-coding NAME/);

      const tiff = await fromFile(mask);
      const [values] = (await (await tiff.getImage()).readRasters()) as unknown as ArrayLike<number>[];
      tiff.close();
      let cloud = 0;
      for (let i = 0; i < values!.length; i++) if (values![i] === 255) cloud++;
      assert.ok(cloud > 0 && cloud < values!.length, 'the patch has cloud and clear');

      const view = await startView([mask, ...image, '--mask-coding', '38cloud']);
      try {
        const info = (await (await fetch(new URL('api/info', view.url))).json()) as ViewerInfo;
        assert.equal(info.mask.coding, '38cloud');
        const summary = (await (await fetch(new URL('api/summary', view.url))).json()) as ViewerSummary;
        assert.equal(summary.cloud, cloud);
        assert.equal(summary.clear, values!.length - cloud);
        assert.equal(summary.nodata, 0);
        assert.equal((await fetch(new URL('tiles/mask/0/0/0.png', view.url))).status, 200);
      } finally {
        assert.equal(await view.stop(), 0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
