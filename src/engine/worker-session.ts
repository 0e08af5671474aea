/**
 * A `Session` that runs on a worker thread. onnxruntime-node's `run` is synchronous and holds the calling
 * thread for the whole inference; on the worker it leaves the main thread free, so the detection pipeline
 * can read and prepare the next rows and mosaic the previous ones while the network runs. A pool of workers
 * serves every session of the thread (and of threads it lends ports to); each worker runs its requests in order.
 * On the CPU several single-threaded workers beat one worker with as many runtime threads: runs are
 * independent tiles, and one thread needs no hand-offs between cores inside each layer (`cpuWorkerLayout`).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import type { Reply, Request } from './session-worker.js';
import type { Feeds, Fetched, SessionOptions } from './session.js';

/** Most CPU workers: beyond this, each worker's runtime gets more threads instead (every worker holds its own copy). */
const MAX_CPU_WORKERS = 4;

/**
 * How a detection's network spreads over `threads` CPU threads (default: every core): as single-threaded
 * session copies on up to 4 workers, each run a tile of its own (a single thread needs no hand-offs between
 * cores inside each layer). On 2 cores, a 16 MP detection ran at 1.36 against 1.30 MP/s with 1 worker x 2
 * threads (means of 6 alternated runs each, 5 of 6 faster), for about 60 MB more memory; the feature pass on
 * its own, each worker running tiles without messages, 3.6-3.7 against 2.8-3.0 MP/s. The GPU takes one worker
 * (see `lendSessionPorts`).
 */
export function cpuWorkerLayout(threads?: number): { workers: number; threads: number } {
  const cores = Math.max(1, threads ?? availableParallelism());
  const workers = Math.min(cores, MAX_CPU_WORKERS);
  return { workers, threads: Math.ceil(cores / workers) };
}

type Unsent = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Pending = { resolve: (reply: Reply & { ok: true }) => void; reject: (err: Error) => void };

/** This thread's own session workers, started on first use (the pool grows to the most any session asks for). */
const workers: Worker[] = [];
/** Where requests go, one per worker: this thread's workers, or ports to another thread's (`useSessionPorts`). */
let channels: (Worker | MessagePort)[] | null = null;
/** Runs sent to each channel and not yet answered, whichever session sent them: new runs go where fewest wait. */
let waiting: number[] = [];
const pending = new Map<number, Pending>();
let nextId = 0;
/** Sessions and lent ports still open; the workers end with the last. */
let live = 0;

const onReply = (reply: Reply) => {
  const p = pending.get(reply.id)!;
  pending.delete(reply.id);
  if (reply.ok) p.resolve(reply);
  else p.reject(new Error(reply.message));
};

function ownWorkers(count: number): Worker[] {
  while (workers.length < count) {
    const worker = moduleWorker(import.meta.url, 'session-worker');
    worker.on('message', onReply);
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    workers.push(worker);
  }
  return workers;
}

/** The channels sessions use, at least `count` of them where this thread owns its workers. */
function channelsFor(count: number): (Worker | MessagePort)[] {
  if (channels && channels !== workers) return channels; // borrowed ports: the lender chose how many
  channels = ownWorkers(count);
  while (waiting.length < channels.length) waiting.push(0);
  return channels;
}

function call(to: number, request: Unsent, transfer: ArrayBuffer[] = []): Promise<Reply & { ok: true }> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    channels![to].postMessage({ ...request, id } as Request, transfer);
  });
}

/**
 * Ports to this thread's session workers (`count` of them), for another thread (`useSessionPorts` there):
 * threads that share them run their networks on the same workers. The GPU provider needs one worker, one run
 * at a time: runs from two threads at once broke its command encoding (seen on the H200). Give them back with
 * `returnSessionPorts`.
 */
export function lendSessionPorts(count: number): MessagePort[] {
  return ownWorkers(count).slice(0, count).map((worker) => {
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ op: 'connect', port: port2, id: -1 } satisfies Request, [port2]);
    live++;
    return port1;
  });
}

export async function returnSessionPorts(count: number): Promise<void> {
  if (count === 0) return;
  live -= count;
  if (live === 0) await endWorkers();
}

/** In a thread handed lent ports: this thread's sessions run on the lender's workers. */
export function useSessionPorts(ports: MessagePort[]): void {
  channels = ports;
  waiting = ports.map(() => 0);
  for (const port of ports) port.on('message', onReply);
}

async function endWorkers(): Promise<void> {
  const ending = workers.splice(0);
  if (ending.length === 0) return; // sessions on borrowed ports: the lender ends its workers
  if (channels === workers) {
    channels = null;
    waiting = [];
  }
  await Promise.all(ending.map((w) => w.terminate()));
}

export class WorkerSession {
  /** Seconds the workers spent running this session's graph, added over workers. */
  busySeconds = 0;
  /** Which worker made each output buffer: a recycled buffer goes back to it. */
  private readonly madeBy = new WeakMap<ArrayBuffer, number>();

  /** `handles[i]`: this session's copy on channel i. */
  private constructor(private readonly handles: number[]) {}

  /** `options.workers` copies of the session, one per worker (default 1): each run goes to one of them. */
  static async create(model: Uint8Array, options: SessionOptions = {}): Promise<WorkerSession> {
    const count = channelsFor(Math.max(1, options.workers ?? 1)).length;
    const replies = await Promise.all(Array.from({ length: Math.min(count, Math.max(1, options.workers ?? 1)) }, (_, i) => call(i, { op: 'create', model, options })));
    live++;
    return new WorkerSession(replies.map((r) => r.session!));
  }

  /**
   * The feeds are copied (callers keep their arrays), or moved when `owned` (the caller's arrays are left
   * empty), or, on a SharedArrayBuffer (shared-floats.ts), shared: the caller must leave those alone until the run
   * is done. The outputs come back without a copy. `reuse` names outputs (with their dims) to write into buffers
   * given back with `recycle`. The run goes to the worker with the fewest runs waiting.
   */
  async run(feeds: Feeds, outputs?: string[], reuse?: Record<string, number[]>, owned = false): Promise<Fetched> {
    const copies: Feeds = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, { data, dims }] of Object.entries(feeds)) {
      if (data.buffer instanceof SharedArrayBuffer) {
        copies[name] = { data, dims };
        continue;
      }
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      copies[name] = { data: owned && whole ? data : Float32Array.from(data), dims };
      transfer.push(copies[name].data.buffer as ArrayBuffer);
    }
    let to = 0;
    for (let i = 1; i < this.handles.length; i++) if (waiting[i] < waiting[to]) to = i;
    waiting[to]++;
    try {
      const reply = await call(to, { op: 'run', session: this.handles[to], feeds: copies, outputs, reuse }, transfer);
      this.busySeconds += reply.seconds!;
      for (const f of Object.values(reply.fetched!)) this.madeBy.set(f.data.buffer as ArrayBuffer, to);
      return reply.fetched!;
    } finally {
      waiting[to]--;
    }
  }

  /** Gives output buffers back to the workers that made them, for reuse; the caller's views become empty. */
  recycle(buffers: ArrayBuffer[]): void {
    if (!channels) return;
    const byWorker = new Map<number, ArrayBuffer[]>();
    for (const b of new Set(buffers)) {
      if (b.byteLength === 0) continue;
      const to = this.madeBy.get(b) ?? 0;
      byWorker.set(to, [...(byWorker.get(to) ?? []), b]);
    }
    for (const [to, list] of byWorker) channels[to].postMessage({ op: 'recycle', buffers: list, id: -1 } satisfies Request, list);
  }

  async release(): Promise<void> {
    await Promise.all(this.handles.map((handle, i) => call(i, { op: 'release', session: handle })));
    // The last session gone: end the workers, so that they do not keep the process alive.
    if (--live === 0) await endWorkers();
  }
}
