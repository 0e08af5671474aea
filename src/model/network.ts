/**
 * A trained network ready to run, each pass an onnxruntime session built from the model's weights: the pooled
 * network on blocks (block logit + GCP outputs), the pooled network's final feature maps over any window (blocks
 * scored convolutionally, see detect/block-scores.ts), and the pool-pruned feature pass (LPP).
 */
import { buildFeatureGraph, buildScoringGraph } from '../engine/inference-graphs.js';
import { Session, type Feeds, type Fetched, type SessionOptions } from '../engine/session.js';
import { WorkerSession } from '../engine/worker-session.js';

type AnySession = Pick<Session, 'release' | 'busySeconds'> & { run(feeds: Feeds, outputs?: string[]): Promise<Fetched> };
const createSession = (model: Uint8Array, options: SessionOptions): Promise<AnySession> =>
  options.worker ? WorkerSession.create(model, options) : Session.create(model, options);
import { featureChannels, outputSide, poolIndices, prunedGeometry } from './architecture.js';
import type { Model } from './model-file.js';

export interface FeatureMap {
  /** [channels, height, width] */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

function featureMap(out: Fetched): FeatureMap {
  const [, channels, height, width] = out.features.dims;
  return { data: out.features.data, channels, height, width };
}

export class Network {
  readonly channels: number;
  readonly bandCount: number;
  readonly blockSize: number;
  /** Output (i, j) of the feature pass sits over input pixel (offset + stride i, offset + stride j). */
  readonly geometry: { stride: number; offset: number };
  private scoring?: Promise<AnySession>;
  private featuring?: Promise<AnySession>;
  private pooledFeaturing?: Promise<AnySession>;

  constructor(
    readonly model: Model,
    readonly prunedPools: ReadonlySet<number> = new Set(model.description.prunedPools),
    private readonly sessionOptions: SessionOptions = {},
  ) {
    const arch = model.description.architecture;
    for (const p of prunedPools) if (!poolIndices(arch.layers).includes(p)) throw new Error(`layer ${p} of ${arch.name} is not a max-pool`);
    this.channels = featureChannels(arch.layers);
    this.bandCount = model.description.bands.length;
    this.blockSize = arch.blockSize;
    this.geometry = prunedGeometry(arch.layers, prunedPools);
  }

  /** Blocks are [count, bands, size, size], normalised. Returns logits [count] and pooled responses [count, C]. */
  async score(blocks: Float32Array, count: number): Promise<{ logit: Float32Array; pooled: Float32Array }> {
    const { architecture } = this.model.description;
    this.scoring ??= createSession(buildScoringGraph(architecture, this.bandCount, this.model.weights), this.sessionOptions);
    const session = await this.scoring;
    const size = this.blockSize;
    const out = await session.run({ input: { data: blocks, dims: [count, this.bandCount, size, size] } });
    return { logit: out.logit.data, pooled: out.pooled.data };
  }

  /**
   * Pruned-network features of a normalised [bands, height, width] window. `owned`: the window may be moved to
   * the worker instead of copied (the caller's array is left empty). On a worker, the map is written into a
   * buffer given back with `recycle` where one is free.
   */
  async features(window: Float32Array, height: number, width: number, owned = false): Promise<FeatureMap> {
    this.featuring ??= createSession(buildFeatureGraph(this.model.description.architecture, this.bandCount, this.model.weights, this.prunedPools), this.sessionOptions);
    return this.runFeatures(await this.featuring, this.prunedPools, window, height, width, owned);
  }

  /** The trained (pooled) network's final feature maps over a normalised [bands, height, width] window; as `features`. */
  async pooledFeatures(window: Float32Array, height: number, width: number, owned = false): Promise<FeatureMap> {
    if (this.prunedPools.size === 0) return this.features(window, height, width, owned); // the same graph
    this.pooledFeaturing ??= createSession(buildFeatureGraph(this.model.description.architecture, this.bandCount, this.model.weights, new Set()), this.sessionOptions);
    return this.runFeatures(await this.pooledFeaturing, new Set(), window, height, width, owned);
  }

  private async runFeatures(session: AnySession, pruned: ReadonlySet<number>, window: Float32Array, height: number, width: number, owned: boolean): Promise<FeatureMap> {
    const feeds = { input: { data: window, dims: [1, this.bandCount, height, width] } };
    if (!(session instanceof WorkerSession)) return featureMap(await session.run(feeds));
    const { layers } = this.model.description.architecture;
    const dims = [1, this.channels, outputSide(layers, height, pruned), outputSide(layers, width, pruned)];
    return featureMap(await session.run(feeds, undefined, { features: dims }, owned));
  }

  /** Gives maps from `features` or `pooledFeatures` back for reuse; nothing may read them afterwards. */
  async recycle(maps: FeatureMap[]): Promise<void> {
    const session = (this.featuring && (await this.featuring)) ?? (this.pooledFeaturing && (await this.pooledFeaturing));
    if (session instanceof WorkerSession) session.recycle(maps.map((m) => m.data.buffer as ArrayBuffer));
  }

  /** Seconds the runtime has spent on each pass so far (on the worker thread, if the sessions run there). */
  async busySeconds(): Promise<{ score: number; features: number }> {
    const busy = async (s?: Promise<AnySession>) => (s ? (await s).busySeconds : 0);
    return { score: (await busy(this.scoring)) + (await busy(this.pooledFeaturing)), features: await busy(this.featuring) };
  }

  /** The linear cloud unit: logit = bias + sum_k weight[k] g[k]. */
  get classifier(): { weight: Float32Array; bias: number } {
    return { weight: this.model.weights.get('fc.weight')!, bias: this.model.weights.get('fc.bias')![0] };
  }

  async release(): Promise<void> {
    for (const s of [this.scoring, this.featuring, this.pooledFeaturing]) if (s) await (await s).release();
  }
}
