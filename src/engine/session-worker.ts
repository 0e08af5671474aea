/**
 * The worker thread behind `WorkerSession`: it owns onnxruntime sessions and runs them when asked, so that the
 * runtime's synchronous `run` blocks this thread, not the main one (which meanwhile reads, prepares and
 * mosaics the next rows).
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { Session, type Feeds, type Fetched, type SessionOptions } from './session.js';

export type Request =
  | { id: number; op: 'create'; model: Uint8Array; options: SessionOptions }
  | { id: number; op: 'run'; session: number; feeds: Feeds; outputs?: string[]; reuse?: Record<string, number[]> }
  | { id: number; op: 'recycle'; buffers: ArrayBuffer[] }
  | { id: number; op: 'release'; session: number }
  /** Another thread's requests come on this port (worker-session.ts, lendSessionPort). */
  | { id: number; op: 'connect'; port: MessagePort };

export type Reply = { id: number; ok: true; session?: number; fetched?: Fetched; seconds?: number } | { id: number; ok: false; message: string };

const sessions = new Map<number, Session>();
/**
 * Output buffers the main thread has finished with, for runs that ask to reuse them: feature maps are the bulk of
 * a detection's memory traffic (2 GB per 16 MP), and allocating each afresh and leaving the main thread to
 * collect it cost it most of its garbage collections. Tiles vary in size (the gate skips columns), so a run
 * takes the smallest buffer that fits and writes the start of it.
 */
const spare: ArrayBuffer[] = [];
const SPARE_LIMIT = 8;
let nextSession = 0;

/**
 * The smallest spare buffer that holds `bytes` and is at most twice that, or a new one with room to spare for
 * later, larger maps.
 */
function spareBuffer(bytes: number): ArrayBuffer {
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const size = spare[i].byteLength;
    if (size >= bytes && size <= 2 * bytes && (best < 0 || size < spare[best].byteLength)) best = i;
  }
  if (best >= 0) return spare.splice(best, 1)[0];
  return new ArrayBuffer(Math.ceil((bytes * 1.25) / 65536) * 65536);
}

async function handle(request: Exclude<Request, { op: 'connect' }>, port: MessagePort): Promise<void> {
  try {
    if (request.op === 'create') {
      const handle = nextSession++;
      sessions.set(handle, await Session.create(request.model, request.options));
      port.postMessage({ id: request.id, ok: true, session: handle } satisfies Reply);
    } else if (request.op === 'run') {
      let into: Fetched | undefined;
      if (request.reuse) {
        into = {};
        for (const [name, dims] of Object.entries(request.reuse)) {
          const length = dims.reduce((a, b) => a * b, 1);
          into[name] = { data: new Float32Array(spareBuffer(4 * length), 0, length), dims };
        }
      }
      const started = performance.now();
      const fetched = await sessions.get(request.session)!.run(request.feeds, request.outputs, into);
      const seconds = (performance.now() - started) / 1000;
      const buffers = Object.values(fetched).map((f) => f.data.buffer as ArrayBuffer);
      port.postMessage({ id: request.id, ok: true, fetched, seconds } satisfies Reply, buffers);
    } else if (request.op === 'recycle') {
      for (const buffer of request.buffers) if (spare.length < SPARE_LIMIT) spare.push(buffer);
      return; // no reply
    } else {
      await sessions.get(request.session)?.release();
      sessions.delete(request.session);
      if (sessions.size === 0) {
        spare.length = 0;
      }
      port.postMessage({ id: request.id, ok: true } satisfies Reply);
    }
  } catch (err) {
    port.postMessage({ id: request.id, ok: false, message: (err as Error).message } satisfies Reply);
  }
}

// One request at a time, in order, whichever thread asks: runs then never wait on each other, and their timings
// are their own.
let queue = Promise.resolve();
function listen(port: MessagePort): void {
  port.on('message', (request: Request) => {
    if (request.op === 'connect') listen(request.port);
    else queue = queue.then(() => handle(request, port));
  });
}
listen(parentPort!);
