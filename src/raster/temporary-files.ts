/**
 * Outputs are written to a hidden temporary file beside their target and renamed into place when complete. This
 * module names those files and remembers the ones not yet renamed or removed, so that a command stopped by a
 * signal (Ctrl+C), which ends the process without the writers' own clean-up, can remove them.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

const pending = new Set<string>();

/** A fresh hidden name beside `target` (`.NAME.RANDOM[SUFFIX].tmp`), remembered until `settleTemporary`. */
export function temporaryPath(target: string, suffix = ''): string {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}${suffix}.tmp`);
  pending.add(tmp);
  return tmp;
}

/** The temporary file is gone: renamed into place or removed. */
export function settleTemporary(tmp: string): void {
  pending.delete(tmp);
}

/** Removes every temporary file still pending (synchronously: for a signal handler). Returns how many. */
export function removeTemporaryFilesSync(): number {
  let removed = 0;
  for (const tmp of pending) {
    try {
      unlinkSync(tmp);
      removed++;
    } catch {
      // Already gone (renamed or removed in the meantime).
    }
  }
  pending.clear();
  return removed;
}

/**
 * Writes a small output whole (a summary): to a temporary file beside `target`, renamed into place. On failure
 * (a folder in the way, a full disk) the temporary file is removed and an InputError names `target` and `what`.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array, what = 'the file'): void {
  const tmp = temporaryPath(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot write ${what} (${code ?? (err as Error).message})`, target);
  } finally {
    settleTemporary(tmp);
  }
}
