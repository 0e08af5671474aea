/**
 * The one place that touches the runtime (onnxruntime-node). A `Session` runs one graph on float32 tensors.
 * Changing the engine means changing this folder only.
 */
import * as ort from 'onnxruntime-node';
import { resolveDevice, type DeviceChoice } from './device.js';

export interface SessionOptions {
  /** Intra-op threads; defaults to every core (2 on the reference machine). */
  threads?: number;
  /** Run on a worker thread (see worker-session.ts). */
  worker?: boolean;
  /** With `worker`: copies of the session on this many workers, runs spread over them (default 1). */
  workers?: number;
  /** CPU or GPU (device.ts; operators the GPU provider lacks run on the CPU). Default `cpu`. */
  device?: DeviceChoice;
}

export type Feeds = Record<string, { data: Float32Array; dims: number[] }>;
export type Fetched = Record<string, { data: Float32Array; dims: number[] }>;

export class Session {
  /** Seconds spent in `run`. */
  busySeconds = 0;

  /**
   * Inputs on a SharedArrayBuffer (shared-floats.ts) are copied first, since onnxruntime-node takes none
   * ("Invalid argument"), into arrays kept for the next runs. Each run takes its own: the runtime runs a
   * session's calls one by one but later (setImmediate), so a shared array would hold only the last input.
   */
  private readonly inputCopies: Float32Array[] = [];

  private constructor(private readonly inner: ort.InferenceSession) {}

  private plain(data: Float32Array, taken: Float32Array[]): Float32Array {
    if (!(data.buffer instanceof SharedArrayBuffer)) return data;
    let best = -1;
    for (let i = 0; i < this.inputCopies.length; i++) if (this.inputCopies[i].length >= data.length && (best < 0 || this.inputCopies[i].length < this.inputCopies[best].length)) best = i;
    const copy = best >= 0 ? this.inputCopies.splice(best, 1)[0] : new Float32Array(Math.ceil(data.length * 1.25));
    taken.push(copy);
    const view = copy.subarray(0, data.length);
    view.set(data);
    return view;
  }

  static async create(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const device = await resolveDevice(options.device ?? 'cpu');
    const inner = await ort.InferenceSession.create(model, {
      executionProviders: device === 'gpu' ? ['webgpu', 'cpu'] : ['cpu'],
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // The arena keeps freed buffers for reuse; windows of varying size would make it grow without bound.
      enableCpuMemArena: false,
      // Idle runtime threads spin by default, waiting for the next run. Beside a busy main thread (a worker
      // session) that spinning takes its core: turning it off cut a 16 MP detection from ~37 to ~30 CPU-seconds.
      ...(options.worker ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    });
    return new Session(inner);
  }

  /** `into`: outputs to write into these arrays (of the output's exact size) instead of new ones. */
  async run(feeds: Feeds, outputs?: string[], into?: Fetched): Promise<Fetched> {
    const tensors: Record<string, ort.Tensor> = {};
    const taken: Float32Array[] = [];
    for (const [name, { data, dims }] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', this.plain(data, taken), dims);
    const started = performance.now();
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      if (into) {
        const fetches: Record<string, ort.Tensor> = {};
        for (const [name, { data, dims }] of Object.entries(into)) fetches[name] = new ort.Tensor('float32', data, dims);
        result = await this.inner.run(tensors, fetches);
      } else result = outputs ? await this.inner.run(tensors, outputs) : await this.inner.run(tensors);
    } finally {
      this.inputCopies.push(...taken);
    }
    this.busySeconds += (performance.now() - started) / 1000;
    const fetched: Fetched = {};
    for (const [name, tensor] of Object.entries(result)) {
      // With `into`, the runtime wrote into the given array (its result wraps the same memory): hand that back.
      fetched[name] = { data: into?.[name]?.data ?? (tensor.data as Float32Array), dims: tensor.dims.map(Number) };
    }
    return fetched;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}
