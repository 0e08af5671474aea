import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addConfusion, confusion, metrics } from '../../src/evaluate/index.js';

test('confusion counts each case, and 255 in either mask is excluded', () => {
  //                  tp tp fp tn tn tn fn ex ex ex
  const p = Uint8Array.of(1, 1, 1, 0, 0, 0, 0, 255, 1, 255);
  const t = Uint8Array.of(1, 1, 0, 0, 0, 0, 1, 1, 255, 255);
  assert.deepEqual(confusion(p, t), { tp: 2, fp: 1, tn: 3, fn: 1, excluded: 3 });
});

test('confusion refuses other values and different lengths', () => {
  assert.throws(() => confusion(Uint8Array.of(2), Uint8Array.of(0)), /0, 1 or 255/);
  assert.throws(() => confusion(Uint8Array.of(0), Uint8Array.of(128)), /0, 1 or 255/);
  assert.throws(() => confusion(Uint8Array.of(0, 1), Uint8Array.of(0)), /pixels/);
});

test('pooled matrix is the sum of per-image matrices, and equals the matrix of the concatenation', () => {
  const a = { p: Uint8Array.of(1, 0, 1, 255), t: Uint8Array.of(1, 1, 0, 0) };
  const b = { p: Uint8Array.of(0, 0, 1, 1, 1), t: Uint8Array.of(0, 255, 1, 1, 0) };
  const ma = confusion(a.p, a.t); // tp 1, fn 1, fp 1, excluded 1
  const mb = confusion(b.p, b.t); // tn 1, excluded 1, tp 2, fp 1
  const pooled = addConfusion(ma, mb);
  assert.deepEqual(pooled, { tp: 3, fp: 2, tn: 1, fn: 1, excluded: 2 });
  const joined = confusion(Uint8Array.from([...a.p, ...b.p]), Uint8Array.from([...a.t, ...b.t]));
  assert.deepEqual(joined, pooled);
  // OA pooled = (3 + 1) / 7, not the mean of per-image OAs ((1/3 + 3/4) / 2).
  assert.equal(metrics(pooled).oa, 4 / 7);
});
