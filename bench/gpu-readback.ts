/**
 * Where the GPU's feature pass spends its time: the bundled default's fully pruned (LPP) feature pass on
 * square windows, with the same convolutions and three outputs:
 * - `features`: the 32-channel map at full resolution, as detection reads it back today;
 * - `channel-sum`: the channels summed on the GPU (1 channel out), the size of a CAM;
 * - `block-means`: the map averaged over 48 px blocks at stride 24 on the GPU, the size of the block lattice;
 * and `relu`, a copy of the 4-band input through one cheap operator: the cost of moving pixels in and out alone.
 * If `features` is much slower than the two reductions, reading the maps back, not computing them, bounds it.
 *
 *   node --import tsx bench/gpu-readback.ts [--sides 1024,2048,4096] [--device gpu|cpu]
 */
import { parseArgs } from 'node:util';
import { GraphBuilder, type Value } from '../src/engine/graph-builder.js';
import { emitConvStack } from '../src/engine/network-graph.js';
import { Session } from '../src/engine/session.js';
import { poolIndices } from '../src/model/architecture.js';
import { loadModel } from '../src/model/model-file.js';
import { parameterSpecs } from '../src/model/parameters.js';

const OUTPUTS = ['relu', 'features', 'channel-sum', 'block-means'] as const;
type Output = (typeof OUTPUTS)[number];

const { values } = parseArgs({ options: { sides: { type: 'string', default: '1024,2048,4096' }, device: { type: 'string', default: 'gpu' } } });
if (values.device !== 'gpu' && values.device !== 'cpu') throw new Error('--device takes gpu or cpu');
const device = values.device;
const model = loadModel('default');
const arch = model.description.architecture;
const bands = model.description.bands.length;
const { blockSize, stride } = { blockSize: arch.blockSize, stride: model.description.detection.stride };

function graph(output: Output): Uint8Array {
  const b = new GraphBuilder(output);
  const x = b.input('input', [1, bands, 'height', 'width']);
  if (output === 'relu') {
    b.output(b.node('Relu', [x]), 'out', [1, bands, 'height', 'width']);
    return b.toBytes();
  }
  const param = new Map<string, Value>();
  for (const spec of parameterSpecs(arch, bands)) {
    if (spec.name.startsWith('conv')) param.set(spec.name, b.initializer(spec.name, spec.shape, model.weights.get(spec.name)!));
  }
  const features = emitConvStack(b, arch, x, null, (name) => param.get(name)!, new Set(poolIndices(arch.layers))).features;
  const out =
    output === 'features' ? features
    : output === 'channel-sum' ? b.node('ReduceSum', [features, b.ints([1])], { keepdims: 1 })
    : b.node('AveragePool', [features], { kernel_shape: [blockSize, blockSize], strides: [stride, stride] });
  b.output(out, 'out', [1, 'channels', 'out_height', 'out_width']);
  return b.toBytes();
}

/** Not zeros (they can hide unwritten outputs and run faster than real data): a smooth, varied field. */
const field = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));

async function medianSeconds(runs: number, step: () => Promise<unknown>): Promise<number> {
  await step(); // warm-up: session start and shader compilation stay out of the figure
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await step();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

console.log(`fully pruned feature pass of ${model.description.name} (${arch.name}) on the ${device}; median of 3 runs after a warm-up`);
console.log('| window | output | ms | MP/s | output MB | output GB/s |');
console.log('|---|---|---:|---:|---:|---:|');
for (const side of values.sides.split(',').map(Number)) {
  const feeds = { input: { data: field(bands * side * side), dims: [1, bands, side, side] } };
  for (const output of OUTPUTS) {
    const session = await Session.create(graph(output), { device });
    try {
      const bytes = (await session.run(feeds)).out.data.byteLength;
      const seconds = await medianSeconds(3, () => session.run(feeds));
      const mp = (side * side) / 1e6;
      console.log(`| ${side} x ${side} | ${output} | ${(seconds * 1000).toFixed(1)} | ${(mp / seconds).toFixed(1)} | ${(bytes / 1e6).toFixed(0)} | ${(bytes / 1e9 / seconds).toFixed(2)} |`);
    } catch (err) {
      console.log(`| ${side} x ${side} | ${output} | failed: ${(err as Error).message.slice(0, 120)} | | | |`);
    } finally {
      await session.release();
    }
  }
}
