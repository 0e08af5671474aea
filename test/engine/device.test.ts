// The device choice: `cpu` always works; `gpu` either runs the network and agrees with the CPU, or (on a machine
// without a usable GPU, as CI) is refused with the reason while `auto` quietly takes the CPU.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gpuUnavailable, resolveDevice } from '../../src/engine/device.js';
import { Network } from '../../src/model/network.js';
import { Random } from '../../src/random.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

describe('device choice', () => {
  it('cpu is always cpu', async () => {
    assert.equal(await resolveDevice('cpu'), 'cpu');
  });

  it('a missing Vulkan loader or driver is named, quietly (no warning of Dawn on stderr)', (t) => {
    if (existsSync('/etc/vulkan/icd.d') && readdirSync('/etc/vulkan/icd.d').length > 0) return t.skip('this machine has a Vulkan driver');
    const dir = mkdtempSync(join(tmpdir(), 'wdcd-vulkan-'));
    try {
      const probe = (env: Record<string, string>) => {
        const code = `import('${new URL('../../src/engine/device.ts', import.meta.url).href}').then(async (d) => console.log(await d.gpuUnavailable()))`;
        const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VK_') && k !== 'LD_LIBRARY_PATH' && k !== 'XDG_DATA_DIRS'));
        return spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8', env: { ...baseEnv, ...env } });
      };
      // A loader (a stand-in file: it is only looked for) and no driver manifest anywhere.
      writeFileSync(join(dir, 'libvulkan.so.1'), '');
      const noDriver = probe({ LD_LIBRARY_PATH: dir, XDG_DATA_DIRS: join(dir, 'none') });
      assert.equal(noDriver.status, 0, noDriver.stderr);
      assert.match(noDriver.stdout, /no Vulkan driver/);
      assert.equal(noDriver.stderr.replace(/.*npm warn.*\n/g, ''), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
