/**
 * Column stripes mosaicked on several threads at once. On one thread the mosaic's own work (reading and
 * preparing rows, block means, the weighted channel sums) bounds detection as soon as the network is fast (a
 * GPU, or many cores): on an H200 a 100 MP run took 60 s while the network was busy 22 s. Stripes are independent (column-stripes.ts), so each thread takes whole stripes, prepares the
 * scene as detect does, and posts the windows of the map as they are finished; this thread writes them. The
 * networks of all threads run on this thread's session workers (which use every core, or the GPU). The map is the same
 * as on one thread, window for window.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { cpuWorkerLayout, lendSessionPorts, returnSessionPorts } from '../engine/worker-session.js';
import { InputError } from '../errors.js';
import { moduleWorker } from '../module-worker.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { BlockGrid } from './block-grid.js';
import { placeLogits, type CamWindow, type ColumnStripe } from './column-stripes.js';
import type { CamOptions } from './detect.js';

export type StripeRequest =
  | { op: 'init'; inputs: string[]; options: CamOptions; network: MessagePort[] }
  | { op: 'stripe'; index: number; stripeWidth: number; chunkRows?: number }
  | { op: 'close' };

export type StripeReply =
  | { op: 'window'; window: CamWindow }
  | { op: 'progress'; index: number; rows: number }
  | { op: 'stripe-done'; index: number; logits: Float32Array }
  | { op: 'closed'; seconds: Record<string, number>; points: { features: number; total: number } }
  | { op: 'error'; message: string; input: boolean };

/**
 * The scene's map from `workers` threads, windows in the order they are finished; returns every block's logit.
 * `options` must be cloneable (a loaded model, no callbacks). `seconds` receives the threads' busy time, summed,
 * and `points` their feature-pass counts (cam-mosaic.ts).
 */
export async function* parallelStripedCam(
  inputs: string[], options: CamOptions, [width, height]: [number, number], grid: BlockGrid, stripes: ColumnStripe[],
  stripeWidth: number, workers: number, onProgress: ProgressCallback = noProgress, seconds: Record<string, number> = {},
  points = { features: 0, total: 0 },
): AsyncGenerator<CamWindow, Float32Array> {
  const logits = new Float32Array(grid.xs.length * grid.ys.length);
  const rowsDone = new Float64Array(stripes.length);
  const events: { reply: StripeReply; from: Worker }[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const pool: Worker[] = [];
  let next = 0;
  let open = 0;
  let lent = 0;
  const send = (w: Worker, request: StripeRequest) => w.postMessage(request);
  const giveWork = (w: Worker) => {
    if (next < stripes.length) send(w, { op: 'stripe', index: next++, stripeWidth, chunkRows: options.chunkRows });
    else send(w, { op: 'close' });
  };
  try {
    for (let i = 0; i < Math.min(workers, stripes.length); i++) {
      const w = moduleWorker(import.meta.url, 'stripe-worker');
      pool.push(w);
      open++;
      w.on('message', (reply: StripeReply) => {
        events.push({ reply, from: w });
        wake?.();
      });
      w.on('error', (err) => {
        failure ??= err;
        wake?.();
      });
      w.on('exit', (code) => {
        if (code !== 0) failure ??= new Error(`a stripe thread stopped (exit code ${code})`);
        wake?.();
      });
      // Every thread's network runs on this thread's session workers (see lendSessionPorts).
      const network = lendSessionPorts(options.device === 'gpu' ? 1 : cpuWorkerLayout(options.threads).workers);
      lent += network.length;
      w.postMessage({ op: 'init', inputs, options: { ...options, onProgress: undefined }, network } satisfies StripeRequest, network);
      giveWork(w);
    }
    while (open > 0) {
      if (failure) throw failure;
      const event = events.shift();
      if (!event) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      const { reply, from } = event;
      if (reply.op === 'window') yield reply.window;
      else if (reply.op === 'progress') {
        rowsDone[reply.index] = reply.rows;
        const done = stripes.reduce((sum, s, i) => sum + (s.x1 - s.x0) * rowsDone[i], 0);
        onProgress({ kind: 'progress', stage: 'activation map', done: Math.round(done / 1e5) / 10, total: Math.round((width * height) / 1e5) / 10, unit: 'Mpx' });
      } else if (reply.op === 'stripe-done') {
        placeLogits(logits, grid, stripes[reply.index], reply.logits);
        giveWork(from);
      } else if (reply.op === 'closed') {
        for (const [k, v] of Object.entries(reply.seconds)) seconds[k] = (seconds[k] ?? 0) + v;
        points.features += reply.points.features;
        points.total += reply.points.total;
        open--;
      } else throw reply.input ? new InputError(reply.message) : new Error(reply.message);
    }
    return logits;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
    await returnSessionPorts(lent);
  }
}
