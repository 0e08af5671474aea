/** Shared test helpers: temp folders and GDAL as the independent reader/writer of fixtures. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { encodeHeader, encodeIfd, type IfdEntry } from '../../src/raster/tiff-ifd.js';

export const DATA = '/work/shared/data';
export const L8 = `${DATA}/landsat8-scene-120m/LC80130312015295LGN00_`;
export const L7 = `${DATA}/landsat7-clear/L7_ETMs.tif`;

export const hasGdal = spawnSync('gdalinfo', ['--version']).status === 0;
/** Reason to skip GDAL-dependent tests, or false. */
export const noGdal: string | false = hasGdal ? false : 'gdalinfo not installed';
/** Debian's python3-gdal lives under the system interpreter, not a pyenv one. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** A temp folder removed when the test file finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-raster-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function gdal(tool: string, ...args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function gdalInfo(path: string): any {
  return JSON.parse(gdal('gdalinfo', '-json', path));
}

/** All bands as GDAL reads them, converted to float64 (GDAL's own decoding, via an ENVI raw dump). */
export function readWithGdal(path: string, dir: string): { width: number; height: number; bands: Float64Array[] } {
  const raw = join(dir, `gdal-dump-${Math.random().toString(36).slice(2)}.raw`);
  gdal('gdal_translate', '-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', '-ot', 'Float64', path, raw);
  const info = gdalInfo(path);
  const [width, height] = info.size as [number, number];
  const buf = readFileSync(raw);
  const all = new Float64Array(buf.buffer, buf.byteOffset, buf.length / 8);
  const n = width * height;
  return { width, height, bands: info.bands.map((_: unknown, b: number) => all.slice(b * n, (b + 1) * n)) };
}

/** Extracts a window from a full band. */
export function crop(band: ArrayLike<number>, width: number, x: number, y: number, w: number, h: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out.push(band[(y + r) * width + x + c]);
  return out;
}

/**
 * Asserts equal values (NaN equals NaN), reporting the first difference. Much faster than deepEqual on
 * arrays of a few hundred thousand numbers.
 */
export function assertSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, label = ''): void {
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a !== e && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`${label}: value ${i} is ${a}, expected ${e}`);
  }
}

/** A hand-made single-strip uint8 TIFF whose header claims the given size. */
export function craftTiff(path: string, width: number, height: number): void {
  const entries = (stripAt: number): IfdEntry[] => [
    { tag: 256, type: 'LONG', values: [width] },
    { tag: 257, type: 'LONG', values: [height] },
    { tag: 258, type: 'SHORT', values: [8] },
    { tag: 259, type: 'SHORT', values: [1] },
    { tag: 262, type: 'SHORT', values: [1] },
    { tag: 273, type: 'LONG', values: [stripAt] },
    { tag: 277, type: 'SHORT', values: [1] },
    { tag: 278, type: 'LONG', values: [height] },
    { tag: 279, type: 'LONG', values: [16] },
  ];
  const ifd = encodeIfd(entries(0), 8, 0, false);
  const stripAt = 8 + ifd.length;
  writeFileSync(path, Buffer.concat([encodeHeader(8, false), encodeIfd(entries(stripAt), 8, 0, false), Buffer.alloc(16)]));
}
