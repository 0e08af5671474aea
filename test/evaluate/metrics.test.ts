import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, kappa, type Confusion } from '../../src/evaluate/index.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

const m = (tp: number, fp: number, tn: number, fn: number): Confusion => ({ tp, fp, tn, fn, excluded: 0 });

test('metrics of TP 40, FP 10, TN 45, FN 5 (N = 100), computed by hand', () => {
  const r = metrics(m(40, 10, 45, 5));
  close(r.oa, 0.85, 'OA'); // (40 + 45) / 100
  close(r.precision, 0.8, 'precision'); // 40 / (40 + 10)
  close(r.recall, 40 / 45, 'recall'); // 40 / (40 + 5) = 0.8889
  close(r.f1, 80 / 95, 'F1'); // 2*40 / (2*40 + 10 + 5) = 0.8421
  close(r.iou, 40 / 55, 'IoU'); // 40 / (40 + 10 + 5) = 0.7273
  // pe = P(pred cloud) P(true cloud) + P(pred clear) P(true clear) = 0.50*0.45 + 0.50*0.55 = 0.5
  // kappa = (0.85 - 0.5) / (1 - 0.5) = 0.7
  close(r.kappa, 0.7, 'kappa');
});

test('metrics of TP 2, FP 3, TN 1, FN 4 (N = 10): worse than chance', () => {
  const r = metrics(m(2, 3, 1, 4));
  close(r.oa, 0.3, 'OA'); // 3 / 10
  close(r.precision, 0.4, 'precision'); // 2 / 5
  close(r.recall, 1 / 3, 'recall'); // 2 / 6
  close(r.f1, 4 / 11, 'F1'); // 4 / (4 + 3 + 4)
  close(r.iou, 2 / 9, 'IoU'); // 2 / (2 + 3 + 4)
  // pe = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.3 - 0.5) / 0.5 = -0.4
  close(r.kappa, -0.4, 'kappa');
});

test('kappa with unequal marginals: TP 20, FP 5, TN 70, FN 5 (N = 100)', () => {
  // po = 0.90; pe = 0.25*0.25 + 0.75*0.75 = 0.0625 + 0.5625 = 0.625; kappa = 0.275 / 0.375 = 0.7333...
  close(kappa(m(20, 5, 70, 5)), 0.275 / 0.375, 'kappa');
});

test('zero denominators give NaN, never 0 or 1', () => {
  // Nothing counted: everything undefined.
  for (const v of Object.values(metrics(m(0, 0, 0, 0)))) assert.ok(Number.isNaN(v));
  // All clear, all predicted clear: OA 1, cloud measures undefined, kappa undefined (pe = 1).
  const clear = metrics(m(0, 0, 10, 0));
  assert.equal(clear.oa, 1);
  for (const k of ['precision', 'recall', 'f1', 'iou', 'kappa'] as const) assert.ok(Number.isNaN(clear[k]), k);
  // All cloud, all predicted cloud: perfect, but kappa undefined (pe = 1).
  const cloud = metrics(m(10, 0, 0, 0));
  assert.deepEqual([cloud.oa, cloud.precision, cloud.recall, cloud.f1, cloud.iou], [1, 1, 1, 1, 1]);
  assert.ok(Number.isNaN(cloud.kappa));
  // Nothing predicted cloud, half the truth cloud: precision 0/0 undefined, recall 0, F1 0, IoU 0;
  // pe = 0*0.5 + 1*0.5 = 0.5, po = 0.5, kappa = 0.
  const none = metrics(m(0, 0, 5, 5));
  assert.ok(Number.isNaN(none.precision));
  assert.deepEqual([none.recall, none.f1, none.iou, none.kappa, none.oa], [0, 0, 0, 0, 0.5]);
});
