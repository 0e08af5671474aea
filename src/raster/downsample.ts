/**
 * Streaming 2x reduction of row strips, used to build COG overview levels while the full-resolution rows
 * pass by. Holds at most one pending row. Output size is ceil(w/2) x ceil(h/2), as GDAL computes overviews.
 */

export type Resampling = 'nearest' | 'average';
export type Samples = Uint8Array | Float32Array;

export class Downsampler {
  readonly outWidth: number;
  private pending: Samples | null = null;

  constructor(
    private readonly width: number,
    private readonly resampling: Resampling,
    /** Value treated as missing by 'average' (NaN always is); also written where no input is valid. */
    private readonly nodata: number | null,
    private readonly emit: (rows: number, data: Samples) => Promise<void>,
  ) {
    this.outWidth = Math.ceil(width / 2);
  }

  async push(rows: number, data: Samples): Promise<void> {
    const w = this.width;
    let outRows = 0;
    const out = data instanceof Float32Array
      ? new Float32Array(Math.ceil((rows + 1) / 2) * this.outWidth)
      : new Uint8Array(Math.ceil((rows + 1) / 2) * this.outWidth);
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * w, (r + 1) * w);
      if (!this.pending) {
        this.pending = row.slice();
      } else {
        this.reduce(this.pending, row, out.subarray(outRows * this.outWidth, (outRows + 1) * this.outWidth));
        outRows++;
        this.pending = null;
      }
    }
    if (outRows > 0) await this.emit(outRows, out.subarray(0, outRows * this.outWidth));
  }

  /** Emits the last output row when the input height is odd. */
  async finish(): Promise<void> {
    if (!this.pending) return;
    const out = this.pending instanceof Float32Array ? new Float32Array(this.outWidth) : new Uint8Array(this.outWidth);
    this.reduce(this.pending, this.pending, out);
    this.pending = null;
    await this.emit(1, out);
  }

  private reduce(a: Samples, b: Samples, out: Samples): void {
    const w = this.width;
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
