import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { npyNumbers, parseNpy, readBlockLabel, readNpy } from '../../src/datasets/index.js';
import { hasNumpy, npyBytes, python, tempDir } from './helpers.js';

test('hand-made NPY bytes: v1 little-endian f4 2x3, v2 big-endian i2, v3 scalar u1', () => {
  const f = new Float32Array([0, 1.5, -2, 3.25, 1e9, -0.125]);
  const a = parseNpy(npyBytes('<f4', [2, 3], new Uint8Array(f.buffer)));
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, 'f4');
  assert.deepEqual([...a.data], [...f]);
  // big-endian int16: 0x0102 = 258, 0xFFFE = -2
  const b = parseNpy(npyBytes('>i2', [2], Uint8Array.of(0x01, 0x02, 0xff, 0xfe), 2));
  assert.deepEqual([b.byteOrder, [...b.data], b.version], ['big', [258, -2], [2, 0]]);
  const c = parseNpy(npyBytes('|u1', [], Uint8Array.of(1), 3));
  assert.deepEqual([c.shape, [...c.data]], [[], [1]]);
});

test('NPY errors are clear', () => {
  assert.throws(() => parseNpy(Uint8Array.of(1, 2, 3), 'x.npy'), (e: unknown) => e instanceof InputError && /x\.npy.*magic/.test(e.message));
  assert.throws(() => parseNpy(npyBytes('|O', [1], new Uint8Array(8))), /object arrays/);
  assert.throws(() => parseNpy(npyBytes('<c8', [1], new Uint8Array(8))), /unsupported dtype/);
  assert.throws(() => parseNpy(npyBytes('<f8', [4], new Uint8Array(8))), /truncated/);
});

test('NPY files written by numpy: all dtypes, both byte orders, versions 1-3, scalars, labels', { skip: !hasNumpy && 'numpy not installed' }, async () => {
  const { dir, cleanup } = tempDir('npy');
  try {
    python(
      `
vals = [0, 1, 2, 3, 100, 127]
for code in ['b1', 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8']:
    for order in ['<', '>']:
        a = np.array(vals if code != 'b1' else [0, 1, 1, 0, 1, 0], dtype=np.dtype(order + code)).reshape(2, 3)
        np.save(os.path.join(DIR, f'{code}{"le" if order == "<" else "be"}.npy'), a)
np.save(os.path.join(DIR, 'neg.npy'), np.array([-5, -1], dtype='<i8'))
np.save(os.path.join(DIR, 'fortran.npy'), np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(DIR, f'v{v[0]}.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.arange(4, dtype='<f8').reshape(2, 2) / 4, version=v)
np.save(os.path.join(DIR, 'a_bl.npy'), np.int64(1))
np.save(os.path.join(DIR, 'b_bl.npy'), np.array(0, dtype=np.uint8))
np.save(os.path.join(DIR, 'c_bl.npy'), np.array([1.0], dtype=np.float32))
np.save(os.path.join(DIR, 'd_bl.npy'), np.bool_(True))
np.save(os.path.join(DIR, 'e_bl.npy'), np.int64(2))
np.save(os.path.join(DIR, 'f_bl.npy'), np.array([0, 1]))
`,
      dir,
    );
    for (const code of ['b1', 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8']) {
      for (const order of ['le', 'be']) {
        const a = await readNpy(join(dir, `${code}${order}.npy`));
        assert.deepEqual(a.shape, [2, 3], code);
        assert.equal(a.dtype, code);
        const expected = code === 'b1' ? [0, 1, 1, 0, 1, 0] : [0, 1, 2, 3, 100, 127];
        assert.deepEqual(npyNumbers(a), expected, `${code} ${order}`);
      }
    }
    assert.deepEqual(npyNumbers(await readNpy(join(dir, 'neg.npy'))), [-5, -1]);
    await assert.rejects(readNpy(join(dir, 'fortran.npy')), /Fortran/);
    for (const v of [1, 2, 3]) {
      const a = await readNpy(join(dir, `v${v}.npy`));
      assert.deepEqual([a.version[0], [...a.data]], [v, [0, 0.25, 0.5, 0.75]]);
    }
    const scalar = await readNpy(join(dir, 'a_bl.npy'));
    assert.deepEqual([scalar.shape, scalar.dtype, npyNumbers(scalar)], [[], 'i8', [1]]);
    assert.equal(await readBlockLabel(join(dir, 'a_bl.npy')), 1);
    assert.equal(await readBlockLabel(join(dir, 'b_bl.npy')), 0);
    assert.equal(await readBlockLabel(join(dir, 'c_bl.npy')), 1);
    assert.equal(await readBlockLabel(join(dir, 'd_bl.npy')), 1);
    await assert.rejects(readBlockLabel(join(dir, 'e_bl.npy')), /must be 0 \(clear\) or 1/);
    await assert.rejects(readBlockLabel(join(dir, 'f_bl.npy')), /one value/);
    writeFileSync(join(dir, 'bad.npy'), 'not numpy');
    await assert.rejects(readNpy(join(dir, 'bad.npy')), InputError);
    await assert.rejects(readNpy(join(dir, 'missing.npy')), /ENOENT/);
  } finally {
    cleanup();
  }
});
