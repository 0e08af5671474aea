/**
 * A folder's entries sorted by name (stable block order on every file system), or an InputError naming it. Hidden
 * entries are left out: macOS's `._name.tif` companions and tools' `.ipynb_checkpoints/` copies are not blocks.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { InputError } from '../errors.js';

export async function sortedEntries(dir: string): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new InputError(`cannot read folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, dir);
  }
  return entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
