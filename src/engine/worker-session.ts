/**
 * A `Session` that runs on a worker thread. onnxruntime-node's `run` is synchronous and holds the calling
 * thread for the whole inference; on the worker it leaves the main thread free, so the detection pipeline
 * can read and prepare the next rows and mosaic the previous ones while the network runs. One worker serves
 * every session of the thread (and of threads it lends a port to) and runs requests in order.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import type { Reply, Request } from './session-worker.js';
import type { Feeds, Fetched, SessionOptions } from './session.js';

type Unsent = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Pending = { resolve: (reply: Reply & { ok: true }) => void; reject: (err: Error) => void };

/** This thread's own session worker, started on first use. */
let worker: Worker | null = null;
/** Where requests go: the worker, or a port to another thread's (`useSessionPort`). */
let channel: Worker | MessagePort | null = null;
const pending = new Map<number, Pending>();
let nextId = 0;
/** Sessions and lent ports still open; the worker ends with the last. */
let live = 0;

const onReply = (reply: Reply) => {
  const p = pending.get(reply.id)!;
  pending.delete(reply.id);
  if (reply.ok) p.resolve(reply);
  else p.reject(new Error(reply.message));
};

function ownWorker(): Worker {
  if (!worker) {
    worker = moduleWorker(import.meta.url, 'session-worker');
    worker.on('message', onReply);
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  return worker;
}

function call(request: Unsent, transfer: ArrayBuffer[] = []): Promise<Reply & { ok: true }> {
  channel ??= ownWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    channel!.postMessage({ ...request, id } as Request, transfer);
  });
}

/**
 * A port to this thread's session worker, for another thread (`useSessionPort` there): threads that share it
 * run their networks on one worker, one run at a time. The GPU provider needs that: runs from two threads at
 * once broke its command encoding (seen on the H200). Give it back with `returnSessionPort`.
 */
export function lendSessionPort(): MessagePort {
  const { port1, port2 } = new MessageChannel();
  ownWorker().postMessage({ op: 'connect', port: port2, id: -1 } satisfies Request, [port2]);
  live++;
  return port1;
}

export async function returnSessionPort(): Promise<void> {
  if (--live === 0) await endWorker();
}

/** In a thread handed a lent port: this thread's sessions run on the lender's worker. */
export function useSessionPort(port: MessagePort): void {
  channel = port;
  port.on('message', onReply);
}

async function endWorker(): Promise<void> {
  if (!worker) return; // sessions on a borrowed port: the lender ends its worker
  const w = worker;
  worker = null;
  if (channel === w) channel = null;
  await w.terminate();
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
    if (channel && unique.length > 0) channel.postMessage({ op: 'recycle', buffers: unique, id: -1 } satisfies Request, unique);
  }

  async release(): Promise<void> {
    await call({ op: 'release', session: this.handle });
    // The last session gone: end the worker, so that it does not keep the process alive.
    if (--live === 0) await endWorker();
  }
}
