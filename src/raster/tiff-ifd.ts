/**
 * Encoding of TIFF image file directories (classic TIFF and BigTIFF), little-endian. The size of a directory
 * depends only on its entries' types and counts, so a writer can lay out a file before it knows the offsets.
 */

export type FieldType = 'ASCII' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LONG8';

export interface IfdEntry {
  tag: number;
  type: FieldType;
  values: number[] | string;
}

const TYPE_CODE: Record<FieldType, number> = { ASCII: 2, SHORT: 3, LONG: 4, DOUBLE: 12, LONG8: 16 };
const TYPE_SIZE: Record<FieldType, number> = { ASCII: 1, SHORT: 2, LONG: 4, DOUBLE: 8, LONG8: 8 };

/** TIFF ASCII values end with a NUL; raw values read from a file may already carry it. */
function asciiBytes(value: string): Buffer {
  return Buffer.from(value.endsWith('\0') ? value : `${value}\0`, 'utf8');
}

function valueBytes(entry: IfdEntry): Buffer {
  if (entry.type === 'ASCII') return asciiBytes(String(entry.values));
  const values = entry.values as number[];
  const size = TYPE_SIZE[entry.type];
  const buf = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    switch (entry.type) {
      case 'SHORT': buf.writeUInt16LE(v, i * size); break;
      case 'LONG': buf.writeUInt32LE(v, i * size); break;
      case 'DOUBLE': buf.writeDoubleLE(v, i * size); break;
      case 'LONG8': buf.writeBigUInt64LE(BigInt(v), i * size); break;
      default: throw new Error(`unexpected TIFF field type ${entry.type}`);
    }
  });
  return buf;
}

function byteLength(entry: IfdEntry): number {
  return entry.type === 'ASCII' ? asciiBytes(String(entry.values)).length : (entry.values as number[]).length * TYPE_SIZE[entry.type];
}

const even = (n: number): number => n + (n & 1);

/** Bytes the directory and its out-of-line values take (always even, so what follows stays word-aligned). */
export function ifdByteSize(entries: IfdEntry[], bigTiff: boolean): number {
  const inline = bigTiff ? 8 : 4;
  let size = bigTiff ? 8 + entries.length * 20 + 8 : 2 + entries.length * 12 + 4;
  for (const e of entries) {
    const n = byteLength(e);
    if (n > inline) size += even(n);
  }
  return even(size);
}

/** Encodes a directory to be placed at file offset `at`, its out-of-line values right after it. */
export function encodeIfd(entries: IfdEntry[], at: number, nextIfd: number, bigTiff: boolean): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const out = Buffer.alloc(ifdByteSize(sorted, bigTiff));
  const inline = bigTiff ? 8 : 4;
  const entrySize = bigTiff ? 20 : 12;
  let pos = 0;
  if (bigTiff) out.writeBigUInt64LE(BigInt(sorted.length), 0);
  else out.writeUInt16LE(sorted.length, 0);
  pos = bigTiff ? 8 : 2;
  let extra = pos + sorted.length * entrySize + (bigTiff ? 8 : 4);
  for (const e of sorted) {
    const bytes = valueBytes(e);
    const count = e.type === 'ASCII' ? bytes.length : (e.values as number[]).length;
    out.writeUInt16LE(e.tag, pos);
    out.writeUInt16LE(TYPE_CODE[e.type], pos + 2);
    if (bigTiff) out.writeBigUInt64LE(BigInt(count), pos + 4);
    else out.writeUInt32LE(count, pos + 4);
    const valuePos = pos + (bigTiff ? 12 : 8);
    if (bytes.length <= inline) {
      bytes.copy(out, valuePos);
    } else {
      if (bigTiff) out.writeBigUInt64LE(BigInt(at + extra), valuePos);
      else out.writeUInt32LE(at + extra, valuePos);
      bytes.copy(out, extra);
      extra += even(bytes.length);
    }
    pos += entrySize;
  }
  if (bigTiff) out.writeBigUInt64LE(BigInt(nextIfd), pos);
  else out.writeUInt32LE(nextIfd, pos);
  return out;
}

/** The file header pointing at the first directory. */
export function encodeHeader(firstIfd: number, bigTiff: boolean): Buffer {
  const out = Buffer.alloc(bigTiff ? 16 : 8);
  out.write('II', 0, 'latin1');
  if (bigTiff) {
    out.writeUInt16LE(43, 2);
    out.writeUInt16LE(8, 4);
    out.writeBigUInt64LE(BigInt(firstIfd), 8);
  } else {
    out.writeUInt16LE(42, 2);
    out.writeUInt32LE(firstIfd, 4);
  }
  return out;
}
