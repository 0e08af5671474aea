import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { checkBandFiles, earthSunDistance, readProductMetadata } from '../../src/raster/product-metadata.js';
import { resolveBands } from '../../src/raster/sensors.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'metadata');
const L1 = join(FIXTURES, 'LC08_L1TP_013031_20151022_20200908_02_T1_MTL.txt');
const readText = (path: string) => readFileSync(path, 'utf8');
const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 1e-12 * Math.max(1, Math.abs(b[i])));
const inputError = (pattern: RegExp, path?: string) => (e: unknown) =>
  e instanceof InputError && pattern.test(e.message) && (path === undefined || e.path === path);

describe('product metadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-mtl-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('Landsat 8 Level-1 MTL: band 2-5 coefficients over the sine of the sun elevation', () => {
    const m = readProductMetadata(L1);
    const sin = Math.sin((37.56247232 * Math.PI) / 180);
    assert.equal(m.sensor, 'landsat8');
    assert.equal(m.surface, false);
    assert.equal(m.product, 'LANDSAT_8 L1TP TOA reflectance');
    assert.ok(close(m.scale, [2e-5 / sin, 2e-5 / sin, 2e-5 / sin, 2e-5 / sin]), String(m.scale));
    assert.ok(close(m.offset, [-0.1 / sin, -0.1 / sin, -0.1 / sin, -0.1 / sin]), String(m.offset));
    assert.deepEqual(m.channelBands, ['B2', 'B3', 'B4', 'B5']);
    assert.equal(m.fileBands['lc08_l1tp_013031_20151022_20200908_02_t1_b4'], 'B4');
    // The sensor preset takes the metadata's scaling whole.
    const r = resolveBands('landsat8', 4, { metadata: m });
    assert.ok(close(r.scale, m.scale) && close(r.offset, m.offset) && r.calibrated);
    assert.deepEqual(r.nodata, [0]);
  });

  it('Landsat 9 Level-2 MTL.json: the surface reflectance group, not the Level-1 one, and no sun term', () => {
    const m = readProductMetadata(join(FIXTURES, 'LC09_L2SP_013031_20221030_20221101_02_T1_MTL.json'));
    assert.equal(m.surface, true);
    assert.equal(m.product, 'LANDSAT_9 L2SP surface reflectance');
    assert.ok(close(m.scale, [2.75e-5, 2.75e-5, 2.75e-5, 2.75e-5]) && close(m.offset, [-0.2, -0.2, -0.2, -0.2]));
    assert.equal(m.fileBands['lc09_l2sp_013031_20221030_20221101_02_t1_sr_b5'], 'B5');
  });

  it('Landsat 7 MTL: bands 1-4, each its own coefficients, for the landsat7 preset', () => {
    const m = readProductMetadata(join(FIXTURES, 'LE07_L1TP_013031_20021015_20200916_02_T1_MTL.txt'));
    const sin = Math.sin((36.2 * Math.PI) / 180);
    assert.equal(m.sensor, 'landsat7');
    assert.deepEqual(m.channelBands, ['B1', 'B2', 'B3', 'B4']);
    assert.ok(close(m.scale, [1.1806e-3, 1.2602e-3, 1.2312e-3, 1.8772e-3].map((v) => v / sin)), String(m.scale));
    assert.ok(close(m.offset, [-0.008413, -0.010396, -0.008902, -0.012601].map((v) => v / sin)), String(m.offset));
    assert.ok(resolveBands('landsat7', 4, { metadata: m }).calibrated);
    // Without it the 8-bit DN have no fixed scaling.
    assert.match(resolveBands('landsat7', 4).uncalibrated ?? '', /give --metadata/);
  });

  it('Sentinel-2: L1C offsets by band_id (B02 B03 B04 B08), L2A before baseline 04.00 without offsets', () => {
    const l1c = readProductMetadata(join(FIXTURES, 'MTD_MSIL1C.xml'));
    assert.equal(l1c.sensor, 'sentinel2');
    assert.equal(l1c.product, 'Sentinel-2 L1C TOA reflectance, baseline 05.09');
    assert.ok(close(l1c.scale, [1e-4, 1e-4, 1e-4, 1e-4]) && close(l1c.offset, [-0.1, -0.1, -0.1, -0.1]));
    assert.equal(l1c.fileBands['t31tdh_20230612t103629_b08'], 'B08');
    assert.equal(l1c.fileBands['t31tdh_20230612t103629_b8a'], 'B8A');
    const l2a = readProductMetadata(join(FIXTURES, 'MTD_MSIL2A.xml'));
    assert.equal(l2a.surface, true);
    assert.ok(close(l2a.offset, [0, 0, 0, 0]));
    assert.equal(l2a.fileBands['t31tdh_20200315t103639_b03_10m'], 'B03');
    // One band's offset changed: only that band's offset follows.
    const edited = join(dir, 'MTD_MSIL1C.xml');
    writeFileSync(edited, readText(join(FIXTURES, 'MTD_MSIL1C.xml')).replace('<RADIO_ADD_OFFSET band_id="7">-1000', '<RADIO_ADD_OFFSET band_id="7">-500'));
    assert.ok(close(readProductMetadata(edited).offset, [-0.1, -0.1, -0.1, -0.05]));
  });

  it('GaoFen-1 XML: the sensor, the sun angle and the Earth-Sun distance complete --gain/--esun', () => {
    const m = readProductMetadata(join(FIXTURES, 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030.xml'));
    assert.equal(m.sensor, 'gf1-wfv');
    assert.equal(m.product, 'GF1 WFV3 LEVEL1A DN, sun elevation 64.83 degrees');
    assert.equal(m.scale, undefined);
    assert.ok(Math.abs(m.sunElevationDeg! - 64.8293) < 1e-9);
    // 24 June is day 175, near aphelion (about 1.0167 AU on 4 July).
    assert.ok(Math.abs(m.earthSunDistance! - (1 - 0.01672 * Math.cos((0.9856 * 171 * Math.PI) / 180))) < 1e-12);
    assert.ok(m.earthSunDistance! > 1.016 && m.earthSunDistance! < 1.017);
    // Without gains the DN stay uncalibrated, and the message says what is missing.
    const raw = resolveBands('gf1-wfv', 4, { metadata: m });
    assert.equal(raw.calibrated, false);
    assert.match(raw.uncalibrated!, /give --gain and --esun; .*GF1_WFV3.*\.xml gives the sun angle/);
    // With them: the same reflectance as giving the sun angle and distance by hand.
    const gains = { gain: [0.2, 0.18, 0.16, 0.14], offset: [0], esun: [1950, 1840, 1550, 1090] };
    const viaMetadata = resolveBands('gf1-wfv', 4, { metadata: m, calibration: gains });
    const byHand = resolveBands('gf1-wfv', 4, { calibration: { ...gains, sunElevationDeg: m.sunElevationDeg, earthSunDistance: m.earthSunDistance } });
    assert.ok(viaMetadata.calibrated && close(viaMetadata.scale, byHand.scale));
    assert.ok(!close(viaMetadata.scale, resolveBands('gf1-wfv', 4, { calibration: { ...gains, sunElevationDeg: m.sunElevationDeg } }).scale), 'the distance counts');
    assert.throws(() => resolveBands('gf1-wfv', 4, { metadata: m, calibration: { ...gains, sunElevationDeg: 50 } }), inputError(/gives it already; leave it out/, '--sun-elevation'));
    assert.throws(() => resolveBands('gf1-pms', 4, { metadata: m }), inputError(/applies to --sensor gf1-wfv, not gf1-pms/));
    assert.throws(() => resolveBands('gf1-wfv', 4, { calibration: gains }), inputError(/needs --sun-elevation \(or --metadata/, '--sun-elevation'));
  });

  it('ZiYuan-3 MUX XML, in SASMAC\'s layout or CRESDA\'s: the sun elevation and the date', () => {
    const zy = join(FIXTURES, 'ZY3_MUX_sensor_corrected.xml');
    const m = readProductMetadata(zy);
    assert.equal(m.sensor, 'zy3');
    assert.equal(m.product, 'ZY3 MUX SC DN, sun elevation 41.28 degrees');
    assert.equal(m.sunElevationDeg, 41.276);
    // 10 March is day 70.
    assert.ok(Math.abs(m.earthSunDistance! - earthSunDistance(70)) < 1e-12);
    const gains = { gain: [0.2, 0.18, 0.16, 0.14], offset: [0], esun: [1950, 1840, 1550, 1090] };
    const byHand = resolveBands('zy3', 4, { calibration: { ...gains, sunElevationDeg: 41.276, earthSunDistance: earthSunDistance(70) } });
    assert.ok(close(resolveBands('zy3', 4, { metadata: m, calibration: gains }).scale, byHand.scale));
    assert.throws(() => resolveBands('gf1-wfv', 4, { metadata: m }), inputError(/applies to --sensor zy3, not gf1-wfv/));
    // Older products date the scene only in TimeStamp/CenterTime, written without separators.
    const compact = join(dir, 'ZY3_compact.xml');
    writeFileSync(compact, readText(zy).replace(/ *<AcquisitionTime>.*\n/, '').replace('<CenterTime>20120310', '<CenterTime>20120930'));
    assert.ok(Math.abs(readProductMetadata(compact).earthSunDistance! - earthSunDistance(274)) < 1e-12);
    // ZiYuan-3 as CRESDA distributes it: the GaoFen layout.
    const cresda = join(dir, 'ZY3_MUX_E116.4_N39.9_20200412_L1A0004512345.xml');
    writeFileSync(cresda, '<ProductMetaData><SatelliteID>ZY3-02</SatelliteID><SensorID>MUX</SensorID><CenterTime>2020-04-12 03:10:00</CenterTime><SolarZenith>35</SolarZenith></ProductMetaData>');
    const c = readProductMetadata(cresda);
    assert.equal(c.sensor, 'zy3');
    assert.equal(c.sunElevationDeg, 55);
    // A panchromatic camera's XML is refused with the reason.
    const nadir = join(dir, 'ZY3_NAD.xml');
    writeFileSync(nadir, readText(zy).replace('<SensorID>MUX', '<SensorID>NAD'));
    assert.throws(() => readProductMetadata(nadir), inputError(/SensorID NAD \(a panchromatic camera: one band, no blue, green, red and NIR\): of ZiYuan-3 metadata, wdcd reads the multispectral camera's \(MUX\)/, nadir));
    const night = join(dir, 'ZY3_night.xml');
    writeFileSync(night, readText(zy).replace('<SunAltitude>41.276', '<SunAltitude>-2'));
    assert.throws(() => readProductMetadata(night), inputError(/SunAltitude -2 is not a sun above the horizon/, night));
    const undated = join(dir, 'ZY3_undated.xml');
    writeFileSync(undated, readText(zy).replace(/ *<(AcquisitionTime|StartTime|CenterTime)>.*\n/g, ''));
    assert.throws(() => readProductMetadata(undated), inputError(/AcquisitionTime is missing/, undated));
  });

  it('band files in the wrong order are refused, naming the file; files the metadata does not list are not checked', () => {
    const m = readProductMetadata(L1);
    const file = (b: number) => `/data/LC08_L1TP_013031_20151022_20200908_02_T1_B${b}.TIF`;
    checkBandFiles(m, [2, 3, 4, 5].map(file), [0, 1, 2, 3], ['blue', 'green', 'red', 'nir']);
    assert.throws(
      () => checkBandFiles(m, [4, 3, 2, 5].map(file), [0, 1, 2, 3], ['blue', 'green', 'red', 'nir']),
      inputError(/is band B4 in LC08_.*_MTL\.txt, but it would go to the model as blue \(B2\): give the band files in the order B2 B3 B4 B5/, file(4)),
    );
    // --bands can put them right.
    checkBandFiles(m, [4, 3, 2, 5].map(file), [2, 1, 0, 3], ['blue', 'green', 'red', 'nir']);
    checkBandFiles(m, ['/data/b4.tif', '/data/b3.tif', '/data/b2.tif', '/data/b5.tif'], [0, 1, 2, 3], ['blue', 'green', 'red', 'nir']);
  });

  it('bad metadata: a clear error naming the file and what is wrong', () => {
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const l1 = readText(L1);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing_MTL.txt'), /cannot read the metadata file \(ENOENT\)/],
      [write('notes.txt', 'hello'), /is not a metadata file wdcd reads/],
      [write('mss_MTL.txt', l1.replace('"LANDSAT_8"', '"LANDSAT_1"')), /SPACECRAFT_ID is LANDSAT_1: wdcd reads the MTL files of LANDSAT_8, LANDSAT_9, LANDSAT_7, LANDSAT_5, LANDSAT_4/],
      [write('noadd_MTL.txt', l1.replace(/ {4}REFLECTANCE_ADD_BAND_4 = .*\n/, '')), /REFLECTANCE_ADD_BAND_4 is missing in LEVEL1_RADIOMETRIC_RESCALING/],
      [write('night_MTL.txt', l1.replace('SUN_ELEVATION = 37.56247232', 'SUN_ELEVATION = -3.2')), /SUN_ELEVATION -3.2 is not above the horizon/],
      [write('GF6_WFV.xml', '<ProductMetaData><SatelliteID>GF6</SatelliteID><SensorID>WFV</SensorID></ProductMetaData>'), /SatelliteID GF6, SensorID WFV: wdcd reads the XML of GaoFen-1 WFV and PMS, GaoFen-2 PMS and ZiYuan-3 MUX/],
      [write('GF2_night.xml', '<ProductMetaData><SatelliteID>GF2</SatelliteID><SensorID>PMS1</SensorID><SolarZenith>95.5</SolarZenith></ProductMetaData>'), /SolarZenith 95.5 is not a sun above the horizon/],
      [write('GF2_undated.xml', '<ProductMetaData><SatelliteID>GF2</SatelliteID><SensorID>PMS1</SensorID><SolarZenith>35.5</SolarZenith></ProductMetaData>'), /CenterTime is missing/],
      [write('LC08_MTL.xml', '<?xml version="1.0"?>\n<LANDSAT_METADATA_FILE>\n  <PRODUCT_CONTENTS/>\n</LANDSAT_METADATA_FILE>'), /is a Landsat MTL\.xml; give the product's MTL\.txt or MTL\.json/],
      [write('bad.json', '{"LANDSAT_METADATA_FILE": {'), /is not valid JSON/],
      [write('MTD_MSIL1C.xml', readText(join(FIXTURES, 'MTD_MSIL1C.xml')).replace(/<RADIO_ADD_OFFSET band_id="3">-1000<\/RADIO_ADD_OFFSET>/, '')), /RADIO_ADD_OFFSET of band_id 3 is missing/],
    ];
    for (const [path, pattern] of cases) assert.throws(() => readProductMetadata(path), inputError(pattern, path), path);
  });

  it('the metadata gives the scaling: another sensor or another scaling option is refused', () => {
    const m = readProductMetadata(L1);
    assert.throws(() => resolveBands('sentinel2', 4, { metadata: m }), inputError(/describes LANDSAT_8 L1TP TOA reflectance: it applies to --sensor landsat8, not sentinel2/, L1));
    assert.throws(() => resolveBands('landsat8', 4, { metadata: m, sunElevationDeg: 40 }), inputError(/gives the scaling already; leave out --sun-elevation/, '--sun-elevation'));
    assert.throws(() => resolveBands('landsat8', 4, { metadata: m, scale: 1e-4 }), inputError(/leave out --scale/, '--scale'));
  });
});
