/**
 * Outputs are written to a hidden temporary file beside their target and renamed into place when complete. This
 * module names those files and remembers the ones not yet renamed or removed, so that a command stopped by a
 * signal (Ctrl+C), which ends the process without the writers' own clean-up, can remove them. Outputs that stand
 * or fall together (a scene's mask, its extras and its summary) are placed through an OutputGroup: until the group
 * is confirmed, a signal or a failure removes those already in place too, so a scene keeps all its outputs or none.
 * Temporary folders (the members taken out of a product archive) live in the OS temp folder and are removed whole,
 * when their scene is done and on a signal.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

const pending = new Set<string>();
/** Outputs in place whose group is not yet confirmed. */
const unconfirmed = new Set<string>();
/** Temporary folders not yet removed. */
const folders = new Set<string>();

/**
 * A fresh private folder in the OS temp folder (`$TMPDIR`, else /tmp), `wdcd-NAME-RANDOM`, remembered until
 * `removeTemporaryFolder` so that a signal removes it. An InputError where it cannot be made.
 */
export function temporaryFolder(name: string): string {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), `wdcd-${name}-`));
  } catch (e) {
    throw new InputError(`cannot make a temporary folder there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set TMPDIR to another folder`, tmpdir());
  }
  folders.add(dir);
  return dir;
}

/** Removes a temporary folder and everything in it. */
export async function removeTemporaryFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {});
  folders.delete(dir);
}

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

/** The outputs of one run that stand or fall together. */
export class OutputGroup {
  private readonly placed = new Set<string>();

  /** Records an output renamed into place: removed with the group unless the group is confirmed. */
  add(target: string): void {
    this.placed.add(target);
    unconfirmed.add(target);
  }

  /** Every output is in place: keep them. */
  confirm(): void {
    for (const target of this.placed) unconfirmed.delete(target);
    this.placed.clear();
  }

  /** The run failed part-way: remove the outputs it had put in place. */
  async discard(): Promise<void> {
    for (const target of this.placed) {
      await unlink(target).catch(() => {});
      unconfirmed.delete(target);
    }
    this.placed.clear();
  }
}

/** Renames a finished temporary file into place, and records it in its group, if any. */
export async function placeTemporary(tmp: string, target: string, group: OutputGroup | undefined): Promise<void> {
  await rename(tmp, target);
  settleTemporary(tmp);
  group?.add(target);
}

/**
 * Removes every temporary file still pending, and the outputs of groups not yet confirmed, and every temporary
 * folder with its contents (synchronously: for a signal handler). Returns how many output files it removed (the
 * folders are not counted).
 */
export function removeTemporaryFilesSync(): number {
  let removed = 0;
  let missing: string[] = [];
  for (const path of [...pending, ...unconfirmed]) {
    try {
      unlinkSync(path);
      removed++;
    } catch {
      missing.push(path); // already gone, or not made yet
    }
  }
  // A pending file may still be being created: its open runs on libuv's thread pool, beside this handler (a COG
  // writer's overview part was left behind so on a busy machine). Look again once that open has had time to end.
  for (let pass = 0; pass < 2 && missing.length > 0; pass++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    missing = missing.filter((path) => {
      try {
        unlinkSync(path);
        removed++;
        return false;
      } catch {
        return true;
      }
    });
  }
  for (const dir of folders) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Left for the OS to clean up: nothing more can be done in a signal handler.
    }
  }
  pending.clear();
  unconfirmed.clear();
  folders.clear();
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
