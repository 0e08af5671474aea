// The README's library examples, as a user copies them: the first runs from the repository root against the
// package's own entry point (`import ... from 'wdcd'`: package.json's exports, the built dist/), and both
// type-check under strict TypeScript. A renamed option or export breaks this test, not a user's first script.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openRaster } from '../../src/raster/open.js';
import { REPO } from './helpers.js';

/** The ```ts blocks of the README's Library section. */
function libraryExamples(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^### Library$/m)[1]!.split(/^#{2,3} /m)[0]!;
  return [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README library examples', () => {
  // Inside the repository, so that 'wdcd' resolves to this package by its own name.
  const dir = join(REPO, '.tmp', `readme-library-${process.pid}`);
  const outputs = join(REPO, 'out', 'library');
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outputs, { recursive: true, force: true });
  });
  const examples = libraryExamples();
  mkdirSync(dir, { recursive: true });
  const files = examples.map((code, i) => {
    const path = join(dir, `example-${i + 1}.mts`);
    writeFileSync(path, code);
    return path;
  });

  it('there are two, and they type-check (strict)', { timeout: 120_000 }, () => {
    assert.equal(examples.length, 2);
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', ...files], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('the first detects on the bundled sample through the package entry point', { timeout: 120_000 }, async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', files[0]!], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^508 x 458: cloud \d+\.\d\d %, threshold -?\d+\.\d{3}\n$/);
    for (const name of ['mask.tif', 'cam.tif']) {
      const source = await openRaster([join(outputs, name)]);
      assert.deepEqual([source.width, source.height, source.sampleType], [508, 458, name === 'mask.tif' ? 'uint8' : 'float32']);
      await source.close();
    }
  });
});
