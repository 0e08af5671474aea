/**
 * JPEG 2000 tiles decoded on worker threads, several at once. OpenJPEG's wasm build decodes about 5.5 MP/s of
 * 16-bit samples on one thread, synchronously: on the thread that reads and mosaics, a 16 MP four-band scene
 * spent most of its 20 s there while the network's workers waited. The threads are started as tiles are asked
 * for, up to one per core, and are left idle (unreferenced, so they never keep a process alive) between reads.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import type { DecodeReply, DecodeRequest } from './jpeg2000-decode-worker.js';

export type TileDecode = Omit<DecodeRequest, 'id'>;

interface Job {
  id: number;
  request: TileDecode;
  /** OpenJPEG's working memory for the tile: 32-bit integers per sample. */
  bytes: number;
  resolve: (samples: ArrayBuffer) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  job: Job | null;
}

const MAX_THREADS = 8;
/** OpenJPEG's working memory of the tiles being decoded at once, unless there is only one. */
const BYTES_IN_FLIGHT = 2 ** 28;
/** A thread that decoded a tile larger than this is replaced after it: its wasm memory never shrinks. */
const RECYCLE_BYTES = 2 ** 26;

const threads: Thread[] = [];
const queue: Job[] = [];
let nextId = 0;
let bytesInFlight = 0;

function startThread(): Thread {
  const thread: Thread = { worker: moduleWorker(import.meta.url, 'jpeg2000-decode-worker'), job: null };
  const fail = (err: Error) => {
    const job = thread.job;
    retire(thread);
    job?.reject(err);
    dispatch();
  };
  thread.worker.on('message', (reply: DecodeReply) => {
    const job = thread.job;
    if (!job || job.id !== reply.id) return;
    thread.job = null;
    bytesInFlight -= job.bytes;
    // After an error OpenJPEG's wasm state is not trusted again.
    if (job.bytes > RECYCLE_BYTES || !reply.ok) retire(thread);
    else thread.worker.unref();
    if (reply.ok) job.resolve(reply.samples);
    else job.reject(new Error(reply.message));
    dispatch();
  });
  thread.worker.on('error', fail);
  thread.worker.on('exit', (code) => fail(new Error(`the JPEG 2000 decoding thread stopped (exit code ${code})`)));
  threads.push(thread);
  return thread;
}

function retire(thread: Thread): void {
  const at = threads.indexOf(thread);
  if (at < 0) return;
  threads.splice(at, 1);
  if (thread.job) bytesInFlight -= thread.job.bytes;
  thread.job = null;
  thread.worker.removeAllListeners('exit');
  void thread.worker.terminate();
}

function dispatch(): void {
  while (queue.length > 0) {
    const job = queue[0];
    if (bytesInFlight > 0 && bytesInFlight + job.bytes > BYTES_IN_FLIGHT) return;
    let thread = threads.find((t) => !t.job);
    if (!thread) {
      if (threads.length >= Math.min(MAX_THREADS, availableParallelism())) return;
      thread = startThread();
    }
    queue.shift();
    thread.job = job;
    bytesInFlight += job.bytes;
    thread.worker.ref(); // a reply is awaited
    thread.worker.postMessage({ id: job.id, ...job.request } satisfies DecodeRequest);
  }
}

/** Tiles asked for since the process started (the bench and the tests count decodes with it). */
export let tilesDecoded = 0;

/** The tile's samples, bands interleaved, as OpenJPEG gives them; rejects with OpenJPEG's messages. */
export function decodeTile(request: TileDecode): Promise<ArrayBuffer> {
  tilesDecoded++;
  return new Promise((resolve, reject) => {
    const bytes = request.width * request.height * request.components * 4;
    queue.push({ id: nextId++, request, bytes, resolve, reject });
    dispatch();
  });
}
