// The device choice: `cpu` always works; `gpu` either runs the network and agrees with the CPU, or (on a machine
// without a usable GPU, as CI) is refused with the reason while `auto` quietly takes the CPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gpuUnavailable, resolveDevice } from '../../src/engine/device.js';
import { Network } from '../../src/model/network.js';
import { Random } from '../../src/random.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

describe('device choice', () => {
  it('cpu is always cpu', async () => {
    assert.equal(await resolveDevice('cpu'), 'cpu');
  });

  it('gpu runs the network as the CPU does, or is refused with the reason and auto takes the CPU', async () => {
    const why = await gpuUnavailable();
    if (why) {
      await assert.rejects(resolveDevice('gpu'), (e: Error) => e.message.includes('no usable GPU') && e.message.includes(why));
      assert.equal(await resolveDevice('auto'), 'cpu');
      return;
    }
    assert.equal(await resolveDevice('auto'), 'gpu');
    const model = tinyModel(tinyArchitecture(48), { seed: 3, prunedPools: [] });
    const random = new Random(5);
    const [w, h] = [96, 64];
    const window = Float32Array.from({ length: 4 * w * h }, () => random.normal());
    const maps = [];
    for (const device of ['cpu', 'gpu'] as const) {
      const network = new Network(model, undefined, { device });
      maps.push((await network.features(window, h, w)).data);
      await network.release();
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < maps[0].length; i++) {
      num += (maps[1][i] - maps[0][i]) ** 2;
      den += maps[0][i] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-4, `GPU features differ from the CPU's: relative error ${Math.sqrt(num / den)}`);
  });
});
