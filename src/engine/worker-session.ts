/**
 * A `Session` that runs on a worker thread. onnxruntime-node's `run` is synchronous and holds the calling
 * thread for the whole inference; on the worker it leaves the main thread free, so the detection pipeline
 * can read and prepare the next rows and mosaic the previous ones while the network runs. One worker serves
 * every session of the process and runs requests in order.
 */
import { Worker } from 'node:worker_threads';
import type { Reply, Request } from './session-worker.js';
import type { Feeds, Fetched, SessionOptions } from './session.js';

type Unsent = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Pending = { resolve: (reply: Reply & { ok: true }) => void; reject: (err: Error) => void };

let worker: Worker | null = null;
const pending = new Map<number, Pending>();
let nextId = 0;
let live = 0;

function call(request: Unsent, transfer: ArrayBuffer[] = []): Promise<Reply & { ok: true }> {
  if (!worker) {
    if (import.meta.url.endsWith('.ts')) {
      // Run from source under tsx (tests, scripts): Node 20 does not apply tsx's hooks to a worker's entry
      // file, so a bootstrap registers them first. Built, the worker is plain JavaScript.
      const entry = JSON.stringify(new URL('./session-worker.ts', import.meta.url).href);
      worker = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true });
    } else {
      worker = new Worker(new URL('./session-worker.js', import.meta.url));
    }
    worker.on('message', (reply: Reply) => {
      const p = pending.get(reply.id)!;
      pending.delete(reply.id);
      if (reply.ok) p.resolve(reply);
      else p.reject(new Error(reply.message));
    });
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker!.postMessage({ ...request, id } as Request, transfer);
  });
}

export class WorkerSession {
  /** Seconds the worker spent running this session's graph. */
  busySeconds = 0;

  private constructor(private readonly handle: number) {}

  static async create(model: Uint8Array, options: SessionOptions = {}): Promise<WorkerSession> {
    const reply = await call({ op: 'create', model, options });
    live++;
    return new WorkerSession(reply.session!);
  }

  /**
   * The feeds are copied (callers keep their arrays), or moved when `owned` (the caller's arrays are left
   * empty); the outputs come back without a copy. `reuse` names outputs (with their dims) to write into buffers
   * given back with `recycle`.
   */
  async run(feeds: Feeds, outputs?: string[], reuse?: Record<string, number[]>, owned = false): Promise<Fetched> {
    const copies: Feeds = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) {
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      copies[name] = { data: owned && whole ? data : Float32Array.from(data), dims };
    }
    const reply = await call({ op: 'run', session: this.handle, feeds: copies, outputs, reuse }, Object.values(copies).map((c) => c.data.buffer as ArrayBuffer));
    this.busySeconds += reply.seconds!;
    return reply.fetched!;
  }

  /** Gives output buffers back to the worker for reuse; the caller's views of them become empty. */
  recycle(buffers: ArrayBuffer[]): void {
    const unique = [...new Set(buffers)].filter((b) => b.byteLength > 0);
    if (worker && unique.length > 0) worker.postMessage({ op: 'recycle', buffers: unique, id: -1 } satisfies Request, unique);
  }

  async release(): Promise<void> {
    await call({ op: 'release', session: this.handle });
    // The last session gone: end the worker, so that it does not keep the process alive.
    if (--live === 0 && worker) {
      const w = worker;
      worker = null;
      await w.terminate();
    }
  }
}
