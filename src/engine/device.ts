/**
 * Where the network runs. `gpu` is onnxruntime's WebGPU execution provider: Dawn over Vulkan, built into
 * onnxruntime-node's Linux x64 binary, so nothing is downloaded; it needs the system's Vulkan loader
 * (Debian: libvulkan1) and the GPU's Vulkan driver. (The CUDA provider is not in the npm package: its
 * installer downloads it.) `auto` takes the GPU where that provider finds an adapter, else the CPU; asking
 * costs about 30 ms where there is none.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
    const missing = vulkanMissing();
    if (missing) return missing;
    const b = new GraphBuilder('probe');
    b.output(b.node('Relu', [b.input('x', [1])]), 'y', [1]);
    try {
      const session = await ort.InferenceSession.create(b.toBytes(), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
      await session.release();
      return null;
    } catch (err) {
      const message = (err as Error).message;
      return (/Failed to get a WebGPU adapter.*/.exec(message)?.[0] ?? message.replace(/^\S*\.cc:\d+ /, '')).slice(0, 300);
    }
  })();
  return gpuProbe;
}

/**
 * Why Vulkan cannot work here, judged from files alone, or null: without a loader or a driver manifest Dawn
 * prints warnings of its own on stderr, so those cases are answered before asking it.
 */
function vulkanMissing(): string | null {
  if (process.platform !== 'linux') return null; // let the provider tell
  const libraryDirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  let loader = libraryDirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
  try {
    loader ||= readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    loader = true; // no cache to look in: let the provider tell
  }
  if (!loader) return 'no Vulkan loader (libvulkan.so.1; Debian: apt install libvulkan1)';
  if (process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES || process.env.VK_ADD_DRIVER_FILES) return null;
  const dataDirs = [...(process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':'), '/etc'].filter(Boolean);
  const manifests = dataDirs.flatMap((d) => {
    try {
      return readdirSync(join(d, 'vulkan', 'icd.d')).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  });
  return manifests.length > 0 ? null : 'no Vulkan driver (no manifest in vulkan/icd.d; set VK_DRIVER_FILES if yours is elsewhere)';
}

export async function resolveDevice(choice: DeviceChoice = 'auto'): Promise<'cpu' | 'gpu'> {
  if (choice === 'cpu') return 'cpu';
  const why = await gpuUnavailable();
  if (why && choice === 'gpu') throw new InputError(`no usable GPU (onnxruntime's WebGPU provider: ${why})`, '--device');
  return why ? 'cpu' : 'gpu';
}
