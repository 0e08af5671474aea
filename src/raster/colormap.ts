/**
 * The viridis colour map (perceptually uniform, readable in greyscale and by colour-blind viewers), as a
 * 256-entry RGB lookup table. Anchors are every 16th entry of matplotlib's 256-entry viridis table (CC0,
 * van der Walt & Smith), linearly interpolated in between (max deviation from the full table < 1/255).
 */
const VIRIDIS_ANCHORS: [number, number, number][] = [
  [0.267004, 0.004874, 0.329415], [0.282327, 0.094955, 0.417331], [0.278826, 0.17549, 0.483397],
  [0.258965, 0.251537, 0.524736], [0.229739, 0.322361, 0.545706], [0.19943, 0.387607, 0.554642],
  [0.172719, 0.448791, 0.557885], [0.149039, 0.508051, 0.55725], [0.127568, 0.566949, 0.550556],
  [0.120638, 0.625828, 0.533488], [0.157851, 0.683765, 0.501686], [0.24607, 0.73891, 0.452024],
  [0.369214, 0.788888, 0.382914], [0.515992, 0.831158, 0.294279], [0.678489, 0.863742, 0.189503],
  [0.845561, 0.887322, 0.099702], [0.993248, 0.906157, 0.143936],
];
/** Table index of each anchor: 0, 16, ..., 240, then 255. */
const ANCHOR_AT = VIRIDIS_ANCHORS.map((_, i) => Math.min(i * 16, 255));

/** 256 x RGB bytes. */
export const VIRIDIS: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let k = 0;
    while (k < ANCHOR_AT.length - 2 && ANCHOR_AT[k + 1] < i) k++;
    const t = (i - ANCHOR_AT[k]) / (ANCHOR_AT[k + 1] - ANCHOR_AT[k]);
    for (let c = 0; c < 3; c++) {
      const v = VIRIDIS_ANCHORS[k][c] + t * (VIRIDIS_ANCHORS[k + 1][c] - VIRIDIS_ANCHORS[k][c]);
      lut[i * 3 + c] = Math.round(v * 255);
    }
  }
  return lut;
})();

/** CSS colour of table entry i, for SVG gradients. */
export function viridisCss(i: number): string {
  const j = Math.max(0, Math.min(255, Math.round(i))) * 3;
  return `rgb(${VIRIDIS[j]},${VIRIDIS[j + 1]},${VIRIDIS[j + 2]})`;
}
