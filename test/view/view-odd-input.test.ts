// `wdcd view` given odd but plausible inputs: a truth with a declared nodata value, a mask from another tool with its
// own declared nodata value (254, 15, 65535, float32's lowest; 1, a class value), a palette PNG truth, the mask as
// its own truth, a mask with an alpha band, float nodata values that float32 cannot hold exactly, a mask given as the
// CAM, a 16-bit RGB PNG image, --coding without --truth. Inputs are made from the real 38-Cloud patch with GDAL
// (python3-gdal), which also computes the expected confusion matrices, independently of wdcd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startViewer, type PixelValues, type Viewer, type ViewerInfo, type ViewerSummary } from '../../src/view/index.js';
import { ERROR_COLOURS, MASK_COLOURS } from '../../src/view/colormap.js';
import { evaluateFiles, type Confusion } from '../../src/evaluate/index.js';
import { InputError } from '../../src/errors.js';

const CLOUD38 = '/work/shared/data/landsat8-38cloud';
const PATCH = 'patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF';
const IMAGE = ['red', 'green', 'blue'].map((b) => join(CLOUD38, `${b}_${PATCH}`));

/**
 * In the folder given: mask.tif (wdcd coding from the 38-Cloud truth, its lower right quarter flipped, rows 0-9
 * nodata 255) and a float32 copy with NaN for nodata, truths (0/255 with a 100 px block at rows and columns 100-199 set to a declared nodata 7, or 65535
 * in a uint16 copy; one declaring nodata 0; a palette PNG of indices 0 clear / 1 cloud drawn black and white), the
 * mask with an alpha band, a float reflectance band and a CAM whose rows 0-49 hold a declared nodata of -0.1, and
 * the patch as a 16-bit RGB PNG; the mask as another tool would write it, its nodata rows 0-9 holding a declared
 * nodata of 254 or 15 (uint8), 65535 (uint16) or float32's lowest value, a 0/255 copy (38-Cloud coding) declaring
 * 7, and mask.tif's values declaring nodata 1, a class value. Prints the expected confusion matrices as JSON.
 */
const MAKE = String.raw`
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
src, patch, out = sys.argv[1:4]
gt = gdal.Open(f'{src}/gt_{patch}').ReadAsArray()
def save(name, bands, dtype=gdal.GDT_Byte, nodata=None, alpha=False):
    ds = gdal.GetDriverByName('GTiff').Create(f'{out}/{name}', 384, 384, len(bands), dtype)
    for i, a in enumerate(bands):
        ds.GetRasterBand(i + 1).WriteArray(a)
        if nodata is not None: ds.GetRasterBand(i + 1).SetNoDataValue(nodata)
    if alpha: ds.GetRasterBand(len(bands)).SetColorInterpretation(gdal.GCI_AlphaBand)
cloud = gt == 255
mask = cloud.astype(np.uint8)
mask[192:, 192:] = 1 - mask[192:, 192:]
mask[:10] = 255
save('mask.tif', [mask], nodata=255)
save('mask_float.tif', [np.where(mask == 255, np.nan, mask).astype(np.float32)], gdal.GDT_Float32)
block = np.zeros(gt.shape, bool); block[100:200, 100:200] = True
t = gt.copy(); t[block] = 7
save('truth_nd7.tif', [t], nodata=7)
t16 = gt.astype(np.uint16); t16[block] = 65535
save('truth_nd65535.tif', [t16], gdal.GDT_UInt16, nodata=65535)
save('truth_nd0.tif', [gt], nodata=0)
mem = gdal.GetDriverByName('MEM').Create('', 384, 384, 1, gdal.GDT_Byte)
mem.GetRasterBand(1).WriteArray(cloud.astype(np.uint8))
palette = gdal.ColorTable(); palette.SetColorEntry(0, (0, 0, 0, 255)); palette.SetColorEntry(1, (255, 255, 255, 255))
mem.GetRasterBand(1).SetColorTable(palette)
gdal.GetDriverByName('PNG').CreateCopy(f'{out}/truth_palette.png', mem)
alpha = np.full(gt.shape, 255, np.uint8); alpha[:50, :50] = 0
save('mask_alpha.tif', [mask, alpha], alpha=True)
red = gdal.Open(f'{src}/red_{patch}').ReadAsArray().astype(np.float32) / 65535
red[:50] = -0.1
save('red_nodata.tif', [red], gdal.GDT_Float32, nodata=-0.1)
cam = np.where(mask == 1, 0.9, 0.2).astype(np.float32); cam[:50] = -0.1
save('cam_nodata.tif', [cam], gdal.GDT_Float32, nodata=-0.1)
rgb = gdal.GetDriverByName('MEM').Create('', 384, 384, 3, gdal.GDT_UInt16)
for i, b in enumerate(['red', 'green', 'blue']): rgb.GetRasterBand(i + 1).WriteArray(gdal.Open(f'{src}/{b}_{patch}').ReadAsArray())
gdal.GetDriverByName('PNG').CreateCopy(f'{out}/rgb16.png', rgb)
fill = mask == 255
save('mask_nd254.tif', [np.where(fill, 254, mask).astype(np.uint8)], nodata=254)
save('mask_nd15.tif', [np.where(fill, 15, mask).astype(np.uint8)], nodata=15)
save('mask_nd65535.tif', [np.where(fill, 65535, mask).astype(np.uint16)], gdal.GDT_UInt16, nodata=65535)
lowest = float(np.finfo(np.float32).min)
save('mask_ndlowest.tif', [np.where(fill, lowest, mask).astype(np.float32)], gdal.GDT_Float32, nodata=lowest)
save('mask38_nd7.tif', [np.where(fill, 7, mask * 255).astype(np.uint8)], nodata=7)
save('mask_nd1.tif', [mask], nodata=1)
def matrix(excluded_truth):
    scored = (mask != 255) & ~excluded_truth
    p, c = mask == 1, cloud
    return dict(tp=int((scored & p & c).sum()), fp=int((scored & p & ~c).sum()), tn=int((scored & ~p & ~c).sum()),
                fn=int((scored & ~p & c).sum()), excluded=int((~scored).sum()))
print(json.dumps(dict(nodataBlock=matrix(block), whole=matrix(np.zeros(gt.shape, bool)), lowest=lowest)))
`;

describe('wdcd view: odd inputs', () => {
  let dir: string;
  let expected: { nodataBlock: Confusion; whole: Confusion; lowest: number };
  const file = (name: string) => join(dir, name);
  const get = async <T>(viewer: Viewer, path: string): Promise<T> => (await (await fetch(new URL(path, viewer.url))).json()) as T;
  /** Starts a viewer, hands it to `check`, and closes it. */
  const viewing = async (options: Partial<Parameters<typeof startViewer>[0]>, check: (v: Viewer) => Promise<void>) => {
    const viewer = await startViewer({ mask: file('mask.tif'), image: IMAGE, ...options });
    try {
      await check(viewer);
    } finally {
      await viewer.close();
    }
  };

  /** Expects startViewer to refuse with an InputError matching `re`; a viewer started by mistake is closed. */
  const refused = async (options: Partial<Parameters<typeof startViewer>[0]>, re: RegExp) => {
    const started = await startViewer({ mask: file('mask.tif'), image: IMAGE, ...options }).catch((e: unknown) => e as Error);
    if (!(started instanceof Error)) {
      await started.close();
      assert.fail('started instead of refusing');
    }
    assert.ok(started instanceof InputError && re.test(started.message), String(started));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wdcd-view-odd-'));
    expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', MAKE, CLOUD38, PATCH, dir], { encoding: 'utf8' }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a truth's declared nodata (7, or 65535 in 16 bits) is excluded from the metrics, as wdcd eval excludes it", async () => {
    for (const name of ['truth_nd7.tif', 'truth_nd65535.tif']) {
      await viewing({ truth: file(name), truthCoding: '38cloud' }, async (viewer) => {
        const s = await get<ViewerSummary>(viewer, 'api/summary');
        assert.deepEqual(s.truth?.confusion, expected.nodataBlock, name);
        const { images: [evaluated] } = await evaluateFiles([{ prediction: file('mask.tif'), truth: file(name) }], { coding: '38cloud' });
        assert.equal(s.truth!.metrics.f1, evaluated!.f1, `${name}: the F1 of wdcd eval`);
        // In the block the readout shows the stored value as nodata, and the error layer draws nothing.
        const p = await get<PixelValues>(viewer, 'api/pixel?x=150&y=150');
        assert.deepEqual(p.truth, { value: name.includes('65535') ? 65535 : 7, class: 'nodata' });
        const tile = await sharp(Buffer.from(await (await fetch(new URL('tiles/errors/1/0/0.png', viewer.url))).arrayBuffer())).raw().toBuffer();
        let drawn = 0;
        for (let y = 100; y < 200; y++) for (let x = 100; x < 200; x++) drawn += tile[(y * 256 + x) * 4 + 3]!;
        assert.equal(drawn, 0, `${name}: no error drawn on the truth's nodata`);
        let falseCloud = 0;
        const [r, g, b] = ERROR_COLOURS.falsePositive;
        for (let i = 0; i < tile.length; i += 4) if (tile[i] === r && tile[i + 1] === g && tile[i + 2] === b) falseCloud++;
        assert.ok(falseCloud > 100, 'errors are drawn elsewhere (the flipped quarter)');
      });
    }
  });

  test('a declared nodata that the coding scores is scored, with the warning wdcd eval gives', async () => {
    await viewing({ truth: file('truth_nd0.tif'), truthCoding: '38cloud' }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      assert.deepEqual(s.truth?.confusion, expected.whole);
      assert.equal(s.warnings.length, 1);
      assert.match(s.warnings[0]!, /truth_nd0\.tif: the truth declares nodata 0, which the 38cloud coding reads as clear: its \d+ pixels of 0 are scored as clear, not excluded/);
    });
  });

  /** RGBA of a tile at pixel (x, y). */
  const tilePixel = async (viewer: Viewer, tile: string) => {
    const data = await sharp(Buffer.from(await (await fetch(new URL(tile, viewer.url))).arrayBuffer())).raw().toBuffer();
    return (x: number, y: number) => [...data.subarray((y * 256 + x) * 4, (y * 256 + x) * 4 + 4)];
  };

  test("a mask's own declared nodata (254, 15, 65535, float32's lowest; 7 in a 0/255 mask read as 38cloud) is nodata: drawn, counted and scored as wdcd eval excludes it", async () => {
    const truth = join(CLOUD38, `gt_${PATCH}`);
    const { whole } = expected;
    const cases: [string, number, Partial<Parameters<typeof startViewer>[0]>][] = [
      ['mask_nd254.tif', 254, {}],
      ['mask_nd15.tif', 15, {}],
      ['mask_nd65535.tif', 65535, {}],
      ['mask_ndlowest.tif', Math.fround(expected.lowest), {}],
      ['mask38_nd7.tif', 7, { maskCoding: '38cloud' }],
    ];
    for (const [name, value, options] of cases) {
      // An overview of 192 x 192 px: the zoom 0 tile is cut from it, the zoom 1 tiles are read from the file.
      await viewing({ mask: file(name), truth, truthCoding: '38cloud', overviewPixels: 192 * 192, ...options }, async (viewer) => {
        const s = await get<ViewerSummary>(viewer, 'api/summary');
        assert.deepEqual(s.warnings, [], name);
        assert.deepEqual([s.cloud, s.clear, s.nodata], [whole.tp + whole.fp, whole.tn + whole.fn, whole.excluded], `${name}: cloud, clear, nodata`);
        assert.deepEqual(s.truth?.confusion, whole, name);
        const predictionCoding = options.maskCoding ?? 'wdcd';
        const { images: [evaluated] } = await evaluateFiles([{ prediction: file(name), truth }], { coding: '38cloud', predictionCoding });
        const { tp, fp, tn, fn, excluded } = evaluated!;
        assert.deepEqual({ tp, fp, tn, fn, excluded }, whole, `${name}: wdcd eval's matrix`);
        assert.equal(s.truth!.metrics.f1, evaluated!.f1, `${name}: the F1 of wdcd eval`);
        assert.equal((await get<ViewerInfo>(viewer, 'api/info')).mask.coding, predictionCoding, name);
        // The readout shows the stored value as nodata; a cloud pixel below stays cloud.
        assert.deepEqual((await get<PixelValues>(viewer, 'api/pixel?x=5&y=5')).mask, { value, class: 'nodata' }, name);
        // Row 5 is drawn as nodata (hatched), never as clear (transparent) or cloud, at full resolution (zoom 1) and in
        // the zoom 0 tile (its row 2 is the source row 5); the error layer draws nothing there.
        const nodataColours = [MASK_COLOURS.nodata, MASK_COLOURS.nodataStripe].map((c) => c.join());
        const full = await tilePixel(viewer, 'tiles/mask/1/0/0.png');
        const half = await tilePixel(viewer, 'tiles/mask/0/0/0.png');
        const errors = await tilePixel(viewer, 'tiles/errors/1/0/0.png');
        for (const x of [0, 5, 77, 200, 255]) {
          assert.ok(nodataColours.includes(full(x, 5).join()), `${name}: zoom 1 (${x}, 5) is ${full(x, 5)}`);
          assert.ok(nodataColours.includes(half(x >> 1, 2).join()), `${name}: zoom 0 (${x >> 1}, 2) is ${half(x >> 1, 2)}`);
          assert.equal(errors(x, 5)[3], 0, `${name}: no error drawn on the mask's nodata at (${x}, 5)`);
        }
        let cloudDrawn = 0;
        for (let y = 10; y < 256; y++) for (let x = 0; x < 256; x++) if (full(x, y).join() === MASK_COLOURS.cloud.join()) cloudDrawn++;
        assert.ok(cloudDrawn > 100, `${name}: cloud is drawn below the nodata rows`);
      });
    }
  });

  test('a mask declaring a nodata its coding reads as a class (1 in a 0/1 mask) is scored so, with the warning wdcd eval gives', async () => {
    const truth = join(CLOUD38, `gt_${PATCH}`);
    const { whole } = expected;
    await viewing({ mask: file('mask_nd1.tif'), truth, truthCoding: '38cloud' }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      assert.deepEqual([s.cloud, s.clear, s.nodata], [whole.tp + whole.fp, whole.tn + whole.fn, whole.excluded]);
      assert.deepEqual(s.truth?.confusion, whole);
      assert.equal(s.warnings.length, 1, s.warnings.join('\n'));
      assert.match(
        s.warnings[0]!,
        new RegExp(`mask_nd1\\.tif: the mask declares nodata 1, which the wdcd coding reads as cloud: its ${whole.tp + whole.fp} pixels of 1 are scored as cloud, not excluded\\. If they are no data, the coding is wrong for this file \\(--mask-coding\\)`),
      );
      const warnings: string[] = [];
      const { images: [evaluated] } = await evaluateFiles([{ prediction: file('mask_nd1.tif'), truth }], { coding: '38cloud', onWarning: (w) => warnings.push(w) });
      assert.equal(s.truth!.metrics.f1, evaluated!.f1, 'the F1 of wdcd eval');
      assert.ok(warnings.some((w) => /declares nodata 1, which the wdcd coding reads as cloud/.test(w)), 'wdcd eval warns the same');
      assert.equal((await get<PixelValues>(viewer, 'api/pixel?x=5&y=5')).mask.class, 'nodata', 'its 255 is still nodata');
    });
  });

  test('a palette PNG truth is read as its palette indices (index 1 drawn white is cloud, not 255)', async () => {
    await viewing({ truth: file('truth_palette.png'), truthCoding: 'approx' }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      assert.deepEqual(s.truth?.confusion, expected.whole);
    });
  });

  test('the mask given as its own truth is refused, not scored 100 %', async () => {
    await refused({ truth: file('mask.tif'), truthCoding: 'wdcd' }, /mask\.tif: is given as both the mask and its truth \(--truth\); it would score itself 100 %/);
  });

  test('--coding without --truth is refused (it is not the mask coding)', async () => {
    await refused({ truthCoding: '38cloud' }, /^--coding: is the coding of --truth, which is not given; the mask's coding is --mask-coding/);
  });

  test('a mask with an alpha band (gdalwarp -dstalpha) is viewed; its transparent pixels are nodata', async () => {
    await viewing({ mask: file('mask_alpha.tif') }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      const { whole } = expected;
      // Rows 0-9 are 255 (nodata) already; the transparent 50 x 50 corner adds its rows 10-49.
      assert.equal(s.nodata, whole.excluded + 40 * 50);
      assert.equal(s.cloud + s.clear + s.nodata, 384 * 384);
      assert.deepEqual((await get<PixelValues>(viewer, 'api/pixel?x=20&y=20')).mask, { value: null, class: 'nodata' });
      const tile = await sharp(Buffer.from(await (await fetch(new URL('tiles/mask/1/0/0.png', viewer.url))).arrayBuffer())).raw().toBuffer();
      assert.ok(tile[(20 * 256 + 20) * 4 + 3]! > 0, 'a transparent pixel is drawn as nodata');
    });
  });

  test('NaN in a float mask is drawn as nodata (not as clear); past the raster nothing is drawn', async () => {
    await viewing({ mask: file('mask_float.tif') }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      assert.equal(s.nodata, expected.whole.excluded);
      const alpha = async (tile: string) => {
        const data = await sharp(Buffer.from(await (await fetch(new URL(tile, viewer.url))).arrayBuffer())).raw().toBuffer();
        return (x: number, y: number) => data[(y * 256 + x) * 4 + 3]!;
      };
      const first = await alpha('tiles/mask/1/0/0.png');
      for (const x of [0, 77, 255]) assert.ok(first(x, 5) > 0, `nodata row 5, column ${x} is drawn`);
      // Tile (1, 1) of the 384 px patch at full resolution: its first 128 columns and rows are inside.
      const last = await alpha('tiles/mask/1/1/1.png');
      let inside = 0;
      let outside = 0;
      for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) (x < 128 && y < 128 ? (inside += last(x, y)) : (outside += last(x, y)));
      assert.ok(inside > 0, 'cloud inside is drawn');
      assert.equal(outside, 0, 'nothing past the raster');
    });
  });

  test('a float nodata value float32 cannot hold (-0.1) is fill in the image stretch and tiles and in the CAM', async () => {
    await viewing({ image: [file('red_nodata.tif')], cam: file('cam_nodata.tif') }, async (viewer) => {
      const info = await get<ViewerInfo>(viewer, 'api/info');
      assert.ok(info.image.bands[0]!.lo > 0.05, `stretch low ${info.image.bands[0]!.lo} is reflectance, not the fill`);
      assert.ok(info.cam && info.cam.lo >= 0.2 - 1e-6, `CAM low ${info.cam?.lo} is a score, not the fill`);
      const p = await get<PixelValues>(viewer, 'api/pixel?x=5&y=5');
      assert.equal(p.imageNodata, true);
      assert.equal(p.cam, null, 'no CAM score on its nodata');
      const tile = await sharp(Buffer.from(await (await fetch(new URL('tiles/image/1/0/0.png', viewer.url))).arrayBuffer())).raw().toBuffer();
      assert.equal(tile[(5 * 256 + 5) * 4 + 3], 0, 'fill is transparent');
      assert.equal(tile[(100 * 256 + 5) * 4 + 3], 255);
    });
  });

  test('a mask given as the CAM is shown with a warning', async () => {
    await viewing({ cam: file('mask.tif') }, async (viewer) => {
      const s = await get<ViewerSummary>(viewer, 'api/summary');
      assert.equal(s.warnings.length, 1);
      assert.match(s.warnings[0]!, /mask\.tif: holds only the values 0 and 1, like a mask, not an activation map/);
    });
    // A real CAM is not warned about.
    await viewing({ cam: file('cam_nodata.tif') }, async (viewer) => {
      assert.deepEqual((await get<ViewerSummary>(viewer, 'api/summary')).warnings, []);
    });
  });

  test('a 16-bit RGB PNG is shown as red, green, blue (a PNG stores them in that order)', async () => {
    await viewing({ image: [file('rgb16.png')] }, async (viewer) => {
      const info = await get<ViewerInfo>(viewer, 'api/info');
      assert.equal(info.image.sampleType, 'uint16');
      assert.deepEqual(info.image.rgb, [0, 1, 2]);
    });
  });
});
