// The installed command: package.json's bin is the built dist/cli/main.js, which `npx wdcd` (the README's first
// command) runs as a program. It must exist after `npm ci` (the prepare script builds it) and be executable:
// tsc writes new files without the execute bit, which left a fresh clone with "wdcd: Permission denied".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './helpers.js';

describe('installed command', () => {
  it('the bin is built, executable and runs (`wdcd models`)', () => {
    const bin = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin.wdcd as string;
    const path = join(REPO, bin);
    const mode = statSync(path, { throwIfNoEntry: false })?.mode;
    assert.ok(mode !== undefined, `${bin} is missing: npm ci (or npm run build) builds it`);
    assert.ok((mode & 0o111) !== 0, `${bin} is not executable (mode ${(mode & 0o777).toString(8)})`);
    const r = spawnSync(path, ['models'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /default/);
  });
});
