/**
 * A thread that mosaics whole column stripes of one scene (stripe-workers.ts): it prepares the scene as detect
 * does, its network running on the session workers it is lent, and runs the stripes it is handed one after
 * another, posting each window of the map as it is finished.
 */
import { parentPort } from 'node:worker_threads';
import { useSessionPorts } from '../engine/worker-session.js';
import { InputError } from '../errors.js';
import { blockGrid } from './block-grid.js';
import { latticeOf } from './cam-mosaic.js';
import { columnStripes, stripeCam } from './column-stripes.js';
import { prepareScene, tileWidthFor, type Prepared } from './detect.js';
import { MosaicKernels } from './mosaic-kernels.js';
import type { StripeReply, StripeRequest } from './stripe-workers.js';

const port = parentPort!;
let scene: Promise<Prepared> | undefined;
const seconds: Record<string, number> = {};
const points = { features: 0, total: 0 };
// This thread's stripes run one after another: they share the kernels' memory.
const kernels = new MosaicKernels();
const post = (reply: StripeReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

async function handle(request: StripeRequest): Promise<void> {
  try {
    if (request.op === 'init') {
      useSessionPorts(request.network);
      scene = prepareScene(request.inputs, request.options);
      await scene;
      return;
    }
    const p = await scene!;
    if (request.op === 'stripe') {
      const grid = blockGrid(p.source.width, p.source.height, p.model.description.architecture.blockSize, p.stride);
      const stripes = columnStripes(grid, p.source.width, request.stripeWidth, latticeOf(p.network).stride);
      const s = stripes[request.index];
      const stream = stripeCam(p.network, p.prepared, p.source.width, grid, s, false, {
        gate: p.gate, kernels, chunkRows: request.chunkRows, tileWidth: tileWidthFor(p.device), guards: p.guards, guide: p.guide, seconds, points,
        onProgress: (e) => e.kind === 'progress' && post({ op: 'progress', index: request.index, rows: e.done }),
      });
      let step;
      while (!(step = await stream.next()).done) {
        const w = step.value;
        const optional = [w.ruledOut, w.guide].flatMap((a) => (a ? [a.buffer] : []));
        post({ op: 'window', window: w }, [w.cam.buffer, w.valid.buffer, ...optional] as ArrayBuffer[]);
      }
      post({ op: 'stripe-done', index: request.index, logits: step.value });
    } else {
      const busy = await p.network.busySeconds();
      await p.network.release();
      await p.source.close();
      post({ op: 'closed', seconds: { read: seconds.read ?? 0, mosaic: seconds.mosaic ?? 0, scoreBlocks: busy.score, features: busy.features }, points });
    }
  } catch (err) {
    const e = err as Error;
    post({ op: 'error', message: e instanceof InputError ? e.message : e.stack ?? e.message, input: e instanceof InputError });
  }
}

// One request at a time, in order.
let queue = Promise.resolve();
port.on('message', (request: StripeRequest) => {
  queue = queue.then(() => handle(request));
});
