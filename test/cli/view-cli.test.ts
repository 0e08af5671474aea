// `wdcd view` as a user starts it (a child process): the address on stdout, the first display bands from --rgb,
// refusals of bad --rgb values, and a clean stop on Ctrl+C. The page itself is tested in test/view/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ViewerInfo } from '../../src/view/viewer-api.js';
import { REPO, show, wdcd } from './helpers.js';

const BIOME_TEST = '/work/shared/data/l8biome/test';
const IMAGE = join(BIOME_TEST, 'images', 'Urban_11_1326.tif'); // 8 bands: blue, green, red, NIR, ...
const MASK = join(BIOME_TEST, 'masks', 'Urban_11_1326.tif');

/** Starts `wdcd view ARGS`, waits for the address it prints, and returns it with a stop that sends SIGINT. */
function startView(args: string[]): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'view', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no address within 60 s\n${stderr}`));
    }, 60_000);
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const url = /^http:\/\/\S+/m.exec(stdout)?.[0];
      if (!url) return;
      clearTimeout(timer);
      resolve({ url, stop: () => (child.kill('SIGINT'), closed) });
    });
    closed.then((code) => reject(new Error(`view exited ${code} before serving\n${stderr}`)));
  });
}

describe('wdcd view (command line)', () => {
  it('--rgb sets the first display bands, 1-based; Ctrl+C stops it with exit 0', async () => {
    const plain = await startView([MASK, '--image', IMAGE]);
    const chosen = await startView([MASK, '--image', IMAGE, '--rgb', '4,3,2']);
    try {
      const info = async (url: string) => (await (await fetch(new URL('api/info', url))).json()) as ViewerInfo;
      // An 8-band float stack opens as red, green, blue = bands 3, 2, 1; --rgb 4,3,2 asks for the false colour.
      assert.deepEqual((await info(plain.url)).image.rgb, [2, 1, 0]);
      assert.deepEqual((await info(chosen.url)).image.rgb, [3, 2, 1]);
    } finally {
      assert.equal(await plain.stop(), 0);
      assert.equal(await chosen.stop(), 0);
    }
  });

  it('a bad --rgb is refused with exit 2, naming the option', async () => {
    const [two, outside, zero] = await Promise.all([
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '4,3']),
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '9,3,2']),
      wdcd(['view', MASK, '--image', IMAGE, '--rgb', '0,1,2']),
    ]);
    assert.equal(two.code, 2, show(two));
    assert.match(two.stderr, /--rgb: give three bands \(red, green, blue\), got 2/);
    for (const r of [outside, zero]) {
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /--rgb: display bands must be in 1\.\.8/);
      assert.equal(r.stdout, '', 'no address printed');
    }
  });
});
