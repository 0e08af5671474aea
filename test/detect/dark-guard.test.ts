/**
 * The dark guard (model.json detection.darkGuard): with the bundled default, pixels whose red reflectance is
 * below 0.08 are never cloud; every other pixel keeps the plain CAM >= T decision, and nodata stays 255.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveThreshold, sceneCam, thresholdRows } from '../../src/detect/detect.js';
import { loadModel } from '../../src/model/model-file.js';
import { openRaster } from '../../src/raster/open.js';

const DATA = '/work/shared/data';
// Cloud over a city with dark ground between: the activation map spills onto some of it.
const SCENE = `${DATA}/l8biome/val/images/Urban_03_0619.tif`;

describe('dark guard', () => {
  it('thresholdRows: a dark pixel is clear, nodata stays nodata, the rest follows CAM >= T', () => {
    const cam = Float32Array.from([5, 5, -1, 5, -1]);
    const valid = Uint8Array.from([1, 1, 1, 0, 1]);
    const dark = Uint8Array.from([0, 1, 1, 1, 0]);
    assert.deepEqual([...thresholdRows(cam, valid, 0, dark)], [1, 0, 0, 255, 0]);
    assert.deepEqual([...thresholdRows(cam, valid, 0)], [1, 1, 0, 255, 0]);
  });

  it('on a real L8 Biome scene it removes cloud only where red reflectance < 0.08, and some of it', async () => {
    const model = loadModel('default');
    assert.deepEqual(model.description.detection.darkGuard, { band: 'red', reflectance: 0.08 });
    const { threshold } = resolveThreshold(model, {});
    const guarded = await sceneCam([SCENE], { model });
    const plain = await sceneCam([SCENE], { model, darkGuard: null });
    assert.ok(guarded.dark && !plain.dark);
    const source = await openRaster([SCENE]);
    const [red] = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [2]);
    await source.close();
    const withGuard = thresholdRows(guarded.cam, guarded.valid, threshold, guarded.dark);
    const without = thresholdRows(plain.cam, plain.valid, threshold);
    let removed = 0;
    for (let i = 0; i < red.length; i++) {
      assert.equal(guarded.dark![i] === 1, guarded.valid[i] === 1 && red[i] < 0.08, `pixel ${i}: dark flag vs red ${red[i]}`);
      if (withGuard[i] !== without[i]) {
        assert.ok(without[i] === 1 && withGuard[i] === 0 && red[i] < 0.08, `pixel ${i} changed but red is ${red[i]}`);
        removed++;
      }
    }
    assert.ok(removed > 0, 'the guard removes cloud the activation map put on dark pixels');
    assert.ok(withGuard.some((v) => v === 1), 'bright cloud stays cloud');
  });
});
