/**
 * A product archive as delivered, given in place of its unpacked folder: an uncompressed `.tar` (USGS Landsat
 * Collection 2) or a gzip-compressed `.tar.gz` / `.tgz` (CRESDA GaoFen-1/2 and ZiYuan-3). Its members are listed
 * (one pass, which keeps the text of the files that may be the metadata), the metadata and the band files are
 * chosen from that list by the product folder's own rule (product-folder.ts), and only those, with the sidecars
 * their readers look for (`.rpb`, `.aux.xml`, ...), are taken out (a second pass) into a private folder in the OS
 * temp folder. Detection then reads them as it reads a folder's files, and the folder is removed when the scene is
 * done, fails, or is stopped by a signal (temporary-files.ts). An archive whose members all lie in one folder
 * (`tar -czf X.tar.gz X/`) is read as that folder.
 *
 * Members whose path is absolute or climbs out with `..` are never written: they are skipped with a warning.
 */
import { statSync } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { chooseProductFiles, maybeMetadata, rasterSidecars, type ProductFolder } from './product-folder.js';
import { removeTemporaryFolder, temporaryFolder } from './temporary-files.js';
import { extractTar, listTar, TarError, type TarMember } from './tar-reader.js';

/** The names of the archives read as products. */
export const ARCHIVE_EXTENSION = /\.(tar|tar\.gz|tgz)$/i;

/** Metadata files are kept in memory while listing; larger files of their names are not metadata. */
const METADATA_LIMIT = 16 << 20;

/** Whether `path` is a file named as a product archive (`.tar`, `.tar.gz`, `.tgz`). */
export function isProductArchive(path: string): boolean {
  if (!ARCHIVE_EXTENSION.test(path)) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface ProductArchive extends ProductFolder {
  archive: string;
  /** The temporary folder the members were taken out to (`folder` is the product's top in it). */
  temporary: string;
  /** `text` with the temporary folder's paths written as ARCHIVE/MEMBER, for messages and the summary. */
  shown(text: string): string;
  /** Removes the temporary folder and what is in it. */
  remove(): Promise<void>;
}

/**
 * A member's path as it would be written under the temporary folder, `/`-separated, or null where it is not safe
 * to write: absolute (`/etc/x`, `C:/x`), climbing out (`../x`, `a/../../x`), or holding a NUL.
 */
export function safeMemberPath(name: string): string | null {
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\0')) return null;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return null;
  return parts.join('/');
}

/**
 * The archive path a link member leads to, following links to links (a few, so that a loop ends), or null where
 * it leads outside the archive's folder. A hard link names an archive path; a symlink a path from its own folder.
 */
function linkedFile(name: string, links: Map<string, TarMember>): string | null {
  let at: string | null = name;
  for (let hops = 0; at !== null && hops < 8; hops++) {
    const link: TarMember['linkTarget'] = links.get(at)?.linkTarget;
    if (!link) return at;
    at = link.kind === 'hard' ? safeMemberPath(link.path) : link.path.startsWith('/') ? null : safeMemberPath(posix.join(posix.dirname(at), link.path));
  }
  return null;
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** What went wrong reading the archive, as an InputError naming it. */
function archiveError(archive: string, e: unknown): unknown {
  if (e instanceof InputError) return e;
  if (e instanceof TarError) {
    const truncated = /unexpected end of file/.test(e.message) ? ' (the file is truncated)' : '';
    return new InputError(`is not a readable tar archive: ${e.message}${truncated}`, archive);
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return new InputError(`cannot read the archive (${code})`, archive);
  return e;
}

/**
 * Lists a product archive, chooses its metadata and band files, and takes them out into a temporary folder.
 * InputError naming the archive where it is damaged, holds no product metadata or lacks a band file, or where the
 * temp folder has no room; the temporary folder is then already removed.
 */
export async function openProductArchive(archive: string, onProgress: ProgressCallback = noProgress): Promise<ProductArchive> {
  // First pass: the members, and the text of those that may be the metadata (at the top, or one folder down).
  let listed: Awaited<ReturnType<typeof listTar>>;
  try {
    listed = await listTar(archive, (m) => {
      const name = safeMemberPath(m.name);
      return name !== null && name.split('/').length <= 2 && maybeMetadata(name) && m.size <= METADATA_LIMIT;
    });
  } catch (e) {
    throw archiveError(archive, e);
  }
  const files = new Map<string, TarMember>();
  const links = new Map<string, TarMember>();
  const unsafe: string[] = [];
  for (const member of listed.members) {
    const name = safeMemberPath(member.name);
    if (name === null) unsafe.push(member.name);
    else {
      // A name stored twice is the later one, as tar extracts it.
      files.delete(name);
      links.delete(name);
      if (member.type === 'file') files.set(name, member);
      else if (member.type === 'link') links.set(name, member);
    }
  }
  // A link to a file of the archive reads as that file under the link's name (its data is taken out there).
  for (const name of links.keys()) {
    const target = linkedFile(name, links);
    const file = target === null ? undefined : files.get(target);
    if (file) files.set(name, file);
  }
  if (unsafe.length > 0) {
    const some = unsafe.slice(0, 3).map((n) => JSON.stringify(n)).join(', ') + (unsafe.length > 3 ? ', ...' : '');
    onProgress({ kind: 'warning', message: `${archive}: ${unsafe.length} member${unsafe.length > 1 ? 's' : ''} with a path outside the archive's folder (${some}) skipped` });
  }
  // Members all in one folder: that folder is the product.
  const names = [...files.keys()];
  const tops = new Set(names.map((n) => (n.includes('/') ? n.slice(0, n.indexOf('/') + 1) : '')));
  const prefix = tops.size === 1 ? [...tops][0] : '';
  const listing = {
    files: names.map((n) => n.slice(prefix.length)),
    read(file: string): string {
      const member = files.get(prefix + file)!;
      const text = listed.kept.get(member.index);
      if (text === undefined) throw new InputError(`holds ${prefix + file} of ${megabytes(member.size)}, too large to be product metadata`, archive);
      return text.toString('utf8');
    },
  };
  const temporary = temporaryFolder('archive');
  const root = join(temporary, ...prefix.split('/').filter(Boolean));
  const shown = (text: string): string => text.split(temporary + sep).join(`${archive}/`);
  try {
    const chosen = chooseProductFiles(listing, root, archive, 'archive');
    const wanted = [chosen.metadataFile, ...chosen.inputs, ...chosen.inputs.flatMap(rasterSidecars).filter((f) => files.has(prefix + f))];
    const targets = new Map<number, string[]>();
    let bytes = 0;
    for (const file of new Set(wanted)) {
      const member = files.get(prefix + file)!;
      const target = resolve(root, ...file.split('/'));
      // Checked by safeMemberPath already; checked again where it is written.
      if (!target.startsWith(resolve(temporary) + sep)) throw new InputError(`holds a member whose path leaves the archive's folder (${prefix + file})`, archive);
      await mkdir(dirname(target), { recursive: true });
      targets.set(member.index, [...(targets.get(member.index) ?? []), target]);
      bytes += member.size;
    }
    const free = await statfs(temporary).then((s) => s.bavail * s.bsize, () => Infinity);
    if (bytes > free) {
      throw new InputError(
        `needs ${megabytes(bytes)} in ${tmpdir()} for the files it takes out of the archive, and ${megabytes(free)} are free there; set TMPDIR to a folder with room`,
        archive,
      );
    }
    onProgress({ kind: 'log', message: `${archive}: taking out ${targets.size} of ${listed.members.length} members (${megabytes(bytes)}) into ${temporary}` });
    // Second pass: the chosen members only.
    try {
      await extractTar(archive, targets);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EROFS') {
        const room = code === 'ENOSPC' || code === 'EDQUOT' ? 'with room' : 'wdcd may write in';
        throw new InputError(`cannot take its members out into ${temporary} (${code}); set TMPDIR to a folder ${room}`, archive);
      }
      throw archiveError(archive, e);
    }
    return {
      archive,
      folder: root,
      temporary,
      metadata: chosen.metadata,
      inputs: chosen.inputs.map((f) => join(root, ...f.split('/'))),
      shown,
      remove: () => removeTemporaryFolder(temporary),
    };
  } catch (e) {
    await removeTemporaryFolder(temporary);
    throw relabelError(e, shown);
  }
}

/** An error whose message (and InputError path) name files in the temporary folder, renamed by `shown`. */
export function relabelError(e: unknown, shown: (text: string) => string): unknown {
  if (!(e instanceof Error)) return e;
  e.message = shown(e.message);
  if (e instanceof InputError && e.path) Object.assign(e, { path: shown(e.path) });
  return e;
}

/** A scene's name in a -O batch from a product archive's path: its file name without `.tar`, `.tar.gz` or `.tgz`. */
export function archiveStem(path: string): string {
  return basename(path).replace(ARCHIVE_EXTENSION, '');
}
