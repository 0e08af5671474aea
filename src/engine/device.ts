/**
 * Where the network runs. `gpu` is onnxruntime's WebGPU execution provider: Dawn over Vulkan, built into
 * onnxruntime-node's Linux x64 binary, so nothing is downloaded; it needs the system's Vulkan loader
 * (Debian: libvulkan1) and the GPU's Vulkan driver. (The CUDA provider is not in the npm package: its
 * installer downloads it.) `auto` takes the GPU where that provider finds an adapter, else the CPU; asking
 * costs about 30 ms where there is none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError } from '../errors.js';
import { GraphBuilder } from './graph-builder.js';

export type DeviceChoice = 'auto' | 'cpu' | 'gpu';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'gpu'];

let gpuProbe: Promise<string | null> | undefined;

/** Why the GPU cannot be used, or null where it can. Asked once per thread. */
export function gpuUnavailable(): Promise<string | null> {
  gpuProbe ??= (async () => {
    // Without a Vulkan loader Dawn prints a warning of its own on stderr: look for the loader first, quietly.
    if (!vulkanLoaderPresent()) return 'no Vulkan loader (libvulkan.so.1; Debian: apt install libvulkan1)';
    const b = new GraphBuilder('probe');
    b.output(b.node('Relu', [b.input('x', [1])]), 'y', [1]);
    try {
      const session = await ort.InferenceSession.create(b.toBytes(), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
      await session.release();
      return null;
    } catch (err) {
      return (err as Error).message.replace(/^\S*\.cc:\d+ /, '').slice(0, 300);
    }
  })();
  return gpuProbe;
}

function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true; // let the provider tell
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return true;
  }
}

export async function resolveDevice(choice: DeviceChoice = 'auto'): Promise<'cpu' | 'gpu'> {
  if (choice === 'cpu') return 'cpu';
  const why = await gpuUnavailable();
  if (why && choice === 'gpu') throw new InputError(`no usable GPU (onnxruntime's WebGPU provider: ${why})`, '--device');
  return why ? 'cpu' : 'gpu';
}
