/**
 * A reader of tar archives (POSIX ustar and pax, GNU long names and base-256 sizes), plain or gzip-compressed.
 *
 * Written here rather than taken from npm (node-tar) because a plain `.tar` is read by seeking: USGS delivers a
 * Landsat product as a tar of about 1 GB, and listing it here reads only its 512-byte headers, and extracting four
 * bands reads only their bytes, where a streaming parser reads the whole file on each pass. A gzip archive has to
 * stream through node:zlib either way. Owning the reader also keeps its errors to what went wrong and where (a
 * header's checksum, a truncated member, gzip's own message), for the caller to name the archive.
 *
 * Member names are returned as stored; deciding where (and whether) a member may be written is the caller's.
 */
import { constants as fsConstants, createReadStream } from 'node:fs';
import { copyFile, open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/** What is wrong with an archive; the caller names the archive. */
export class TarError extends Error {
  override name = 'TarError';
}

export interface TarMember {
  /** Its place among the archive's headers (0-based), which tells apart members stored twice under one name. */
  index: number;
  /** The path as stored (pax `path`, a GNU long name, or ustar's prefix and name). */
  name: string;
  type: 'file' | 'directory' | 'link' | 'other';
  /** Bytes of data. */
  size: number;
  /** A link's target as stored: an archive path for a hard link, a path from the link's folder for a symlink. */
  linkTarget?: { kind: 'hard' | 'symbolic'; path: string };
}

/** The member's data, readable once, as the walk reaches it. */
interface MemberData {
  /** All of it, in memory. */
  buffer(): Promise<Buffer>;
  /** All of it, appended to an open file. */
  copyTo(file: FileHandle): Promise<void>;
}

/** A byte stream with a position: a file read by offset (skips seek), or a gunzip stream. */
interface Source {
  /** Up to `n` bytes; fewer only at the end. */
  read(n: number): Promise<Buffer>;
  /** Skips `n` bytes; returns how many there were. */
  skip(n: number): Promise<number>;
  /** Bytes read or skipped so far (of the uncompressed stream). */
  position: number;
  close(): Promise<void>;
}

async function fileSource(path: string): Promise<Source> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  const source: Source = {
    position: 0,
    async read(n) {
      const buf = Buffer.alloc(Math.max(0, Math.min(n, size - source.position)));
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await handle.read(buf, got, buf.length - got, source.position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      source.position += got;
      return got === buf.length ? buf : buf.subarray(0, got);
    },
    async skip(n) {
      const skipped = Math.max(0, Math.min(n, size - source.position));
      source.position += skipped;
      return skipped;
    },
    close: () => handle.close(),
  };
  return source;
}

function gzipSource(path: string): Source {
  const gunzip = createGunzip();
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  file.on('error', (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  const chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  /** At least one more byte in `pending`, unless the stream has ended. */
  const fill = async (): Promise<void> => {
    while (pending.length === 0 && !ended) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        // zlib's own words ("unexpected end of file", "incorrect header check", "invalid distance too far back").
        throw err.code?.startsWith('Z_') ? new TarError(`gzip: ${err.message}`) : e;
      }
      if (next.done) ended = true;
      else pending = next.value;
    }
  };
  const source: Source = {
    position: 0,
    async read(n) {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < n) {
        await fill();
        if (pending.length === 0) break;
        const part = pending.subarray(0, n - got);
        pending = pending.subarray(part.length);
        parts.push(part);
        got += part.length;
      }
      source.position += got;
      return parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
    },
    async skip(n) {
      let skipped = 0;
      while (skipped < n) {
        await fill();
        if (pending.length === 0) break;
        const take = Math.min(pending.length, n - skipped);
        pending = pending.subarray(take);
        skipped += take;
      }
      source.position += skipped;
      return skipped;
    },
    async close() {
      file.destroy();
      gunzip.destroy();
    },
  };
  return source;
}

/** Whether the file starts with gzip's magic bytes (the content decides, not the name). */
async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** A NUL-terminated text field. */
const text = (block: Buffer, start: number, length: number): string => {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
};

/** A numeric field: octal digits (spaces and NULs around them), or GNU's base-256 when the high bit is set. */
function numeric(block: Buffer, start: number, length: number, what: string, at: number): number {
  const field = block.subarray(start, start + length);
  if (field[0] & 0x80) {
    if (field[0] & 0x40) throw new TarError(`a negative ${what} in the header at byte ${at}`);
    let value = field[0] & 0x3f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    if (!Number.isSafeInteger(value)) throw new TarError(`a ${what} too large in the header at byte ${at}`);
    return value;
  }
  const digits = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarError(`the header at byte ${at} holds no number as its ${what} (${JSON.stringify(digits)})`);
  return parseInt(digits, 8);
}

/** The header's checksum is the sum of its bytes with the checksum field as spaces (unsigned; some old tars signed). */
function checksumOk(block: Buffer, at: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  let stored: number;
  try {
    stored = numeric(block, 148, 8, 'checksum', at);
  } catch {
    return false; // not even a number there
  }
  return stored === unsigned || stored === signed;
}

/** `LEN key=value\n` records of a pax extended header. */
function paxRecords(data: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < data.length && data[i] !== 0) {
    const space = data.indexOf(0x20, i);
    const length = space > i ? Number(data.toString('latin1', i, space)) : NaN;
    if (!Number.isInteger(length) || length <= space - i || i + length > data.length) {
      throw new TarError(`a damaged pax extended header at byte ${at}`);
    }
    const record = data.toString('utf8', space + 1, i + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    i += length;
  }
  return records;
}

/**
 * Walks the archive's members in order, calling `visit` with each and its data (to read or leave: data left is
 * skipped). `visit` returns false to stop the walk. Unless stopped, the walk reads a gzip archive to its end, so that
 * gzip's checks (the CRC and length of the whole) have run. Throws TarError for a damaged archive.
 */
export async function walkTar(path: string, visit: (member: TarMember, data: MemberData) => Promise<boolean | void>): Promise<void> {
  const gzip = await isGzip(path);
  const source = gzip ? gzipSource(path) : await fileSource(path);
  try {
    let index = 0;
    /** pax and GNU headers that describe the next member. */
    let next: { path?: string; linkpath?: string; size?: number } = {};
    for (;;) {
      const at = source.position;
      const block = await source.read(BLOCK);
      if (block.length === 0) break; // the end, without the two zero blocks: GNU tar reads such archives too
      if (block.length < BLOCK) {
        throw new TarError(at === 0 ? `it holds ${block.length} bytes, less than one 512-byte tar header` : `truncated: it ends inside the header at byte ${at}`);
      }
      if (block.every((b) => b === 0)) break; // the end-of-archive marker
      if (!checksumOk(block, at)) {
        throw new TarError(
          at === 0
            ? `${gzip ? 'the gzip-compressed data does not start' : 'it does not start'} with a tar header (the checksum of the first 512 bytes is wrong)`
            : `the header at byte ${at}${gzip ? ' (of the uncompressed archive)' : ''} is damaged: its checksum is wrong`,
        );
      }
      const flag = String.fromCharCode(block[156] || 0x30);
      let size = numeric(block, 124, 12, 'size', at);
      const magic = block.toString('latin1', 257, 263);
      if (flag === 'S' && block[482] !== 0) {
        // Old GNU sparse files continue their map in extra header blocks before the data.
        for (let ext = await source.read(BLOCK); ; ext = await source.read(BLOCK)) {
          if (ext.length < BLOCK) throw new TarError(`truncated: it ends inside the header at byte ${at}`);
          if (ext[504] === 0) break;
        }
      }
      if (next.size !== undefined && !'xgLK'.includes(flag)) size = next.size;
      const dataAt = source.position;
      let consumed = 0;
      const readAll = async (): Promise<Buffer> => {
        const buf = await source.read(size);
        consumed = buf.length;
        if (buf.length < size) throw new TarError(`truncated: member data from byte ${dataAt} ends after ${buf.length} of its ${size} bytes`);
        return buf;
      };
      if ('xgLK'.includes(flag)) {
        // Metadata for the member that follows (x, L, K) or for all (g, whose keys are not needed here).
        if (size > 1 << 24) throw new TarError(`a ${flag} header of ${size} bytes at byte ${at}: damaged`);
        const data = await readAll();
        if (flag === 'x') {
          const records = paxRecords(data, at);
          if (records.has('path')) next.path = records.get('path');
          if (records.has('linkpath')) next.linkpath = records.get('linkpath');
          if (records.has('size')) {
            const s = Number(records.get('size'));
            if (!Number.isSafeInteger(s) || s < 0) throw new TarError(`a damaged pax size at byte ${at}`);
            next.size = s;
          }
        } else if (flag === 'L') next.path = text(data, 0, data.length);
        else if (flag === 'K') next.linkpath = text(data, 0, data.length);
      } else {
        let name = text(block, 0, 100);
        // POSIX ustar ("ustar\0") splits long names into a prefix; GNU's ("ustar  ") keeps other fields there.
        if (magic === 'ustar\0') {
          const prefix = text(block, 345, 155);
          if (prefix) name = `${prefix}/${name}`;
        }
        if (next.path !== undefined) name = next.path;
        const type: TarMember['type'] =
          flag === '0' || flag === '7' ? (name.endsWith('/') ? 'directory' : 'file') : flag === '5' ? 'directory' : flag === '1' || flag === '2' ? 'link' : 'other';
        // Links, devices, folders and FIFOs have no data, whatever their size field says.
        if ('123456'.includes(flag)) size = 0;
        const member: TarMember = { index: index++, name, type, size };
        if (type === 'link') member.linkTarget = { kind: flag === '1' ? 'hard' : 'symbolic', path: next.linkpath ?? text(block, 157, 100) };
        next = {};
        const data: MemberData = {
          buffer: readAll,
          async copyTo(file) {
            let left = size;
            while (left > 0) {
              const chunk = await source.read(Math.min(left, 1 << 20));
              if (chunk.length === 0) throw new TarError(`truncated: member ${name} ends after ${size - left} of its ${size} bytes`);
              for (let done = 0; done < chunk.length; ) done += (await file.write(chunk, done, chunk.length - done)).bytesWritten;
              left -= chunk.length;
              consumed += chunk.length;
            }
          },
        };
        if ((await visit(member, data)) === false) return;
      }
      // What the visitor left of the data, and the padding to the next 512-byte block.
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const rest = padded - consumed;
      const skipped = await source.skip(rest);
      // The padding of the last member may be cut off (some writers); its data may not.
      if (skipped < rest && consumed + skipped < size) throw new TarError(`truncated: member data from byte ${dataAt} ends after ${consumed + skipped} of its ${size} bytes`);
    }
    // Past the end-of-archive marker a gzip stream is read to its end: its CRC covers the members read before.
    if (gzip) while ((await source.skip(1 << 20)) > 0);
  } finally {
    await source.close();
  }
}

/** Every member of the archive, and the data of those `keep` asks for. */
export async function listTar(path: string, keep: (member: TarMember) => boolean = () => false): Promise<{ members: TarMember[]; kept: Map<number, Buffer> }> {
  const members: TarMember[] = [];
  const kept = new Map<number, Buffer>();
  await walkTar(path, async (member, data) => {
    members.push(member);
    if (member.type === 'file' && keep(member)) kept.set(member.index, await data.buffer());
  });
  return { members, kept };
}

/**
 * Writes the members `files` names (index -> destination files, created: they must not exist) and stops reading once
 * the last is written.
 */
export async function extractTar(path: string, files: Map<number, string[]>): Promise<void> {
  let left = files.size;
  if (left === 0) return;
  await walkTar(path, async (member, data) => {
    const [target, ...copies] = files.get(member.index) ?? [];
    if (target === undefined) return true;
    const file = await open(target, 'wx');
    try {
      await data.copyTo(file);
    } finally {
      await file.close();
    }
    // The same member under other names (links to it that were chosen too).
    for (const copy of copies) await copyFile(target, copy, fsConstants.COPYFILE_EXCL);
    return --left > 0;
  });
  if (left > 0) throw new TarError(`${left} member${left > 1 ? 's' : ''} listed before were not found on the second reading (did the file change?)`);
}
