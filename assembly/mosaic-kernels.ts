// AssemblyScript, compiled to WebAssembly with SIMD by `npm run build:kernels`, which embeds the bytes in
// src/detect/mosaic-kernels.wasm.ts. These are the activation-map mosaic's per-pixel loops (src/detect/cam-mosaic.ts
// and block-sums.ts): every feature channel at every pixel, twice. As scalar JavaScript they kept the main thread
// busier than the network itself (in a 16 MP detection, 3.5 s for the weighted channel sums and 2.3 s for the
// block sums, plus the garbage they made). Sums stay in float64, as in the JavaScript they replaced.
//
// All addresses are byte offsets into this module's memory, placed by the caller from heapBase() on.

/** First byte free for the caller's buffers (16-byte aligned). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/**
 * One row of features: channel k's points are float32 at features + 4 (k stride + p), p from 0.
 * For each run r, with its bounds as an int32 pair [start, end) at runs + 8 r: out[p] = beta[r] + sum_k W[r][k] F[k][p]
 * for its points p, rounded once to float32. W[r] is C float64 at weights + 8 r C; beta[r] is a float64 at betas + 8 r.
 * Points outside every run are left as they are.
 */
export function weightedChannelSum(features: usize, stride: i32, C: i32, runs: usize, R: i32, weights: usize, betas: usize, out: usize): void {
  const rowBytes = <usize>stride << 2;
  for (let r = 0; r < R; r++) {
    const start = load<i32>(runs + (<usize>r << 3));
    const end = load<i32>(runs + (<usize>r << 3), 4);
    const w = weights + (<usize>(r * C) << 3);
    const beta = load<f64>(betas + (<usize>r << 3));
    let p = start;
    for (; p + 4 <= end; p += 4) {
      let lo = f64x2.splat(beta);
      let hi = lo;
      let at = features + (<usize>p << 2);
      for (let k = 0; k < C; k++) {
        const x = v128.load(at);
        const wk = f64x2.splat(load<f64>(w + (<usize>k << 3)));
        lo = f64x2.add(lo, f64x2.mul(wk, f64x2.promote_low_f32x4(x)));
        hi = f64x2.add(hi, f64x2.mul(wk, f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1))));
        at += rowBytes;
      }
      v128.store(out + (<usize>p << 2), i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
    }
    for (; p < end; p++) {
      let s = beta;
      let at = features + (<usize>p << 2);
      for (let k = 0; k < C; k++) {
        s += load<f64>(w + (<usize>k << 3)) * <f64>load<f32>(at);
        at += rowBytes;
      }
      store<f32>(out + (<usize>p << 2), <f32>s);
    }
  }
}

/**
 * Interval sums of the first H rows of one tile of features, float32 at `features`: channel k's row j starts at
 * features + 4 (k channelStride + j rowStride). Row j's entry in the int32 table at rows + 8 j is (sums, valid): sums
 * is where its float64 sums [T][C] go, or 0 to skip the row; valid its validity bytes for the whole row (the
 * tile's point p at valid + x0 + p), or 0 when every point is valid. For each interval t (int32 bounds [from, to) at intervals + 8 t) and channel k,
 * adds the sum of F[k][j][p] over the interval's valid points to sums[first + t][k].
 */
export function tileIntervalSums(features: usize, rowStride: i32, channelStride: i32, H: i32, C: i32, intervals: usize, T: i32, first: i32, rows: usize, x0: i32): void {
  const rowBytes = <usize>rowStride << 2;
  const channelBytes = <usize>channelStride << 2;
  for (let j = 0; j < H; j++) {
    const out = <usize>load<i32>(rows + (<usize>j << 3));
    if (!out) continue;
    let valid = <usize>load<i32>(rows + (<usize>j << 3), 4);
    if (valid) valid += <usize>x0;
    for (let k = 0; k < C; k++) {
      const row = features + <usize>k * channelBytes + <usize>j * rowBytes;
      for (let t = 0; t < T; t++) {
        const from = load<i32>(intervals + (<usize>t << 3));
        const to = load<i32>(intervals + (<usize>t << 3), 4);
        let lo = f64x2.splat(0);
        let hi = lo;
        let p = from;
        for (; p + 4 <= to; p += 4) {
          let x = v128.load(row + (<usize>p << 2));
          if (valid) {
            const bytes = v128.load32_zero(valid + <usize>p);
            x = v128.and(x, i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0)));
          }
          lo = f64x2.add(lo, f64x2.promote_low_f32x4(x));
          hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)));
        }
        let s = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
        for (; p < to; p++) if (!valid || load<u8>(valid + <usize>p)) s += <f64>load<f32>(row + (<usize>p << 2));
        const at = out + (<usize>((first + t) * C + k) << 3);
        store<f64>(at, load<f64>(at) + s);
      }
    }
  }
}
