/**
 * The worker thread behind `WorkerSession`: it owns onnxruntime sessions and runs them when asked, so that the
 * runtime's synchronous `run` blocks this thread, not the main one (which meanwhile reads, prepares and
 * mosaics the next rows).
 */
import { parentPort } from 'node:worker_threads';
import { Session, type Feeds, type Fetched, type SessionOptions } from './session.js';

export type Request =
  | { id: number; op: 'create'; model: Uint8Array; options: SessionOptions }
  | { id: number; op: 'run'; session: number; feeds: Feeds; outputs?: string[] }
  | { id: number; op: 'release'; session: number };

export type Reply = { id: number; ok: true; session?: number; fetched?: Fetched; seconds?: number } | { id: number; ok: false; message: string };

const sessions = new Map<number, Session>();
let nextSession = 0;
const port = parentPort!;

async function handle(request: Request): Promise<void> {
  try {
    if (request.op === 'create') {
      const handle = nextSession++;
      sessions.set(handle, await Session.create(request.model, request.options));
      port.postMessage({ id: request.id, ok: true, session: handle } satisfies Reply);
    } else if (request.op === 'run') {
      const started = performance.now();
      const fetched = await sessions.get(request.session)!.run(request.feeds, request.outputs);
      const seconds = (performance.now() - started) / 1000;
      const buffers = Object.values(fetched).map((f) => f.data.buffer as ArrayBuffer);
      port.postMessage({ id: request.id, ok: true, fetched, seconds } satisfies Reply, buffers);
    } else {
      await sessions.get(request.session)?.release();
      sessions.delete(request.session);
      port.postMessage({ id: request.id, ok: true } satisfies Reply);
    }
  } catch (err) {
    port.postMessage({ id: request.id, ok: false, message: (err as Error).message } satisfies Reply);
  }
}

// One request at a time, in order: runs then never wait on each other, and their timings are their own.
let queue = Promise.resolve();
port.on('message', (request: Request) => {
  queue = queue.then(() => handle(request));
});
