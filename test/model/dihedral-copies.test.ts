/**
 * Test-time augmentation as turned copies of the network (model/dihedral-copies.ts): on a real L8 Biome scene,
 * the copies' map equals the mean of the network's maps of the turned scene, each turned back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sceneCam } from '../../src/detect/detect.js';
import { buildTrainingGraph } from '../../src/engine/training-graph.js';
import { InputError } from '../../src/errors.js';
import { dihedralCopies } from '../../src/model/dihedral-copies.js';
import { loadModel } from '../../src/model/model-file.js';
import { openRaster } from '../../src/raster/open.js';
import { createGeoTiffWriter } from '../../src/raster/write-geotiff.js';

const SCENE = '/work/shared/data/l8biome/val/images/Urban_03_0619.tif';
// A crop on which the sliding window's blocks (48 px, stride 24) lie symmetrically: 240 = 48 + 8 x 24 and
// 216 = 48 + 7 x 24, so a turned scene is cut into the turned blocks.
const [W, H] = [240, 216];

/** Orientation o (bit 0: flip x, bit 1: flip y, bit 2: transpose), as dihedral-copies.ts orders them. */
function turned(o: number): { width: number; height: number; source: (x: number, y: number) => number } {
  const t = (o & 4) !== 0;
  return {
    width: t ? H : W,
    height: t ? W : H,
    source: (x, y) => {
      let sx = t ? y : x;
      let sy = t ? x : y;
      if (o & 1) sx = W - 1 - sx;
      if (o & 2) sy = H - 1 - sy;
      return sy * W + sx;
    },
  };
}

describe('test-time augmentation (turned copies of the network)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-tta-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function writeBands(name: string, planes: Float32Array[], width: number, height: number): Promise<string[]> {
    return Promise.all(
      planes.map(async (plane, b) => {
        const path = join(dir, `${name}-b${b}.tif`);
        const w = await createGeoTiffWriter(path, { width, height, sampleType: 'float32' });
        await w.writeRows(0, height, plane);
        await w.finish();
        return path;
      }),
    );
  }

  it('the copies\' map is the mean of the maps of the turned scene, for 2 and 8 orientations', { timeout: 120_000 }, async () => {
    const model = loadModel('default');
    const source = await openRaster([SCENE]);
    const planes = await source.readWindow({ x: 0, y: 0, width: W, height: H }, [0, 1, 2, 3]);
    await source.close();
    const scene = await writeBands('scene', planes, W, H);
    // The gate is off: with it, the copies flatten blocks by their mean logit, each turned run by its own.
    const options = { model, sensor: 'landsat8-biome', gate: false, threads: 1 };
    const maps: Float32Array[] = [];
    for (let o = 0; o < 8; o++) {
      const { width, height, source: at } = turned(o);
      const bands = planes.map((p) => Float32Array.from({ length: width * height }, (_, i) => p[at(i % width, Math.floor(i / width))]));
      const { cam } = await sceneCam(await writeBands(`turned-${o}`, bands, width, height), options);
      const back = new Float32Array(W * H);
      for (let i = 0; i < cam.length; i++) back[at(i % width, Math.floor(i / width))] = cam[i];
      maps.push(back);
    }
    const plain = await sceneCam(scene, options);
    for (const copies of [2, 8]) {
      const { cam } = await sceneCam(scene, { ...options, tta: copies });
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < cam.length; i++) {
        const mean = maps.slice(0, copies).reduce((s, m) => s + m[i], 0) / copies;
        worst = Math.max(worst, Math.abs(cam[i] - mean));
        moved = Math.max(moved, Math.abs(cam[i] - plain.cam[i]));
      }
      assert.ok(worst < 1e-3, `${copies} orientations: off by ${worst}`);
      assert.ok(moved > 1, `${copies} orientations change the map (by up to ${moved})`);
    }
  });

  it('one orientation is the model itself; other counts and training are refused', () => {
    const model = loadModel('default');
    assert.equal(dihedralCopies(model, 1), model);
    assert.throws(() => dihedralCopies(model, 3), (e: unknown) => e instanceof InputError && e.path === '--tta');
    const copies = dihedralCopies(model, 2);
    assert.equal(copies.description.architecture.copies, 2);
    assert.throws(() => dihedralCopies(copies, 2), /already holds 2 copies/);
    assert.throws(() => buildTrainingGraph(copies.description.architecture, 4, 2), /train the network itself/);
  });
});
