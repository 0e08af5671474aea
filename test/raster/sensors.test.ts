import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { PRESETS, SENSORS, resolveBands } from '../../src/raster/index.js';

describe('sensor presets', () => {
  it('every preset resolves on an input with enough bands', () => {
    for (const s of SENSORS) {
      const r = resolveBands(s, 4);
      assert.equal(r.bands.length, PRESETS[s].channels.length);
      assert.equal(r.scale.length, r.bands.length);
    }
  });

  it('landsat8 is Collection 2 reflectance; rgb feeds blue, green, red', () => {
    const l8 = resolveBands('landsat8', 4);
    assert.deepEqual(l8.bands, [0, 1, 2, 3]);
    assert.ok(Math.abs(l8.scale[0] * 30000 + l8.offset[0] - 0.5) < 1e-12);
    const rgb = resolveBands('rgb', 3);
    assert.deepEqual(rgb.bands, [2, 1, 0]);
    assert.deepEqual(rgb.channels, ['blue', 'green', 'red']);
    assert.deepEqual(rgb.nodata, []);
  });

  it('sentinel-2 baseline 04.00 offset and landsat sun-elevation correction', () => {
    const s2 = resolveBands('sentinel2', 4, { sentinel2Baseline04: true });
    assert.ok(Math.abs(2000 * s2.scale[0] + s2.offset[0] - 0.1) < 1e-12);
    const l8 = resolveBands('landsat8', 4, { sunElevationDeg: 30 });
    assert.ok(Math.abs(l8.scale[0] - 4e-5) < 1e-15);
    assert.equal(l8.calibrated, true);
    // Without the sun angle, Landsat 8 DN are not yet the TOA reflectance the default model learned from.
    const noSun = resolveBands('landsat8', 4);
    assert.equal(noSun.calibrated, false);
    assert.match(noSun.uncalibrated!, /--sun-elevation/);
    assert.equal(resolveBands('landsat8', 4, { scale: 2e-5 }).calibrated, true, "the user's own scaling is taken as meant");
  });

  it('overrides and calibration', () => {
    const r = resolveBands('gf1-wfv', 6, { bands: [3, 2, 1, 6], scale: [1, 2, 3, 4], offset: 0.5, nodata: null });
    assert.deepEqual(r.bands, [2, 1, 0, 5]);
    assert.deepEqual(r.scale, [1, 2, 3, 4]);
    assert.deepEqual(r.offset, [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(r.nodata, [], 'null removes the preset fill');
    // --nodata adds to the preset's fill (0 outside a Landsat footprint stays no data with --nodata 65535)
    assert.deepEqual(resolveBands('landsat8', 4, { nodata: 65535 }).nodata, [0, 65535]);
    assert.deepEqual(resolveBands('rgb', 3, { nodata: 7 }).nodata, [7]);
    assert.equal(resolveBands('gf2', 4).calibrated, false);
    for (const option of ['scale', 'offset'] as const) {
      assert.throws(
        () => resolveBands('gf2', 4, { [option]: 2, calibration: { gain: [0.2], offset: [0], esun: [1000], sunElevationDeg: 40 } }),
        (e: unknown) => e instanceof InputError && e.path === `--${option}` && /--gain and --esun give the scaling already/.test(e.message),
      );
    }
    const c = resolveBands('gf2', 4, { calibration: { gain: [0.2, 0.2, 0.2, 0.2], offset: [0, 0, 0, 0], esun: [Math.PI * 100, 1, 1, 1], sunElevationDeg: 90 } });
    assert.ok(Math.abs(c.scale[0] - 0.002) < 1e-12);
    assert.equal(c.calibrated, true);
    // One value stands for every band, in a list too (the CLI's `--gain 0.2`).
    const one = resolveBands('gf2', 4, { calibration: { gain: [0.2], offset: [0], esun: [Math.PI * 100], sunElevationDeg: 90 } });
    assert.deepEqual(one.scale.map((v) => v.toFixed(12)), new Array(4).fill((0.002).toFixed(12)));
  });

  it('bad options are InputErrors that name the option', () => {
    assert.throws(() => resolveBands('modis', 4), (e: unknown) => e instanceof InputError && /unknown sensor "modis"/.test(e.message));
    assert.throws(() => resolveBands('landsat8', 3), (e: unknown) => e instanceof InputError && /--bands/.test(e.message));
    assert.throws(() => resolveBands('landsat8', 4, { scale: [1, 2] }), (e: unknown) => e instanceof InputError && /--scale/.test(e.message));
    // Options for another sensor's correction are refused, not ignored.
    assert.throws(() => resolveBands('landsat8', 4, { sentinel2Baseline04: true }), (e: unknown) => e instanceof InputError && e.path === '--s2-baseline04');
    assert.throws(() => resolveBands('gf1-wfv', 4, { sunElevationDeg: 40 }), (e: unknown) => e instanceof InputError && e.path === '--sun-elevation' && /--gain and --esun/.test(e.message));
    // A zero irradiance made blue infinite and the mask all clear, with no word.
    const calibration = { gain: [0.28, 0.26, 0.24, 0.22], offset: [0], esun: [1968, 1849, 1571, 1048], sunElevationDeg: 60 };
    for (const [option, bad] of [['--esun', { esun: [0, 1849, 1571, 1048] }], ['--gain', { gain: [0.28, -0.26, 0.24, 0.22] }]] as const) {
      assert.throws(() => resolveBands('gf1-wfv', 4, { calibration: { ...calibration, ...bad } }), (e: unknown) => e instanceof InputError && e.path === option && /above 0 for every band/.test(e.message));
    }
    assert.equal(resolveBands('gf1-wfv', 4, { calibration }).calibrated, true);
  });
});
