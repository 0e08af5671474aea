/**
 * The spectral guards (model.json detection.darkGuard, hotGuard and waterGuard): a pixel whose red reflectance is
 * below 0.08, whose blue - 0.5 red is below 0.08, or whose NIR reflectance is below 0.05 is never cloud; every
 * other pixel keeps the plain CAM >= T decision, and nodata stays 255.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveThreshold, sceneCam, thresholdRows } from '../../src/detect/detect.js';
import { guardsOf, ruleOutRow } from '../../src/detect/spectral-guards.js';
import { InputError } from '../../src/errors.js';
import { loadModel } from '../../src/model/model-file.js';
import { Random } from '../../src/random.js';
import { openRaster } from '../../src/raster/open.js';
import { tinyModel } from '../model/tiny-model.js';

const DATA = '/work/shared/data';
// Cloud over a city with dark ground between: the activation map spills onto some of it.
const URBAN = `${DATA}/l8biome/val/images/Urban_03_0619.tif`;
// Cloud beside bright red bare soil.
const SOIL = `${DATA}/l8biome/test/images/GrassCrops_09_2014.tif`;
// Cloud beside water that is brighter than 0.08 in red: the map spills onto it (a training scene of the default).
const WATER = `${DATA}/l8biome/train/images/GrassCrops_02_0608.tif`;

const isDark = (red: number) => red < 0.08;
const failsHot = (blue: number, red: number) => blue - 0.5 * red < 0.08;
const isWater = (nir: number) => nir < 0.05;
const NO_GUARDS = { darkGuard: null, hotGuard: null, waterGuard: null };

describe('spectral guards', () => {
  it('thresholdRows: a ruled-out pixel is clear, nodata stays nodata, the rest follows CAM >= T', () => {
    const cam = Float32Array.from([5, 5, -1, 5, -1]);
    const valid = Uint8Array.from([1, 1, 1, 0, 1]);
    const ruledOut = Uint8Array.from([0, 1, 1, 1, 0]);
    assert.deepEqual([...thresholdRows(cam, valid, 0, ruledOut)], [1, 0, 0, 255, 0]);
    assert.deepEqual([...thresholdRows(cam, valid, 0)], [1, 1, 0, 255, 0]);
  });

  it('guardsOf: the tests in reflectance, carried to normalised input; overrides; a missing band named', () => {
    const normalization = { mean: [0.12, 0.11, 0.1, 0.2], std: [0.05, 0.06, 0.08, 0.1] };
    const model = tinyModel(undefined, { normalization });
    model.description.detection.darkGuard = { band: 'red', reflectance: 0.08 };
    model.description.detection.hotGuard = { offset: 0.08 };
    model.description.detection.waterGuard = { reflectance: 0.05 };
    const n = 2000;
    const random = new Random(3);
    const reflectance = Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => random.next() * 0.4));
    const planes = new Float32Array(4 * n);
    reflectance.forEach((r, c) => r.forEach((v, i) => (planes[c * n + i] = (v - normalization.mean[c]) / normalization.std[c])));
    const flags = (overrides: Parameters<typeof guardsOf>[1]) => {
      const out = new Uint8Array(n);
      ruleOutRow(guardsOf(model, overrides), planes, n, 0, n, out);
      return out;
    };
    const [blue, , red, nir] = reflectance;
    const near = (i: number) => Math.abs(red[i] - 0.08) < 1e-5 || Math.abs(blue[i] - 0.5 * red[i] - 0.08) < 1e-5 || Math.abs(nir[i] - 0.05) < 1e-5;
    const cases: [Parameters<typeof guardsOf>[1], (i: number) => boolean][] = [
      [{}, (i) => isDark(red[i]) || failsHot(blue[i], red[i]) || isWater(nir[i])],
      [{ hotGuard: null, waterGuard: null }, (i) => isDark(red[i])],
      [{ darkGuard: null, waterGuard: null }, (i) => failsHot(blue[i], red[i])],
      [{ darkGuard: null, hotGuard: 0.02, waterGuard: null }, (i) => blue[i] - 0.5 * red[i] < 0.02],
      [{ darkGuard: 0.15, hotGuard: null, waterGuard: null }, (i) => red[i] < 0.15],
      [{ darkGuard: null, hotGuard: null }, (i) => isWater(nir[i])],
      [{ darkGuard: null, hotGuard: null, waterGuard: 0.2 }, (i) => nir[i] < 0.2],
    ];
    for (const [overrides, expected] of cases) {
      const out = flags(overrides);
      let ruled = 0;
      for (let i = 0; i < n; i++) {
        if (!near(i)) assert.equal(out[i] === 1, expected(i), `${JSON.stringify(overrides)} pixel ${i}`);
        ruled += out[i];
      }
      assert.ok(ruled > 0.1 * n && ruled < 0.9 * n, `${JSON.stringify(overrides)} rules out ${ruled} of ${n}`);
    }
    assert.deepEqual(guardsOf(model, NO_GUARDS), []);

    const rgbNames = tinyModel(undefined, { bands: ['r', 'g', 'b', 'nir'] });
    rgbNames.description.detection.hotGuard = { offset: 0.08 };
    assert.throws(() => guardsOf(rgbNames), (e: unknown) => e instanceof InputError && e.path === '--hot-guard' && /no blue band/.test(e.message));
    assert.deepEqual(guardsOf(rgbNames, { hotGuard: null }), []);
    const noNir = tinyModel(undefined, { bands: ['blue', 'green', 'red', 'b4'] });
    assert.throws(() => guardsOf(noNir, { waterGuard: 0.05 }), (e: unknown) => e instanceof InputError && e.path === '--water-guard' && /no nir band/.test(e.message));
  });

  for (const [name, scene, guard, value] of [['dark', URBAN, 'darkGuard', 0.08], ['HOT', SOIL, 'hotGuard', 0.08], ['water', WATER, 'waterGuard', 0.05]] as const) {
    it(`on a real L8 Biome scene: the ${name} guard removes cloud only where its test fails, and some of it`, async () => {
      const model = loadModel('default');
      assert.deepEqual(model.description.detection.darkGuard, { band: 'red', reflectance: 0.08 });
      assert.deepEqual(model.description.detection.hotGuard, { offset: 0.08 });
      assert.deepEqual(model.description.detection.waterGuard, { reflectance: 0.05 });
      const { threshold } = resolveThreshold(model, {});
      const guarded = await sceneCam([scene], { model, ...NO_GUARDS, [guard]: value });
      const plain = await sceneCam([scene], { model, ...NO_GUARDS });
      assert.ok(guarded.ruledOut && !plain.ruledOut);
      assert.deepEqual(guarded.cam, plain.cam, 'the guards leave the activation map alone');
      const source = await openRaster([scene]);
      const [blue, , red, nir] = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [0, 1, 2, 3]);
      await source.close();
      const fails = (i: number) => (guard === 'darkGuard' ? isDark(red[i]) : guard === 'hotGuard' ? failsHot(blue[i], red[i]) : isWater(nir[i]));
      const withGuard = thresholdRows(guarded.cam, guarded.valid, threshold, guarded.ruledOut);
      const without = thresholdRows(plain.cam, plain.valid, threshold);
      let removed = 0;
      for (let i = 0; i < red.length; i++) {
        assert.equal(guarded.ruledOut![i] === 1, guarded.valid[i] === 1 && fails(i), `pixel ${i}: flag vs blue ${blue[i]}, red ${red[i]}, nir ${nir[i]}`);
        if (withGuard[i] !== without[i]) {
          assert.ok(without[i] === 1 && withGuard[i] === 0 && fails(i), `pixel ${i} changed but blue is ${blue[i]}, red ${red[i]}, nir ${nir[i]}`);
          removed++;
        }
      }
      assert.ok(removed > 100, `the guard removes cloud the activation map put where cloud cannot be (${removed} pixels)`);
      assert.ok(withGuard.some((v) => v === 1), 'cloud stays cloud');
    });
  }
});
