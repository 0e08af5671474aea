/**
 * The published WDCD dataset layout, used as it is: block images (250 x 250 px, 4-band TIFF: blue, green, red, NIR,
 * 10-bit DN) with a scalar block label `<name>_bl.npy` (0 clear, 1 cloudy) beside each, optionally with image list
 * files per split (one name per line).
 *
 * - Without a split, every `*.tif` / `*.tiff` under the root (recursively) that has a `<name>_bl.npy` beside it is a
 *   block; TIFFs without a label file (e.g. pixel masks), and label files without a TIFF, are skipped and reported
 *   in `warnings`.
 * - With a split, the list file is `listFile` if given (`wdcd:DIR:LIST.txt`; a relative path not found from the
 *   working folder is looked for in the root), else the first of
 *   `<root>/<split>.txt`, `<root>/<split>_list.txt`, `<root>/ImageSets/<split>.txt`, `<root>/lists/<split>.txt`, `<root>/<split>/list.txt`.
 *   A line names a block by its name (`GF1_xxx_12`), file name (`GF1_xxx_12.tif`) or a path relative to the list
 *   file or the root; blank lines and lines starting with `#` are ignored. A listed block that cannot be found, or
 *   that has no label file, is an InputError.
 *
 * Blocks are lazy (see blocks.ts); the first one is opened to learn the block size and band count.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { sortedEntries } from './list-folder.js';
import { fileBlockRef, probeBlockFile, type BandOptions, type BlockRef, type BlockSource } from './blocks.js';
import { readBlockLabel } from './npy.js';

export interface WdcdLayoutOptions extends BandOptions {
  /** A split name ('train', 'test', ...): read its list file. */
  split?: string;
  /** An explicit list file (one block name per line). */
  listFile?: string;
}

const TIFF = /\.tiff?$/i;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  const entries = await sortedEntries(dir);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else out.push(p);
  }
  return out;
}

function labelPathFor(image: string): string {
  return join(dirname(image), `${basename(image, extname(image))}_bl.npy`);
}

async function findListFile(root: string, split: string): Promise<string> {
  const candidates = [
    join(root, `${split}.txt`),
    join(root, `${split}_list.txt`),
    join(root, 'ImageSets', `${split}.txt`),
    join(root, 'lists', `${split}.txt`),
    join(root, split, 'list.txt'),
  ];
  for (const c of candidates) if (await exists(c)) return c;
  throw new InputError(
    `no list file for split "${split}" (looked for ${candidates.map((c) => relative(root, c)).join(', ')}); ` +
      `name the list file instead of the split (wdcd:${root}:LIST.txt)`,
    root,
  );
}

/** Lists the blocks of a WDCD-layout folder. */
export async function wdcdLayout(root: string, options: WdcdLayoutOptions = {}): Promise<BlockSource> {
  const absRoot = resolve(root);
  const files = await walk(absRoot);
  const tiffs = files.filter((f) => TIFF.test(f));
  const fileSet = new Set(files);
  const warnings: string[] = [];
  let images: string[];

  let listFile = options.listFile;
  // A list file named relative to the dataset (wdcd:/data/WDCD:train_list.txt) is found there when the working folder has none.
  if (listFile !== undefined && !isAbsolute(listFile) && !(await exists(listFile)) && (await exists(join(absRoot, listFile)))) listFile = join(absRoot, listFile);
  if (listFile === undefined && options.split) listFile = await findListFile(absRoot, options.split);
  if (listFile) {
    const byStem = new Map<string, string[]>();
    for (const t of tiffs) {
      const stem = basename(t, extname(t));
      byStem.set(stem, [...(byStem.get(stem) ?? []), t]);
    }
    let text: string;
    try {
      text = await readFile(listFile, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read list file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, listFile);
    }
    images = [];
    for (const [lineNo, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const direct = [resolve(dirname(listFile), line), resolve(absRoot, line)].find(
        (p) => TIFF.test(p) && fileSet.has(p),
      );
      let found = direct;
      if (!found) {
        const stem = basename(line).replace(TIFF, '');
        const hits = byStem.get(stem) ?? [];
        if (hits.length > 1) {
          throw new InputError(
            `line ${lineNo + 1}: "${line}" matches several block files (${hits.map((h) => relative(absRoot, h)).join(', ')})`,
            listFile,
          );
        }
        found = hits[0];
      }
      if (!found) throw new InputError(`line ${lineNo + 1}: no block image "${line}" under ${absRoot}`, listFile);
      if (!fileSet.has(labelPathFor(found))) {
        throw new InputError(`block ${relative(absRoot, found)} has no label file ${basename(labelPathFor(found))}`, listFile);
      }
      images.push(found);
    }
  } else {
    images = [];
    const unlabelled: string[] = [];
    for (const t of tiffs) {
      if (fileSet.has(labelPathFor(t))) images.push(t);
      else unlabelled.push(t);
    }
    if (unlabelled.length > 0) warnings.push(`${absRoot}: ${unlabelled.length} TIFF file(s) without a <name>_bl.npy label were skipped (${named(unlabelled, absRoot)})`);
    // A label whose block is missing (deleted, or named otherwise) is a block the user meant to train on.
    const labelled = new Set(images.map(labelPathFor));
    const orphans = files.filter((f) => f.endsWith('_bl.npy') && !labelled.has(f));
    if (orphans.length > 0) warnings.push(`${absRoot}: ${orphans.length} label file(s) without a <name>.tif block beside them were skipped (${named(orphans, absRoot)})`);
  }
  if (images.length === 0) {
    throw new InputError(
      listFile ? 'the list file names no blocks' : 'no block images with <name>_bl.npy labels found (WDCD layout)',
      listFile ?? absRoot,
    );
  }
  const { size, bandCount, first } = await probeBlockFile([images[0]!], options);
  const blocks: BlockRef[] = [];
  for (const image of images) {
    const label = await readBlockLabel(labelPathFor(image));
    const id = relative(absRoot, image).replace(/\\/g, '/').replace(TIFF, '');
    blocks.push(fileBlockRef(id, label, [image], size, bandCount, bandOptionsOf(options), first));
  }
  return { blocks, size, bandCount, warnings };
}

/** The first few files of a list, relative to the root, for messages. */
function named(files: string[], root: string): string {
  return files.slice(0, 3).map((f) => relative(root, f)).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
}

export function bandOptionsOf(o: BandOptions): BandOptions {
  const out: BandOptions = {};
  if (o.bands !== undefined) out.bands = o.bands;
  if (o.scale !== undefined) out.scale = o.scale;
  if (o.offset !== undefined) out.offset = o.offset;
  if (o.nodataFill !== undefined) out.nodataFill = o.nodataFill;
  if (o.nodataValue !== undefined) out.nodataValue = o.nodataValue;
  return out;
}
