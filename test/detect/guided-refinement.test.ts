// The guided-filter refinement of the activation map (guided-refinement.ts): what a guided filter must do on
// maps whose answer is known, independence from how the map arrives in windows, nodata ignored, and in the
// pipeline: the same refined map in one pass, in column stripes and on two stripe threads, on a real scene.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refinementOf, sceneCam } from '../../src/detect/detect.js';
import { brightnessGuide, cellSizeFor, GuidedRefinement, linearRow } from '../../src/detect/guided-refinement.js';
import { loadModel } from '../../src/model/model-file.js';
import { InputError } from '../../src/errors.js';

const DATA = '/work/shared/data';
const L8 = ['B2', 'B3', 'B4', 'B5'].map((b) => `${DATA}/landsat8-scene-120m/LC80130312015295LGN00_${b}_toa.tif`);

/** Refines a whole map given in windows of `rows` rows by `cols` columns (in that order). */
function refineInWindows(width: number, height: number, cam: Float32Array, guide: Float32Array, valid: Uint8Array, radius: number, eps: number, cols = width, rows = height): Float32Array {
  const f = new GuidedRefinement(width, height, { radius, eps });
  for (let x0 = 0; x0 < width; x0 += cols) {
    for (let y0 = 0; y0 < height; y0 += rows) {
      const w = { x: x0, y: y0, width: Math.min(cols, width - x0), height: Math.min(rows, height - y0) };
      const pick = <T extends Float32Array | Uint8Array>(a: T): T => {
        const out = new (a.constructor as { new (n: number): T })(w.width * w.height);
        for (let r = 0; r < w.height; r++) out.set(a.subarray((w.y + r) * width + w.x, (w.y + r) * width + w.x + w.width), r * w.width);
        return out;
      };
      f.add(w, pick(cam), pick(guide), pick(valid));
    }
  }
  f.finish();
  return f.refine({ x: 0, y: 0, width, height }, guide, valid);
}

/** A 96 x 80 scene: a bright disc (cloud) on textured dark ground; the map is the disc blurred far past its edge. */
function discScene() {
  const [width, height] = [96, 80];
  const guide = new Float32Array(width * height);
  const cam = new Float32Array(width * height);
  const truth = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.hypot(x - 48, y - 40);
      const i = y * width + x;
      truth[i] = d < 20 ? 1 : 0;
      guide[i] = (truth[i] ? 0.6 : 0.1) + 0.02 * Math.sin(x * 1.7 + y * 0.9);
      cam[i] = 4 - 8 / (1 + Math.exp(-(d - 20) / 6)); // +4 inside, -4 outside, a 20 px ramp across the edge
    }
  }
  return { width, height, guide, cam, truth, valid: new Uint8Array(width * height).fill(1) };
}

describe('guided refinement', () => {
  it('cells are powers of two, about a quarter of the radius, at most 256', () => {
    assert.deepEqual([1, 4, 8, 16, 32, 64, 100, 2000, 5000].map(cellSizeFor), [1, 1, 2, 4, 8, 16, 16, 256, 256]);
  });

  it('a constant map stays constant; a map linear in the guide comes back (eps small)', () => {
    const { width, height, guide, valid } = discScene();
    const flat = refineInWindows(width, height, new Float32Array(width * height).fill(2.5), guide, valid, 16, 1e-3);
    for (const v of flat) assert.ok(Math.abs(v - 2.5) < 1e-5, `constant map became ${v}`);
    const linear = guide.map((g) => 10 * g - 3);
    const back = refineInWindows(width, height, linear, guide, valid, 16, 1e-9);
    for (let i = 0; i < back.length; i++) assert.ok(Math.abs(back[i] - linear[i]) < 1e-3, `pixel ${i}: ${back[i]} vs ${linear[i]}`);
  });

  it("a blurred map takes the guide's edge: far fewer pixels on the wrong side of 0 than the map or its plain blur", () => {
    const { width, height, guide, cam, truth, valid } = discScene();
    const wrong = (m: Float32Array) => m.reduce((n, v, i) => n + ((v >= 0 ? 1 : 0) !== truth[i] ? 1 : 0), 0);
    // The ramp is centred on the edge, so shift it: the map's 0 crossing lies 6 px outside the disc.
    const shifted = cam.map((v) => v + 1.2);
    const refined = refineInWindows(width, height, shifted, guide, valid, 16, 1e-3);
    const blurred = refineInWindows(width, height, shifted, new Float32Array(width * height).fill(0.3), valid, 16, 1e-3);
    assert.ok(wrong(shifted) > 300, `the test map should be wrong along the edge (${wrong(shifted)})`);
    assert.ok(wrong(refined) < wrong(shifted) / 5, `refined ${wrong(refined)} vs map ${wrong(shifted)}`);
    assert.ok(wrong(refined) < wrong(blurred) / 3, `refined ${wrong(refined)} vs the same filter with a flat guide ${wrong(blurred)}`);
  });

  it('the result does not depend on the windows the map arrives in', () => {
    const { width, height, guide, cam, valid } = discScene();
    const whole = refineInWindows(width, height, cam, guide, valid, 12, 1e-3);
    for (const [cols, rows] of [[32, 7], [96, 1], [16, 80]]) {
      assert.deepEqual(refineInWindows(width, height, cam, guide, valid, 12, 1e-3, cols, rows), whole, `${cols} x ${rows} windows`);
    }
  });

  it('pixels without data take no part: changing their map or guide changes no valid pixel', () => {
    const { width, height, guide, cam, valid } = discScene();
    for (let y = 0; y < height; y++) for (let x = 0; x < 30; x++) valid[y * width + x] = 0;
    const before = refineInWindows(width, height, cam, guide, valid, 16, 1e-3);
    const cam2 = cam.map((v, i) => (valid[i] ? v : 1e6));
    const guide2 = guide.map((v, i) => (valid[i] ? v : -50));
    const after = refineInWindows(width, height, cam2, guide2, valid, 16, 1e-3);
    for (let i = 0; i < before.length; i++) {
      if (valid[i]) assert.equal(after[i], before[i]);
      else assert.equal(after[i], 0);
    }
  });

  it('the guide is the mean of blue, green and red in model units, from normalised planes', () => {
    const model = loadModel('default');
    const { mean, std } = model.description.normalization;
    const reflectance = [0.3, 0.25, 0.2, 0.4];
    const planes = Float32Array.from(reflectance, (r, c) => (r - mean[c]) / std[c]);
    const out = new Float32Array(1);
    linearRow(brightnessGuide(model), planes, 1, 0, 1, out);
    assert.ok(Math.abs(out[0] - 0.25) < 1e-6, `guide ${out[0]}`);
  });

  it("options: the model's setting, another radius, none; bad values are input errors", () => {
    const model = loadModel('default');
    const own = { ...model, description: { ...model.description, detection: { ...model.description.detection, refine: { radius: 64, eps: 2e-3 } } } };
    assert.equal(refinementOf(model, {}), null);
    assert.deepEqual(refinementOf(own, {}), { radius: 64, eps: 2e-3 });
    assert.deepEqual(refinementOf(own, { refine: 16 }), { radius: 16, eps: 2e-3 });
    assert.deepEqual(refinementOf(model, { refine: 16 }), { radius: 16, eps: 1e-3 });
    assert.equal(refinementOf(own, { refine: null }), null);
    assert.equal(refinementOf(own, { refine: 0 }), null);
    assert.throws(() => refinementOf(model, { refine: 2.5 }), InputError);
    assert.throws(() => refinementOf(model, { refine: 8, refineEps: 0 }), InputError);
  });

  it('real scene: the refined map is the same in one pass, in 256 px stripes and on two stripe threads; nodata stays out', async () => {
    const base = { model: 'default', refine: 32 };
    const whole = await sceneCam(L8, base);
    const striped = await sceneCam(L8, { ...base, stripeWidth: 256 });
    const threaded = await sceneCam(L8, { ...base, stripeWidth: 256, stripeThreads: 2 });
    const raw = await sceneCam(L8, { model: 'default' });
    assert.ok(whole.width > 256, 'the scene is wider than one stripe');
    assert.deepEqual(striped.cam, whole.cam);
    assert.deepEqual(threaded.cam, whole.cam);
    assert.deepEqual(whole.valid, raw.valid);
    let changed = 0;
    for (let i = 0; i < whole.cam.length; i++) {
      if (!whole.valid[i]) continue;
      assert.ok(Number.isFinite(whole.cam[i]));
      if (Math.abs(whole.cam[i] - raw.cam[i]) > 0.1) changed++;
    }
    assert.ok(changed > 1000, `the refinement changed the map (${changed} pixels)`);
  });
});
