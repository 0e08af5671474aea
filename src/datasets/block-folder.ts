/**
 * Blocks from ordinary files:
 * (a) `blockFolder(dir)`: a folder with `cloudy/` and `clear/` subfolders of block images (any format openRaster
 *     reads; sub-subfolders are included; files it cannot be a raster of – by extension – are ignored);
 * (b) `blockCsv(file)`: a CSV of `path,label` rows (label 0/1, or clear/cloudy); a header row is optional; paths are
 *     relative to the CSV file; quoted fields ("a,b.tif") are allowed.
 *
 * Every block must be square, the same size as the first and hold as many bands (checked on load). Blocks are lazy
 * (see blocks.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { sortedEntries } from './list-folder.js';
import { fileBlockRef, probeBlockFile, type BandOptions, type BlockRef, type BlockSource } from './blocks.js';
import { bandOptionsOf } from './wdcd-layout.js';

/** File extensions taken as block images. */
export const BLOCK_IMAGE_EXTENSIONS = new Set(['.tif', '.tiff', '.png', '.jpg', '.jpeg', '.webp']);

async function listImages(dir: string): Promise<string[]> {
  const entries = await sortedEntries(dir);
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listImages(p)));
    else if (BLOCK_IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

async function build(root: string, items: { path: string; label: 0 | 1 }[], options: BandOptions, where: string): Promise<BlockSource> {
  if (items.length === 0) throw new InputError('no block images found', where);
  const { size, bandCount, first } = await probeBlockFile([items[0]!.path], options);
  const bandOptions = bandOptionsOf(options);
  const blocks: BlockRef[] = items.map((it) =>
    fileBlockRef(relative(root, it.path).replace(/\\/g, '/'), it.label, [it.path], size, bandCount, bandOptions, first),
  );
  return { blocks, size, bandCount, warnings: [] };
}

/** (a) `dir/cloudy/*` (label 1) and `dir/clear/*` (label 0). */
export async function blockFolder(dir: string, options: BandOptions = {}): Promise<BlockSource> {
  const root = resolve(dir);
  const missing = ['cloudy', 'clear'].filter((sub) => !existsSync(join(root, sub)));
  if (missing.length > 0) {
    throw new InputError(`no ${missing.map((m) => `${m}/`).join(' or ')} subfolder; a block folder holds cloudy/ and clear/`, root);
  }
  const cloudy = await listImages(join(root, 'cloudy'));
  const clear = await listImages(join(root, 'clear'));
  const items = [
    ...clear.map((path) => ({ path, label: 0 as const })),
    ...cloudy.map((path) => ({ path, label: 1 as const })),
  ];
  return build(root, items, options, root);
}

/** Splits one CSV line (commas; double quotes with "" escapes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function parseLabel(s: string): 0 | 1 | undefined {
  const v = s.toLowerCase();
  if (v === '0' || v === 'clear' || v === '0.0') return 0;
  if (v === '1' || v === 'cloudy' || v === 'cloud' || v === '1.0') return 1;
  return undefined;
}

const HEADER = /^(labels?|class(es)?|target|y|is_?cloudy?)$/i;
/** Names of a path column in a header row (`image,cloudy`: the label column may be named like a label). */
const PATH_HEADER = /^(paths?|images?|files?|file_?names?|blocks?|names?)$/i;

/** (b) A CSV of `path,label`. */
export async function blockCsv(csvPath: string, options: BandOptions = {}): Promise<BlockSource> {
  const file = resolve(csvPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read CSV: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, csvPath);
  }
  const base = dirname(file);
  const items: { path: string; label: 0 | 1 }[] = [];
  // A block listed twice is read once; listed with both labels, the CSV contradicts itself and is refused.
  const seen = new Map<string, { line: number; label: 0 | 1 }>();
  let repeats = 0;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.findIndex((l) => l.trim());
  for (const [i, raw] of lines.entries()) {
    if (!raw.trim()) continue;
    const cells = splitCsvLine(raw);
    if (cells.length < 2) throw new InputError(`line ${i + 1}: expected "path,label", got "${raw}"`, csvPath);
    const label = parseLabel(cells[1]!);
    const path = resolve(base, cells[0]!);
    // A header row names its columns; a first row with a mistyped label is an error like any other.
    const header = i === firstLine && !existsSync(path) && (HEADER.test(cells[1]!) || PATH_HEADER.test(cells[0]!));
    if (header) continue;
    if (label === undefined) throw new InputError(`line ${i + 1}: label must be 0/1 (or clear/cloudy), got "${cells[1]}"`, csvPath);
    // Said here, with the line, rather than when the block is read: paths written relative to the working folder
    // instead of the CSV's are the usual cause.
    if (!existsSync(path)) throw new InputError(`line ${i + 1}: no file ${cells[0]} (${path}; paths are relative to the CSV's folder)`, csvPath);
    const earlier = seen.get(path);
    if (earlier && earlier.label !== label) {
      throw new InputError(`line ${i + 1} labels ${cells[0]} ${label === 1 ? 'cloudy' : 'clear'}, line ${earlier.line} labelled it ${label === 1 ? 'clear' : 'cloudy'}`, csvPath);
    }
    if (earlier) repeats++;
    else {
      seen.set(path, { line: i + 1, label });
      items.push({ path, label });
    }
  }
  const source = await build(base, items, options, csvPath);
  if (repeats > 0) source.warnings.push(`${csvPath}: ${repeats} repeated row(s) read once`);
  return source;
}
