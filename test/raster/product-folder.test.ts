// A product folder given in place of band files: its metadata is found, the model's bands are taken by the names
// it gives them, and the mask is the one of the same files given in order with --metadata.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { readProductFolder } from '../../src/raster/product-folder.js';
import { readProductMetadata } from '../../src/raster/product-metadata.js';
import { REPO, show, wdcd } from '../cli/helpers.js';
import { gdal, noGdal, tempDir } from './helpers.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'metadata');
const CLOUD38 = '/work/shared/data/landsat8-38cloud';
const PATCH = 'patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF';
/** Real Landsat 8 DN (38-Cloud), blue, green, red, NIR. */
const DN = ['blue', 'green', 'red', 'nir'].map((c) => join(CLOUD38, `${c}_${PATCH}`));
const L8 = 'LC08_L1TP_013031_20151022_20200908_02_T1';
const S2 = 'T31TDH_20230612T103629';
const S2_GRANULE = 'GRANULE/L1C_T31TDH_A032669_20230612T104350/IMG_DATA';

/** An unpacked Landsat 8 product: MTL.txt, B1-B7 (B1, B6 and B7 are decoys holding other bands' pixels), QA. */
function landsatFolder(dir: string): string {
  const folder = join(dir, L8);
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, `${L8}_MTL.txt`), join(folder, `${L8}_MTL.txt`));
  const files: Record<string, string> = { B1: DN[3], B2: DN[0], B3: DN[1], B4: DN[2], B5: DN[3], B6: DN[0], B7: DN[1], QA_PIXEL: DN[2] };
  for (const [band, from] of Object.entries(files)) copyFileSync(from, join(folder, `${L8}_${band}.TIF`));
  return folder;
}

describe('product folders', () => {
  it('a Landsat folder: B2-B5 by the MTL\'s names, the same mask as the files with --metadata', async () => {
    const dir = tempDir();
    const folder = landsatFolder(dir);
    const product = readProductFolder(folder);
    assert.deepEqual(product.inputs, ['B2', 'B3', 'B4', 'B5'].map((b) => join(folder, `${L8}_${b}.TIF`)));
    const logs: string[] = [];
    const fromFolder = await detect([folder], { mask: join(dir, 'folder.tif'), onProgress: (e) => e.kind === 'log' && logs.push(e.message) });
    const fromFiles = await detect(product.inputs, { mask: join(dir, 'files.tif'), metadata: readProductMetadata(join(folder, `${L8}_MTL.txt`)) });
    assert.deepEqual(fromFolder.inputs, product.inputs);
    assert.equal(fromFolder.metadata?.file, join(folder, `${L8}_MTL.txt`));
    assert.equal(fromFolder.sensor, 'landsat8');
    assert.equal(fromFolder.cloudFraction, fromFiles.cloudFraction);
    assert.ok(readFileSync(join(dir, 'folder.tif')).equals(readFileSync(join(dir, 'files.tif'))), 'identical masks');
    assert.ok(logs.some((m) => m.includes(`${L8}_B2.TIF, ${L8}_B3.TIF`) && m.includes('_MTL.txt')), logs.join('\n'));
    // The folder's alphabetical B1 B2 B3 B4 would be refused: the metadata's names decide.
    await assert.rejects(
      detect(['B1', 'B2', 'B3', 'B4'].map((b) => join(folder, `${L8}_${b}.TIF`)), { mask: join(dir, 'wrong.tif'), metadata: readProductMetadata(join(folder, `${L8}_MTL.txt`)) }),
      /is band B1/,
    );
  });

  it('a Sentinel-2 SAFE: bands from GRANULE/.../IMG_DATA, GeoTIFF preferred over JPEG 2000; a band only in JPEG 2000 is read from it', { skip: noGdal }, async () => {
    const dir = tempDir();
    const safe = join(dir, 'S2A_MSIL1C_20230612T103629_N0509_R008_T31TDH_20230612T124122.SAFE');
    mkdirSync(join(safe, S2_GRANULE), { recursive: true });
    copyFileSync(join(FIXTURES, 'MTD_MSIL1C.xml'), join(safe, 'MTD_MSIL1C.xml'));
    ['B02', 'B03', 'B04', 'B08'].forEach((b, i) => {
      copyFileSync(DN[i], join(safe, S2_GRANULE, `${S2}_${b}.tif`));
      gdal('gdal_translate', '-q', '-of', 'JP2OpenJPEG', '-co', 'REVERSIBLE=YES', '-co', 'QUALITY=100', DN[i], join(safe, S2_GRANULE, `${S2}_${b}.jp2`));
    });
    copyFileSync(DN[0], join(safe, S2_GRANULE, `${S2}_B01.tif`));
    const product = readProductFolder(safe);
    assert.equal(product.metadata.sensor, 'sentinel2');
    assert.deepEqual(product.inputs, ['B02', 'B03', 'B04', 'B08'].map((b) => join(safe, S2_GRANULE, `${S2}_${b}.tif`)));
    const summary = await detect([safe], { mask: join(dir, 's2.tif') });
    assert.deepEqual(summary.inputs, product.inputs);
    assert.match(summary.metadata!.product, /Sentinel-2/i);
    // Only the JPEG 2000 of B03 left (the same pixels, losslessly): it is chosen and read, the mask unchanged.
    unlinkSync(join(safe, S2_GRANULE, `${S2}_B03.tif`));
    const fromJp2 = await detect([safe], { mask: join(dir, 's2b.tif') });
    assert.equal(fromJp2.inputs[1], join(safe, S2_GRANULE, `${S2}_B03.jp2`));
    assert.equal(fromJp2.cloudFraction, summary.cloudFraction);
  });

  it('a GaoFen folder: the multispectral TIFF beside its XML, the panchromatic pair skipped', async () => {
    const dir = tempDir();
    const folder = join(dir, 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030');
    mkdirSync(folder);
    const name = 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030';
    copyFileSync(join(FIXTURES, `${name}.xml`), join(folder, `${name}.xml`));
    copyFileSync(join(FIXTURES, `${name}.xml`), join(folder, `${name}-PAN.xml`));
    writeFileSync(join(folder, `${name}.tiff`), readFileSync(DN[0]));
    writeFileSync(join(folder, `${name}-PAN.tiff`), readFileSync(DN[0]));
    const product = readProductFolder(folder);
    assert.deepEqual(product.inputs, [join(folder, `${name}.tiff`)]);
    assert.equal(product.metadata.sensor, 'gf1-wfv');
  });

  it('refused, naming the folder: no metadata, two products, a band missing, --metadata beside a folder, a folder among files', async () => {
    const dir = tempDir();
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'x');
    assert.throws(() => readProductFolder(empty), (e: Error) => e.message.includes(empty) && /without product metadata/.test(e.message));
    const folder = landsatFolder(dir);
    // The folder above products: they are named, one or several.
    assert.throws(() => readProductFolder(dir), (e: Error) => e.message.includes(dir) && new RegExp(`holds a product one folder down \\(${L8}\\); give that folder`).test(e.message));
    mkdirSync(join(dir, 'other'));
    copyFileSync(join(FIXTURES, 'MTD_MSIL1C.xml'), join(dir, 'other', 'MTD_MSIL1C.xml'));
    assert.throws(() => readProductFolder(dir), new RegExp(`holds 2 products \\(${L8}, other\\), not one; give each product's folder`));
    copyFileSync(join(FIXTURES, 'LC09_L2SP_013031_20221030_20221101_02_T1_MTL.json'), join(folder, 'LC09_L2SP_013031_20221030_20221101_02_T1_MTL.txt'));
    assert.throws(() => readProductFolder(folder), /more than one product/);
    unlinkSync(join(folder, 'LC09_L2SP_013031_20221030_20221101_02_T1_MTL.txt'));
    unlinkSync(join(folder, `${L8}_B4.TIF`));
    assert.throws(() => readProductFolder(folder), (e: Error) => e.message.includes(folder) && /no image of band B4.*_b4/i.test(e.message));
    await assert.rejects(
      detect([folder], { mask: join(dir, 'm.tif'), metadata: readProductMetadata(join(folder, `${L8}_MTL.txt`)) }),
      /product folder, which brings its own metadata/,
    );
    await assert.rejects(detect([folder, DN[0]], { mask: join(dir, 'm.tif') }), /is a folder, not a raster file \(a product folder is read when it is the only input/);
  });

  it('wdcd detect -O with product folders: one mask per folder, named after it', async () => {
    const dir = tempDir();
    const a = landsatFolder(dir);
    const out = join(dir, 'masks');
    const r = await wdcd(['detect', a, '-O', out, '-q', '--json']);
    assert.equal(r.code, 0, show(r));
    const [summary, ...more] = JSON.parse(r.stdout);
    assert.equal(more.length, 0);
    assert.equal(summary.outputs.mask, join(out, `${L8}_mask.tif`));
    assert.equal(summary.sensor, 'landsat8');
    // --metadata beside folders is refused before the first scene, not once per scene.
    const r2 = await wdcd(['detect', a, DN[0], '-O', join(dir, 'masks2'), '--metadata', join(FIXTURES, `${L8}_MTL.txt`)]);
    assert.equal(r2.code, 2, show(r2));
    assert.match(r2.stderr, /product folder, which brings its own metadata/);
    assert.doesNotMatch(r2.stderr, /skipped/);
  });
});
