// `wdcd view`: the server on the real Landsat scene (HTTP rules, summary, pixel values, tiles), the page driven
// in Debian's Chromium, and the tiling of large scenes.
//
// Set WDCD_UPDATE_SCREENSHOT=1 to copy the final screenshot to docs/view.png (the README's picture).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startViewer, type Viewer, type ViewerSummary } from '../../src/view/index.js';
import { Pyramid, TILE_SIZE } from '../../src/view/pyramid.js';
import { MASK_COLOURS, ERROR_COLOURS } from '../../src/view/colormap.js';
import { InputError } from '../../src/errors.js';
import type { PixelWindow, RasterSource } from '../../src/raster/types.js';
import type { ProgressEvent } from '../../src/progress.js';
import { makeScene, type Scene } from './scene.js';

const CHROMIUM = '/usr/bin/chromium';

interface RawResponse {
  status: number;
  type: string;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would normalise `..` away). */
function raw(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Pixels whose (2 r + 1)^2 neighbourhood all has mask value `value` (inside the image). */
function interior(scene: Scene, value: number, r: number, count: number): [number, number][] {
  const { width, height, maskValues } = scene;
  const found: [number, number][] = [];
  for (let y = r; y < height - r && found.length < count * 50; y += 3) {
    for (let x = r; x < width - r; x += 3) {
      let ok = true;
      for (let dy = -r; dy <= r && ok; dy++) for (let dx = -r; dx <= r && ok; dx++) ok = maskValues[(y + dy) * width + x + dx] === value;
      if (ok) found.push([x, y]);
    }
  }
  // Spread the picks over the candidates.
  return Array.from({ length: Math.min(count, found.length) }, (_, i) => found[Math.floor((i * found.length) / count)]!);
}

describe('wdcd view on the Landsat 8 scene', () => {
  let scene: Scene;
  let viewer: Viewer;

  before(async () => {
    scene = await makeScene();
    viewer = await startViewer({ mask: scene.mask, image: scene.image, cam: scene.cam, truth: scene.truth, truthCoding: '38cloud' });
  });
  after(async () => {
    await viewer?.close();
    if (scene) await rm(scene.dir, { recursive: true, force: true });
  });

  test('listens on loopback and serves its page and tiles', async () => {
    assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await raw(viewer.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /<script type="module" src="\/app\.js">/);
    const js = await raw(viewer.url, '/app.js');
    assert.equal(js.status, 200);
    assert.match(js.type, /javascript/);
    assert.ok(js.body.length > 50_000, 'OpenLayers is bundled into app.js');
    assert.doesNotMatch(js.body.toString(), /https?:\/\/(cdn|unpkg|cdnjs|jsdelivr)/, 'no CDN');
    assert.equal((await raw(viewer.url, '/app.css')).status, 200);
    for (const layer of ['image', 'cam', 'mask', 'errors']) {
      const tile = await raw(viewer.url, `/tiles/${layer}/1/0/0.png`);
      assert.equal(tile.status, 200, layer);
      assert.equal(tile.type, 'image/png');
      const meta = await sharp(tile.body).metadata();
      assert.equal(meta.width, TILE_SIZE);
      assert.equal(meta.height, TILE_SIZE);
    }
  });

  test('answers 404 for every other path, traversal included', async () => {
    const paths = [
      '/../../etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E/%2E%2E/etc/passwd',
      '/app.js/../../../../etc/passwd',
      '/tiles/image/1/0/0.png/../../../../../etc/passwd',
      '/tiles/../../etc/passwd',
      '/tiles/image/1/0/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '//etc/passwd',
      '/etc/passwd',
      '/.git/config',
      '/package.json',
      '/src/view/server.ts',
      '/node_modules/ol/package.json',
      scene.mask,
      `/${encodeURIComponent(scene.mask)}`,
      scene.image[0]!,
      '/index.html%00',
      '/app.js%00.png',
      '/api/info/',
      '/api/infox',
      '/tiles/image/9/0/0.png',
      '/tiles/image/1/7/7.png',
      '/tiles/other/1/0/0.png',
      '/tiles/image/1/0/0.jpg',
      `http://127.0.0.1/etc/passwd`,
      '/favicon.ico',
    ];
    for (const path of paths) {
      const res = await raw(viewer.url, path);
      assert.equal(res.status, 404, `${path} -> ${res.status}`);
      assert.doesNotMatch(res.body.toString('latin1'), /root:|II\*|wdcd/, path);
    }
    assert.equal((await raw(viewer.url, '/api/info', { host: 'evil.example:80' })).status, 403, 'foreign Host header');
    assert.equal((await raw(viewer.url, '/', { method: 'POST' })).status, 405);
    assert.equal((await raw(viewer.url, '/api/pixel?x=9999&y=0')).status, 400);
    assert.equal((await raw(viewer.url, '/tiles/image/1/0/0.png?bands=0,1,9')).status, 400);
  });

  test('summary: fractions, threshold from the sidecar, metrics against the truth', async () => {
    const s = (await (await fetch(new URL('api/summary', viewer.url))).json()) as ViewerSummary;
    let cloud = 0;
    let nodata = 0;
    for (const v of scene.maskValues) {
      if (v === 1) cloud++;
      else if (v === 255) nodata++;
    }
    const n = scene.width * scene.height;
    assert.equal(s.pixels, n);
    assert.equal(s.cloud, cloud);
    assert.equal(s.nodata, nodata);
    assert.ok(Math.abs(s.cloudFraction - cloud / n) < 1e-12);
    assert.ok(s.cloudFraction > 0.01 && s.cloudFraction < 0.2, `cloud fraction ${s.cloudFraction}`);
    assert.deepEqual(s.threshold, { value: 0.5, source: 'mask.tif.json' });
    assert.equal(s.sidecar?.fields.model, 'test (B2 >= 0.2)');
    assert.ok(s.truth);
    const m = s.truth.confusion;
    assert.equal(m.tp + m.fp, cloud, 'every predicted cloud pixel is counted once');
    assert.equal(m.excluded, nodata);
    assert.ok(m.fp > 0 && m.fn > 0, 'the test truth differs from the mask both ways');
    assert.ok(s.truth.metrics.f1! > 0.3 && s.truth.metrics.f1! < 1);
    assert.ok(Math.abs(s.truth.metrics.precision! - m.tp / (m.tp + m.fp)) < 1e-12);
  });

  test('pixel values and tile colours match the files', async () => {
    const [[x, y]] = interior(scene, 1, 2, 1);
    const p = (await (await fetch(new URL(`api/pixel?x=${x}&y=${y}`, viewer.url))).json()) as {
      image: { name: string; value: number }[];
      cam: number;
      mask: { value: number; class: string };
      map: { x: number; y: number };
    };
    assert.deepEqual(p.image.map((b) => b.name), ['B2', 'B3', 'B4']);
    assert.equal(p.image[0]!.value, scene.b2[y! * scene.width + x!]);
    assert.deepEqual(p.mask, { value: 1, class: 'cloud' });
    assert.ok(p.cam >= 0.5);
    assert.equal(p.map.x, 696345 + (x! + 0.5) * 120);
    assert.equal(p.map.y, 4563375 - (y! + 0.5) * 120);

    // Full-resolution mask tile (z = maxZoom = 1): tile pixel = image pixel for tile (0, 0).
    const tile = await raw(viewer.url, '/tiles/mask/1/0/0.png');
    const { data } = await sharp(tile.body).raw().toBuffer({ resolveWithObject: true });
    let checked = 0;
    for (let ty = 0; ty < TILE_SIZE; ty += 5) {
      for (let tx = 0; tx < TILE_SIZE; tx += 5) {
        const v = scene.maskValues[ty * scene.width + tx]!;
        const px = Array.from(data.subarray((ty * TILE_SIZE + tx) * 4, (ty * TILE_SIZE + tx) * 4 + 4));
        if (v === 1) assert.deepEqual(px, MASK_COLOURS.cloud, `cloud at ${tx},${ty}`);
        else if (v === 0) assert.equal(px[3], 0, `clear at ${tx},${ty} is transparent`);
        else assert.ok(px[3]! > 0, `nodata at ${tx},${ty} is drawn`);
        checked++;
      }
    }
    assert.ok(checked > 2000);
    // The error layer shows both false cloud and misses somewhere in the scene (whole scene: z = 0).
    const errors = await sharp((await raw(viewer.url, '/tiles/errors/0/0/0.png')).body).raw().toBuffer();
    const count = (c: number[]) => {
      let k = 0;
      for (let i = 0; i < errors.length; i += 4) if (errors[i] === c[0] && errors[i + 1] === c[1] && errors[i + 2] === c[2]) k++;
      return k;
    };
    assert.ok(count(ERROR_COLOURS.falsePositive) > 0, 'false positives drawn');
    assert.ok(count(ERROR_COLOURS.miss) > 0, 'misses drawn');
  });

  test('the page in Chromium: layers, colours, cursor readout, screenshot', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing` }, async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(viewer.url) && !r.url().startsWith('data:')) external.push(r.url());
      });
      await page.goto(viewer.url);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      const rendered = () => page.evaluate(() => (window as unknown as { wdcd: { rendered(): Promise<void> } }).wdcd.rendered());
      await rendered();
      await page.waitForSelector('#summary-body[data-ready="1"]');
      assert.match(await page.textContent('#summary-body') ?? '', /cloud\s*\d+\.\d+ %/);
      assert.match(await page.textContent('#summary-body') ?? '', /0\.5000 \(mask\.tif\.json\)/);
      assert.match(await page.textContent('#metrics') ?? '', /F1\s*\d+\.\d+ %/);

      const toScreen = (x: number, y: number) =>
        page.evaluate(([c, r]) => (window as unknown as { wdcd: { toScreen(c: number, r: number): [number, number] } }).wdcd.toScreen(c!, r!), [x, y]);
      const setRange = (id: string, value: number) =>
        page.$eval(`#${id}`, (el, v) => {
          (el as HTMLInputElement).value = String(v);
          el.dispatchEvent(new Event('input'));
        }, value);
      const colourAt = async (points: [number, number][]) => {
        const shot = await page.screenshot();
        const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
        const out: number[][] = [];
        for (const [x, y] of points) {
          const [sx, sy] = await toScreen(x, y);
          const o = (Math.round(sy) * info.width + Math.round(sx)) * info.channels;
          out.push([data[o]!, data[o + 1]!, data[o + 2]!]);
        }
        return out;
      };
      const isCloudColour = ([r, g, b]: number[]) => Math.abs(r! - 255) < 30 && g! < 80 && Math.abs(b! - 200) < 40;

      // Mask alone at full opacity: cloud pixels take the cloud colour, clear pixels the background.
      await page.uncheck('#show-image');
      await setRange('opacity-mask', 100);
      await rendered();
      const cloudy = interior(scene, 1, 3, 6);
      const clear = interior(scene, 0, 3, 6);
      assert.ok(cloudy.length >= 3 && clear.length >= 3);
      for (const c of await colourAt(cloudy)) assert.ok(isCloudColour(c), `cloud pixel shows ${c}`);
      for (const c of await colourAt(clear)) assert.ok(!isCloudColour(c) && c[0]! < 80, `clear pixel shows ${c}`);

      // Swipe to 0: the overlays are clipped away.
      await setRange('swipe', 0);
      await rendered();
      for (const c of await colourAt(cloudy)) assert.ok(!isCloudColour(c), `swiped-away cloud pixel shows ${c}`);
      await setRange('swipe', 100);

      // The image layer alone: cloud is bright, water dark.
      await page.check('#show-image');
      await page.uncheck('#show-mask');
      await rendered();
      const bright = await colourAt(cloudy);
      for (const c of bright) assert.ok(c[0]! + c[1]! + c[2]! > 450, `cloud in the image is bright: ${c}`);

      // Cursor readout over a cloud pixel (the one nearest the middle of the left half, for the picture).
      const [cx, cy] = interior(scene, 1, 2, 400).sort(
        (a, b) => Math.hypot(a[0] - scene.width * 0.45, a[1] - scene.height * 0.5) - Math.hypot(b[0] - scene.width * 0.45, b[1] - scene.height * 0.5),
      )[0]!;
      const [sx, sy] = await toScreen(cx, cy);
      await page.mouse.move(sx, sy);
      await page.waitForSelector(`#readout[data-pixel="${cx},${cy}"]`);
      const readout = (await page.textContent('#readout')) ?? '';
      assert.match(readout, new RegExp(`col ${cx}, row ${cy}`));
      assert.ok(readout.includes(scene.b2[cy * scene.width + cx]!.toFixed(4)), `B2 value in "${readout}"`);
      assert.match(readout, /mask\s*cloud \(1\)/);
      assert.match(readout, /CAM\s*\d\.\d{4} ≥ T/);
      assert.match(readout, /truth\s*(cloud|clear)/);

      // Band choice reloads the image tiles with the new bands.
      const tileRequest = page.waitForRequest((r) => r.url().includes('/tiles/image/') && r.url().includes('bands=2,2,2'));
      await page.selectOption('#band-G', '2');
      await page.selectOption('#band-B', '2');
      await tileRequest;
      await page.selectOption('#band-G', '1');
      await page.selectOption('#band-B', '0');

      // The picture for the README: image, mask at 60 % left of the swipe line, readout over a cloud.
      await page.check('#show-mask');
      await setRange('opacity-mask', 60);
      await setRange('swipe', 62);
      await rendered();
      await page.mouse.move(sx, sy);
      await page.waitForSelector(`#readout[data-pixel="${cx},${cy}"]`);
      const file = join(scene.dir, 'view.png');
      await page.screenshot({ path: file });
      if (process.env.WDCD_UPDATE_SCREENSHOT) {
        await mkdir('docs', { recursive: true });
        await copyFile(file, join('docs', 'view.png'));
      }
      assert.deepEqual(errors, [], 'no errors on the page');
      assert.deepEqual(external, [], 'no requests leave the server');
    } finally {
      await browser.close();
    }
  });
});

describe('wdcd view inputs', () => {
  test('user errors are InputErrors', async () => {
    const scene = await makeScene();
    try {
      await assert.rejects(
        startViewer({ mask: scene.mask, image: ['/work/shared/data/landsat7-clear/L7_ETMs.tif'] }),
        (e: unknown) => e instanceof InputError && /same grid as the mask/.test(e.message),
      );
      await assert.rejects(startViewer({ mask: join(scene.dir, 'nope.tif'), image: scene.image }), InputError);
      await assert.rejects(startViewer({ mask: scene.mask, image: [] }), InputError);
      await assert.rejects(startViewer({ mask: scene.mask, image: scene.image, truth: scene.truth }), (e: unknown) =>
        e instanceof InputError && /--coding/.test(e.message),
      );
      // The scene's mask moved one pixel east: the right size, another grid.
      const shifted = join(scene.dir, 'shifted.tif');
      execFileSync('gdal_translate', ['-q', '-a_ullr', '696465', '4563375', '757425', '4508415', scene.mask, shifted]);
      await assert.rejects(startViewer({ mask: scene.mask, image: scene.image, truth: shifted, truthCoding: 'wdcd' }), (e: unknown) =>
        e instanceof InputError && /shifted\.tif: --truth must cover the same grid as the mask: geotransform \[696465, 120/.test(e.message),
      );
      // A GF-1 slice given as the mask (colour bands differ) is refused; its grey RGB truth PNG is a mask.
      const slice = '/work/shared/data/gf1/test/bg_slice/GF1_WFV1_E4.4_N9.5_20141201_L1A0000489018_0';
      await assert.rejects(startViewer({ mask: `${slice}.jpg`, image: [`${slice}.jpg`] }), (e: unknown) =>
        e instanceof InputError && /\.jpg: bands 1 and 2 differ at pixel \(\d+, \d+\); a mask is one band/.test(e.message),
      );
      const grey = await startViewer({ mask: `${slice}.png`, image: [`${slice}.jpg`] });
      await grey.close();
      const first = await startViewer({ mask: scene.mask, image: scene.image });
      try {
        await assert.rejects(startViewer({ mask: scene.mask, image: scene.image, port: first.port }), (e: unknown) =>
          e instanceof InputError && /in use/.test(e.message),
        );
      } finally {
        await first.close();
      }
    } finally {
      await rm(scene.dir, { recursive: true, force: true });
    }
  });
});

describe('wdcd view start-up', () => {
  const slice = '/work/shared/data/gf1/test/bg_slice/GF1_WFV1_E4.4_N9.5_20141201_L1A0000489018_0';

  test('an image or CAM that cannot be decoded is refused before the server listens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wdcd-view-'));
    try {
      const whole = await readFile(`${slice}.jpg`);
      const cut = join(dir, 'cut.jpg');
      await writeFile(cut, whole.subarray(0, whole.length >> 1)); // header intact, pixel data cut in half
      const events: ProgressEvent[] = [];
      const refused = (e: unknown) => e instanceof InputError && /cut\.jpg: cannot decode/.test(e.message);
      await assert.rejects(startViewer({ mask: `${slice}.png`, image: [cut], onProgress: (e) => events.push(e) }), refused);
      assert.ok(!events.some((e) => e.kind === 'stage' && /serving/.test(e.message ?? '')), 'never served');
      await assert.rejects(startViewer({ mask: `${slice}.png`, image: [`${slice}.jpg`], cam: cut }), refused);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('coding names are refused under their own option; warnings are also progress events', async () => {
    await assert.rejects(startViewer({ mask: `${slice}.png`, image: [`${slice}.jpg`], maskCoding: 'nope' }), (e: unknown) =>
      e instanceof InputError && /^--mask-coding: unknown mask coding "nope"/.test(e.message),
    );
    await assert.rejects(startViewer({ mask: `${slice}.png`, image: [`${slice}.jpg`], truth: `${slice}.png`, truthCoding: 'nope' }), (e: unknown) =>
      e instanceof InputError && /^--coding: unknown mask coding "nope"/.test(e.message),
    );
    const events: ProgressEvent[] = [];
    // The 3-band JPEG as the CAM: shown as its first band, with a warning; the 0/255 PNG mask read as 38-Cloud.
    const viewer = await startViewer({
      mask: `${slice}.png`,
      image: [`${slice}.jpg`],
      cam: `${slice}.jpg`,
      maskCoding: '38cloud',
      onProgress: (e) => events.push(e),
    });
    try {
      const warnings = events.filter((e) => e.kind === 'warning').map((e) => (e as { message: string }).message);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /\.jpg: 3 bands, showing the first as CAM$/);
      const summary = JSON.parse((await raw(viewer.url, '/api/summary')).body.toString()) as ViewerSummary;
      assert.deepEqual(summary.warnings, warnings);
      const info = JSON.parse((await raw(viewer.url, '/api/info')).body.toString()) as { mask: { coding: string } };
      assert.equal(info.mask.coding, '38cloud');
    } finally {
      await viewer.close();
    }
  });
});

/** A procedurally generated raster that records every window read: band 0 holds x, band 1 holds y. */
function fakeSource(width: number, height: number): RasterSource & { reads: PixelWindow[] } {
  const reads: PixelWindow[] = [];
  return {
    paths: ['fake'],
    width,
    height,
    bandCount: 2,
    sampleType: 'float32',
    georef: null,
    nodata: null,
    reads,
    async readWindow(w: PixelWindow, bands = [0, 1]) {
      assert.ok(w.x >= 0 && w.y >= 0 && w.x + w.width <= width && w.y + w.height <= height, 'window inside the image');
      reads.push(w);
      return bands.map((b) => {
        const out = new Float32Array(w.width * w.height);
        for (let j = 0; j < w.height; j++) for (let i = 0; i < w.width; i++) out[j * w.width + i] = b === 0 ? w.x + i : w.y + j;
        return out;
      });
    },
    async close() {},
  };
}

describe('large scenes', () => {
  test('tiles come from a bounded overview or bounded windows, never the whole raster', async () => {
    const W = 8192 + 77;
    const H = 6144 + 5;
    const source = fakeSource(W, H);
    const pyramid = new Pyramid(source);
    assert.equal(pyramid.maxZoom, 6);
    assert.equal(pyramid.factor, 8);
    const check = (data: Float32Array[], z: number, x: number, y: number) => {
      const r = 2 ** (pyramid.maxZoom - z);
      for (const [i, j] of [[0, 0], [17, 200], [255, 255], [128, 3]] as const) {
        const sx = x * TILE_SIZE * r + i * r + Math.floor(r / 2);
        const sy = y * TILE_SIZE * r + j * r + Math.floor(r / 2);
        const gx = data[0]![j * TILE_SIZE + i]!;
        const gy = data[1]![j * TILE_SIZE + i]!;
        if (sx >= W || sy >= H) {
          assert.ok(Number.isNaN(gx) && Number.isNaN(gy), 'outside the raster is NaN');
          continue;
        }
        // Within the block a tile pixel stands for (nearest neighbour from the overview or the window).
        assert.ok(Math.abs(gx - sx) <= Math.max(r, pyramid.factor), `x ${gx} vs ${sx} at z ${z}`);
        assert.ok(Math.abs(gy - sy) <= Math.max(r, pyramid.factor), `y ${gy} vs ${sy} at z ${z}`);
        if (r < pyramid.factor) assert.equal(gx, sx);
      }
    };
    // Whole scene in one tile, from the overview.
    check((await pyramid.tile(0, 0, 0, [0, 1]))!, 0, 0, 0);
    const ov = await pyramid.overview();
    assert.ok(ov.width * ov.height <= 1 << 21);
    const buildReads = source.reads.length;
    // Overview levels need no further reads.
    check((await pyramid.tile(3, 2, 1, [0, 1]))!, 3, 2, 1);
    assert.equal(source.reads.length, buildReads);
    // Finer levels read one bounded window each; full resolution reads 256 x 256.
    check((await pyramid.tile(4, 5, 3, [0, 1]))!, 4, 5, 3);
    check((await pyramid.tile(6, 32, 24, [0, 1]))!, 6, 32, 24);
    check((await pyramid.tile(6, 32, 24, [0, 1]))!, 6, 32, 24);
    const edge = (await pyramid.tile(6, 32, 24, [0, 1]))!;
    assert.ok(Number.isNaN(edge[0]![255]!), 'past the right edge');
    for (const w of source.reads.slice(buildReads)) assert.ok(w.width * w.height <= (TILE_SIZE * 4) ** 2, `window ${w.width} x ${w.height}`);
    assert.equal(await pyramid.tile(6, 33, 0, [0]), null, 'tile outside');
    assert.equal(await pyramid.tile(7, 0, 0, [0]), null, 'level beyond full resolution');
  });

  test('the real scene through the windowed path matches the overview path at full resolution', async () => {
    const scene = await makeScene();
    const small = await startViewer({ mask: scene.mask, image: scene.image, overviewPixels: 4096 });
    try {
      const a = await raw(small.url, '/tiles/mask/1/1/1.png');
      assert.equal(a.status, 200);
      const { data } = await sharp(a.body).raw().toBuffer({ resolveWithObject: true });
      for (let ty = 0; ty < scene.height - TILE_SIZE; ty += 7) {
        for (let tx = 0; tx < scene.width - TILE_SIZE; tx += 7) {
          const v = scene.maskValues[(TILE_SIZE + ty) * scene.width + TILE_SIZE + tx]!;
          const alpha = data[(ty * TILE_SIZE + tx) * 4 + 3]!;
          if (v === 1) assert.equal(alpha, 255);
          if (v === 0) assert.equal(alpha, 0);
        }
      }
      assert.equal((await raw(small.url, '/tiles/image/0/0/0.png')).status, 200);
    } finally {
      await small.close();
      await rm(scene.dir, { recursive: true, force: true });
    }
  });
});
