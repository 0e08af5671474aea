/**
 * Streaming 2x reduction of windows, used to build COG overview levels while the full-resolution rows pass
 * by. Windows come in column streams (the whole width, or one column stripe at a time), each top to bottom;
 * a stream starts at an even column so that its output columns are its own. Holds at most one pending row per
 * stream. Output size is ceil(w/2) x ceil(h/2), as GDAL computes overviews.
 */

export type Resampling = 'nearest' | 'average';
export type Samples = Uint8Array | Float32Array;

/** Receives reduced windows: columns [x, x + width), rows [y, y + rows). */
export type EmitWindow = (x: number, y: number, width: number, rows: number, data: Samples) => Promise<void>;

export class Downsampler {
  readonly outWidth: number;
  /** Per stream (keyed by its first column): the even row waiting for its odd partner. */
  private readonly pending = new Map<number, Samples>();

  constructor(
    private readonly width: number,
    private readonly resampling: Resampling,
    /** Value treated as missing by 'average' (NaN always is); also written where no input is valid. */
    private readonly nodata: number | null,
    private readonly emit: EmitWindow,
  ) {
    this.outWidth = Math.ceil(width / 2);
  }

  /** Rows [y, y + rows) of columns [x, x + w); a stream's windows come in order, so y continues its last one. */
  async push(x: number, y: number, w: number, rows: number, data: Samples): Promise<void> {
    if (x % 2 !== 0 || (w % 2 !== 0 && x + w !== this.width)) throw new RangeError(`overview windows need even columns: got ${x}..${x + w} of ${this.width}`);
    const outW = Math.ceil(w / 2);
    let outRows = 0;
    let firstOut = -1;
    const out = data instanceof Float32Array ? new Float32Array(Math.ceil((rows + 1) / 2) * outW) : new Uint8Array(Math.ceil((rows + 1) / 2) * outW);
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * w, (r + 1) * w);
      if ((y + r) % 2 === 0) {
        this.pending.set(x, row.slice());
      } else {
        const upper = this.pending.get(x);
        if (!upper) throw new Error(`row ${y + r - 1} of columns ${x}..${x + w} never arrived`);
        if (firstOut < 0) firstOut = (y + r) >> 1;
        this.reduce(upper, row, w, out.subarray(outRows * outW, (outRows + 1) * outW));
        outRows++;
        this.pending.delete(x);
      }
    }
    if (outRows > 0) await this.emit(x / 2, firstOut, outW, outRows, out.subarray(0, outRows * outW));
  }

  /** Emits each stream's last output row when the input height is odd. */
  async finish(height: number): Promise<void> {
    for (const [x, row] of this.pending) {
      const outW = Math.ceil(row.length / 2);
      const out = row instanceof Float32Array ? new Float32Array(outW) : new Uint8Array(outW);
      this.reduce(row, row, row.length, out);
      await this.emit(x / 2, (height - 1) >> 1, outW, 1, out);
    }
    this.pending.clear();
  }

  private reduce(a: Samples, b: Samples, w: number, out: Samples): void {
    if (this.resampling === 'nearest') {
      for (let x = 0; x < out.length; x++) out[x] = a[2 * x];
      return;
    }
    const nodata = this.nodata === null ? null : Math.fround(this.nodata);
    const missing = nodata ?? NaN;
    const round = out instanceof Uint8Array;
    let sum = 0;
    let n = 0;
    const add = (v: number): void => {
      if (!Number.isNaN(v) && v !== nodata) {
        sum += v;
        n++;
      }
    };
    for (let x = 0; x < out.length; x++) {
      sum = 0;
      n = 0;
      const x1 = Math.min(2 * x + 1, w - 1);
      add(a[2 * x]);
      add(a[x1]);
      add(b[2 * x]);
      add(b[x1]);
      out[x] = n === 0 ? missing : round ? Math.round(sum / n) : sum / n;
    }
  }
}
