/**
 * The sliding window: blocks of side B every T pixels along each axis; the last block is shifted to end at the
 * scene's edge so every pixel is covered; a scene smaller than B gets one block that reaches past it (the
 * outside is mirrored, see prepare/prepared-source.ts).
 */
export function blockOrigins(length: number, blockSize: number, stride: number): number[] {
  if (length <= blockSize) return [0];
  const origins: number[] = [];
  for (let p = 0; p + blockSize <= length; p += stride) origins.push(p);
  if (origins[origins.length - 1] + blockSize < length) origins.push(length - blockSize);
  return origins;
}

export interface BlockGrid {
  blockSize: number;
  xs: number[];
  ys: number[];
}

export function blockGrid(width: number, height: number, blockSize: number, stride: number): BlockGrid {
  if (!(stride > 0 && stride <= blockSize)) throw new RangeError(`stride must be between 1 and the block size (${blockSize}), got ${stride}`);
  return { blockSize, xs: blockOrigins(width, blockSize, stride), ys: blockOrigins(height, blockSize, stride) };
}

/** Indices of the blocks (along one axis) whose extent [origin, origin + B) contains position p. */
export function coveringBlocks(origins: number[], blockSize: number, p: number): [number, number] {
  let first = 0;
  while (first < origins.length && origins[first] + blockSize <= p) first++;
  let last = first;
  while (last + 1 < origins.length && origins[last + 1] <= p) last++;
  return [first, last];
}
