// GaoFen and ZiYuan L1A products have no geotransform: their pixels are placed by RPCs, in a `.rpb` beside the
// TIFF as CRESDA delivers them, in a `_rpc.txt`, or in the TIFF's RPC tag. A mask that dropped them could not be
// orthorectified with its image. GDAL is the reference reader of all three, and of the mask written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detect } from '../../src/detect/detect.js';
import { openRaster } from '../../src/raster/index.js';
import { parseRpb, parseRpcTxt, RPC_COUNT } from '../../src/raster/rpc.js';
import { DATA, gdal, gdalInfo, noGdal, tempDir } from './helpers.js';

const GF1 = `${DATA}/gf1/train/thick_slice/GF1_PMS1_E104.0_N41.1_20160314_L1A0001467562-MSS1.jpg`;

/** A .rpb written as CRESDA writes them: signed, zero-padded, exponent notation, one term per line. */
function rpbText(): string {
  // Terms 1, longitude, latitude, height, ...: lines run south with latitude, samples east with longitude, plus
  // small higher-order terms so that every coefficient is checked.
  const terms = (lead: number, sign: number) => Array.from({ length: 20 }, (_, i) => (i === lead ? sign : (i + 1) * 1.25e-5 * (i % 2 ? -1 : 1)));
  const list = (values: number[]) => `(\n${values.map((v) => `\t\t\t${v >= 0 ? '+' : ''}${v.toExponential(15).toUpperCase()}`).join(',\n')});`;
  const den = terms(0, 1);
  return [
    'satId = "GF1";', 'bandId = "MSS1";', 'SpecId = "RPC00B";', 'BEGIN_GROUP = IMAGE',
    '\terrBias =   1.0;', '\terrRand =    0.0;', '\tlineOffset = 000256;', '\tsampOffset = 000256;',
    '\tlatOffset =  +41.10250000;', '\tlongOffset = +104.02500000;', '\theightOffset = +1250.000;',
    '\tlineScale = 000256;', '\tsampScale = 000256;', '\tlatScale =   +0.02250000;', '\tlongScale = +0.03000000;',
    '\theightScale = +500.000;',
    `\tlineNumCoef = ${list(terms(2, -1))}`, `\tlineDenCoef = ${list(den)}`,
    `\tsampNumCoef = ${list(terms(1, 1))}`, `\tsampDenCoef = ${list(den)}`,
    'END_GROUP = IMAGE', 'END;', '',
  ].join('\n');
}

/** GDAL's RPC metadata as the tag's 92 numbers. */
function gdalRpc(path: string): number[] {
  const rpc = gdalInfo(path).metadata?.RPC;
  assert.ok(rpc, `GDAL reads RPCs from ${path}`);
  const scalars = ['ERR_BIAS', 'ERR_RAND', 'LINE_OFF', 'SAMP_OFF', 'LAT_OFF', 'LONG_OFF', 'HEIGHT_OFF', 'LINE_SCALE', 'SAMP_SCALE', 'LAT_SCALE', 'LONG_SCALE', 'HEIGHT_SCALE'];
  const polynomials = ['LINE_NUM_COEFF', 'LINE_DEN_COEFF', 'SAMP_NUM_COEFF', 'SAMP_DEN_COEFF'];
  return [...scalars.map((k) => Number(rpc[k])), ...polynomials.flatMap((k) => String(rpc[k]).trim().split(/\s+/).map(Number))];
}

function assertSameRpc(actual: readonly number[] | null | undefined, expected: number[], label: string): void {
  assert.ok(actual, `${label}: RPCs read`);
  assert.equal(actual.length, RPC_COUNT, label);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-12 * Math.max(1, Math.abs(expected[i]!)), `${label}: value ${i} ${v} against GDAL's ${expected[i]}`));
}

async function rpcOf(path: string) {
  const source = await openRaster([path]);
  await source.close();
  return source;
}

describe('RPCs of unrectified imagery (GaoFen L1A)', { skip: noGdal }, () => {
  const dir = tempDir();
  const withRpb = join(dir, 'GF1-MSS1.tiff');
  gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', GF1, withRpb);
  writeFileSync(join(dir, 'GF1-MSS1.rpb'), rpbText());

  it('are read from a .rpb, a _rpc.txt and the TIFF tag as GDAL reads them', async () => {
    const expected = gdalRpc(withRpb);
    assert.equal(expected[2], 256);
    assertSameRpc((await rpcOf(withRpb)).rpc, expected, '.rpb');
    // GDAL copies them into the tag of a GeoTIFF, or into a _RPC.TXT beside a baseline TIFF.
    const inTag = join(dir, 'tag.tif');
    gdal('gdal_translate', '-q', withRpb, inTag);
    const inTxt = join(dir, 'txt.tif');
    gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', '-co', 'RPCTXT=YES', withRpb, inTxt);
    assert.deepEqual(readdirSync(dir).filter((f) => /^(tag|txt)[._]/.test(f)).sort(), ['tag.tif', 'txt.tif', 'txt_RPC.TXT']);
    assertSameRpc((await rpcOf(inTag)).rpc, gdalRpc(inTag), 'tag');
    assertSameRpc((await rpcOf(inTxt)).rpc, gdalRpc(inTxt), '_rpc.txt');
    // Without any, none.
    const plain = join(dir, 'plain.tif');
    gdal('gdal_translate', '-q', GF1, plain);
    assert.equal((await rpcOf(plain)).rpc, null);
  });

  it('are carried into the mask and the CAM, which GDAL reads back with the same values', async () => {
    const mask = join(dir, 'mask.tif');
    const cam = join(dir, 'cam.tif');
    await detect([withRpb], { mask, cam, model: 'rgb' });
    const expected = gdalRpc(withRpb);
    for (const out of [mask, cam]) assertSameRpc(gdalRpc(out), expected, out);
    // Orthorectified by them, the mask lands on the image's grid.
    const warped = [withRpb, mask].map((path, i) => {
      const out = join(dir, `warped-${i}.vrt`);
      gdal('gdalwarp', '-q', '-rpc', '-t_srs', 'EPSG:4326', '-of', 'VRT', path, out);
      const info = gdalInfo(out);
      return { size: info.size, geoTransform: info.geoTransform };
    });
    assert.deepEqual(warped[1], warped[0]);
    assert.ok(Math.abs(warped[0]!.geoTransform[3] - 41.1) < 0.1, `placed near the .rpb's latitude: ${warped[0]!.geoTransform}`);
  });

  it('a sidecar that cannot be read is passed over with a warning, leaving the tag or nothing', async () => {
    const inTag = join(dir, 'broken.tif');
    gdal('gdal_translate', '-q', withRpb, inTag);
    writeFileSync(join(dir, 'broken.rpb'), rpbText().replace(/\tsampNumCoef[^;]*;\n/, ''));
    const withTag = await rpcOf(inTag);
    assert.equal(withTag.rpc?.length, RPC_COUNT);
    assert.match(withTag.warnings?.join() ?? '', /RPC file broken\.rpb could not be read \(no sampNumCoef\); the RPCs of the TIFF's own tag are carried/);
    const bare = join(dir, 'bare.tiff');
    copyFileSync(join(dir, 'plain.tif'), bare);
    writeFileSync(join(dir, 'bare_rpc.txt'), 'LINE_OFF: 256\nSAMP_OFF: 256\n');
    const without = await rpcOf(bare);
    assert.equal(without.rpc, null);
    assert.match(without.warnings?.join() ?? '', /RPC file bare_rpc\.txt could not be read \(no LAT_OFF\), so the outputs carry no RPCs/);
  });

  it('parsers refuse a wrong number of terms and zero scales', () => {
    assert.match(String(parseRpb(rpbText().replace(/,\n[^,]*\);\n\tlineDenCoef/, ');\n\tlineDenCoef'))), /lineNumCoef has 19 terms/);
    assert.match(String(parseRpb(rpbText().replace('lineScale = 000256', 'lineScale = 0'))), /zero scale/);
    assert.match(String(parseRpcTxt('')), /no LINE_OFF/);
  });
});
