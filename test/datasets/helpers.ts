// Test helpers (not a test file): small TIFF writer on geotiff.js, temp dirs, numpy detection.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeArrayBuffer } from 'geotiff';

type Samples = Uint8Array | Uint16Array | Float32Array;

/**
 * Writes a pixel-interleaved TIFF from band-sequential planes (all of the same typed array kind).
 */
export async function writeTiff(path: string, width: number, height: number, planes: Samples[]): Promise<void> {
  const bands = planes.length;
  const first = planes[0]!;
  const n = width * height;
  const Ctor = first.constructor as { new (n: number): Samples };
  const interleaved = new Ctor(n * bands);
  for (let b = 0; b < bands; b++) for (let i = 0; i < n; i++) interleaved[i * bands + b] = planes[b]![i]!;
  const bits = first instanceof Uint8Array ? 8 : first instanceof Uint16Array ? 16 : 32;
  const format = first instanceof Float32Array ? 3 : 1;
  const meta: Record<string, unknown> = {
    width,
    height,
    BitsPerSample: new Array(bands).fill(bits),
    SampleFormat: new Array(bands).fill(format),
    SamplesPerPixel: bands,
    PhotometricInterpretation: 1,
    PlanarConfiguration: 1,
  };
  if (bands > 1) meta['ExtraSamples'] = new Array(bands - 1).fill(0);
  const buffer = await writeArrayBuffer(interleaved as never, meta as never);
  writeFileSync(path, Buffer.from(buffer as ArrayBuffer));
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `wdcd-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Runs a python3 script (numpy imported as np) with DIR set to `dir`. */
export function python(script: string, dir: string): void {
  const r = spawnSync('python3', ['-c', `import numpy as np, os\nDIR = ${JSON.stringify(dir)}\n${script}`], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
}

/** Hand-made .npy v1.0 bytes (per the NPY format spec) for when numpy is missing. */
export function npyBytes(descr: string, shape: number[], data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, total);
  return out;
}
