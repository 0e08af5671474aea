/**
 * Colours of the viewer's layers, shared by the tile renderer (server) and described to the page through
 * /api/info, so that legends always match the tiles.
 */

export type Rgba = [number, number, number, number];

/** Mask layer: cloud is a saturated magenta that stands out on white cloud, dark water and green/brown land alike. */
export const MASK_COLOURS = {
  cloud: [255, 32, 200, 255] as Rgba,
  /** Nodata / fill: a dark hatch, so "not classified" never looks like "clear". */
  nodata: [40, 40, 48, 200] as Rgba,
  nodataStripe: [150, 150, 160, 230] as Rgba,
  /** Clear is drawn transparent (the image shows through). */
  clear: [0, 0, 0, 0] as Rgba,
};

/** Error layer (needs --truth): false positives (cloud predicted on clear truth) and misses (cloud truth predicted clear). */
export const ERROR_COLOURS = {
  falsePositive: [255, 140, 0, 255] as Rgba,
  miss: [0, 200, 255, 255] as Rgba,
  /** Correct cloud is drawn faintly so the errors read against where the cloud actually is. */
  truePositive: [255, 255, 255, 70] as Rgba,
};

// Matt Zucker's degree-6 polynomial fit of matplotlib's "inferno" (perceptually uniform, readable in grey scale
// and by colour-blind users); max error is below 1/255 per channel, so no 256-entry table needs to be shipped.
const INFERNO = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

/** 256 x RGB lookup table of the inferno colour map. */
export function infernoTable(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = INFERNO.length - 1; k >= 0; k--) v = v * t + INFERNO[k]![c]!;
      lut[i * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
  }
  return lut;
}

export function cssColour([r, g, b, a]: Rgba): string {
  return `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(3)})`;
}
