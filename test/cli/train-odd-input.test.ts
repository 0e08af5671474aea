// `wdcd train` on odd input, as a user meets it: exit code 2, one line naming the file and what is wrong, and no
// model folder, where before it either trained a wrong model with exit 0 or failed late with an internal error.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { trainModel } from '../../src/train/train-model.js';
import { tempDir } from '../datasets/helpers.js';
import { writeRealBlocks } from '../train/real-blocks.js';
import { show, wdcd } from './helpers.js';

describe('wdcd train on odd input', () => {
  const { dir, cleanup } = tempDir('train-cli-odd');
  after(cleanup);
  const args = ['--arch', 'wdcd-lean', '--block-size', '48', '--epochs', '2', '--threads', '1', '-q'];
  const reflectance = join(dir, 'reflectance');
  const dn = join(dir, 'dn');
  const checkpoint = join(dir, 'ckpt');

  before(async () => {
    await writeRealBlocks(reflectance);
    await writeRealBlocks(dn, { dn: true });
    await trainModel({ output: join(dir, 'first'), train: [`blocks:${reflectance}`], architecture: 'wdcd-lean', blockSize: 48, epochs: 1, threads: 1, checkpointDir: checkpoint });
    // a checkpoint whose state file was cut short (a disk that filled up, a copy stopped half-way)
    const state = join(checkpoint, 'state.json');
    writeFileSync(state, readFileSync(state, 'utf8').slice(0, 50));
  });

  it('DN blocks read as reflectance, a damaged checkpoint, a model folder under a file, --init of another architecture: exit 2, named, nothing written', { timeout: 120_000 }, async () => {
    const file = join(reflectance, 'clear', 'notes.txt');
    writeFileSync(file, 'not a folder');
    const cases: [string[], string, RegExp][] = [
      [['--train', `blocks:${dn}`], join(dir, 'dn-model'), /blocks:.*dn: 6 of 6 blocks have more than 5 % of their values outside -0\.5 to 2 as read through the landsat8-biome preset .*give --sensor or --scale/],
      [['--train', `blocks:${reflectance}`, '--checkpoint', checkpoint, '--resume'], join(dir, 'resumed'), /ckpt[/\\]state\.json: the checkpoint is damaged or incomplete: it is not valid JSON/],
      [['--train', `blocks:${reflectance}`], join(file, 'model'), /notes\.txt[/\\]model: cannot be made: .*notes\.txt is a file, not a folder/],
      [['--train', `blocks:${reflectance}`, '--init', 'rgb'], join(dir, 'fine-tuned'), /--arch: rgb is a wdcd-light model; fine-tuning keeps its architecture/],
    ];
    const runs = await Promise.all(cases.map(([extra, output]) => wdcd(['train', ...extra, '-o', output, ...args])));
    runs.forEach((r, i) => {
      const [, output, pattern] = cases[i]!;
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /internal error|^epoch/m, show(r));
      assert.ok(!existsSync(output), `no ${output}`);
    });
  });
});
