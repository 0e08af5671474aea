// The viewer page: OpenLayers over a pixel-coordinate tile grid whose tiles the wdcd server renders.
import 'ol/ol.css';
import './style.css';
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import TileLayer from 'ol/layer/Tile.js';
import XYZ from 'ol/source/XYZ.js';
import TileGrid from 'ol/tilegrid/TileGrid.js';
import Projection from 'ol/proj/Projection.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import ZoomToExtent from 'ol/control/ZoomToExtent.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import Overlay from 'ol/Overlay.js';
import { cssColour, infernoTable, type Rgba } from '../colormap.js';
import type { PixelValues, ViewerInfo, ViewerSummary } from '../viewer-api.js';


const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a < 10) return v.toFixed(4);
  if (a < 1000) return v.toFixed(2);
  return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
}
const pct = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(2)} %`);

function swatch(c: Rgba, stripe?: Rgba): HTMLElement {
  const s = el('span', { class: 'swatch' });
  s.style.background = stripe
    ? `repeating-linear-gradient(135deg, ${cssColour(stripe)} 0 2px, ${cssColour(c)} 2px 6px)`
    : cssColour(c);
  return s;
}

const info: ViewerInfo = await (await fetch('/api/info')).json();
document.title = `wdcd view – ${info.title}`;
const pixelSize = info.georef ? Math.abs(info.georef.geoTransform[1]!) : null;
$('title').textContent =
  `${info.title} · ${info.width} × ${info.height} px` +
  (info.georef ? ` · ${fmt(pixelSize)} m · ${info.georef.epsg ? `EPSG:${info.georef.epsg}` : 'CRS unknown'}` : ' · not georeferenced');

// --- map ---------------------------------------------------------------------------------------------------
const W = info.width;
const H = info.height;
const extent = [0, 0, W, H];
// Map units are image pixels (x right, y up from the bottom edge); metersPerUnit drives the scale bar.
const projected = pixelSize !== null && pixelSize > 0.01;
const projection = new Projection({ code: 'wdcd:pixels', units: 'pixels', extent, ...(projected ? { metersPerUnit: pixelSize } : {}) });
const resolutions = Array.from({ length: info.maxZoom + 1 }, (_, z) => 2 ** (info.maxZoom - z));
const tileGrid = new TileGrid({ extent, origin: [0, H], resolutions, tileSize: info.tileSize });

let pending = 0;
const status = $('status');
function source(layer: string, query = ''): XYZ {
  const s = new XYZ({
    url: `/tiles/${layer}/{z}/{x}/{y}.png${query}`,
    projection,
    tileGrid,
    wrapX: false,
    interpolate: false,
    transition: 0,
  });
  s.on('tileloadstart', () => {
    pending++;
    status.hidden = false;
    status.textContent = `loading ${pending} tile${pending === 1 ? '' : 's'}…`;
  });
  const done = (): void => {
    pending = Math.max(0, pending - 1);
    status.textContent = `loading ${pending} tile${pending === 1 ? '' : 's'}…`;
    if (pending === 0) status.hidden = true;
  };
  s.on('tileloadend', done);
  s.on('tileloaderror', done);
  return s;
}

let rgb = [...info.image.rgb];
const bandQuery = (): string => `?bands=${rgb.join(',')}`;
const imageSource = source('image', bandQuery());

interface LayerEntry {
  id: string;
  label: string;
  layer: TileLayer<XYZ>;
  key: string;
}
const overlayClass = 'ol-layer wdcd-overlay';
const entries: LayerEntry[] = [
  { id: 'image', label: 'Image', key: 'i', layer: new TileLayer({ source: imageSource, opacity: 1 }) },
];
if (info.cam) {
  entries.push({
    id: 'cam',
    label: 'CAM heat map',
    key: 'c',
    layer: new TileLayer({ source: source('cam'), opacity: 0.7, visible: false, className: overlayClass }),
  });
}
entries.push({
  id: 'mask',
  label: 'Cloud mask',
  key: 'm',
  layer: new TileLayer({ source: source('mask'), opacity: 0.6, className: overlayClass }),
});
if (info.truth) {
  entries.push({
    id: 'errors',
    label: 'Errors vs truth',
    key: 'e',
    layer: new TileLayer({ source: source('errors'), opacity: 0.9, visible: false, className: overlayClass }),
  });
}

const view = new View({
  projection,
  extent,
  constrainOnlyCenter: true,
  showFullExtent: true,
  maxResolution: 2 ** (info.maxZoom + 1),
  minResolution: 1 / 32,
});
const map = new OlMap({
  target: 'map',
  layers: entries.map((e) => e.layer),
  view,
  controls: defaultControls({ attribution: false, rotate: false }).extend([
    new ZoomToExtent({ extent, label: '⤢', tipLabel: 'Fit the whole image (F)' }),
    ...(projected ? [new ScaleLine({ units: 'metric' })] : []),
  ]),
});
const fit = (): void => view.fit(extent, { padding: [16, 16, 16, 16] });
fit();

// --- layer controls ----------------------------------------------------------------------------------------
const layersSection = $('layers');
const checkboxes = new Map<string, HTMLInputElement>();
for (const entry of entries) {
  const { layer } = entry;
  const box = el('input', { type: 'checkbox', id: `show-${entry.id}` });
  box.checked = layer.getVisible();
  box.addEventListener('change', () => layer.setVisible(box.checked));
  checkboxes.set(entry.id, box);
  const opacity = el('input', { type: 'range', min: '0', max: '100', id: `opacity-${entry.id}`, title: 'opacity' });
  opacity.value = String(Math.round(layer.getOpacity() * 100));
  const out = el('output', { text: `${opacity.value} %` });
  opacity.addEventListener('input', () => {
    layer.setOpacity(Number(opacity.value) / 100);
    out.textContent = `${opacity.value} %`;
  });
  const block = el(
    'div',
    { class: 'layer', id: `layer-${entry.id}` },
    el('div', { class: 'row head' }, el('label', {}, box, ` ${entry.label}`), opacity, out, el('kbd', { text: entry.key.toUpperCase(), title: 'toggle' })),
  );
  block.append(...legend(entry.id));
  layersSection.append(block);
}

function legend(id: string): HTMLElement[] {
  if (id === 'image') {
    const selects = (['R', 'G', 'B'] as const).map((channel, c) => {
      const sel = el('select', { id: `band-${channel}`, title: `band shown as ${channel}` });
      info.image.bands.forEach((b, i) => sel.append(el('option', { value: String(i), text: b.name })));
      sel.value = String(rgb[c]);
      sel.addEventListener('change', () => {
        rgb[c] = Number(sel.value);
        imageSource.setUrl(`/tiles/image/{z}/{x}/{y}.png${bandQuery()}`);
      });
      return el('label', { class: `band band-${channel}` }, el('b', { text: channel }), sel);
    });
    return [
      el('div', { class: 'row bands' }, ...selects),
      el('div', { class: 'hint', text: `2–98 % stretch per band · ${info.image.paths.length > 1 ? `${info.image.paths.length} files` : info.image.paths[0]} · ${info.image.sampleType}` }),
    ];
  }
  if (id === 'cam' && info.cam) {
    const lut = infernoTable();
    const stops = Array.from({ length: 11 }, (_, i) => {
      const k = Math.round((i / 10) * 255) * 3;
      return `rgb(${lut[k]}, ${lut[k + 1]}, ${lut[k + 2]}) ${i * 10}%`;
    });
    const bar = el('div', { class: 'colorbar' });
    bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
    const { lo, hi } = info.cam;
    if (info.threshold && hi > lo) {
      const t = el('div', { class: 'tick', title: `threshold ${fmt(info.threshold.value)}` });
      t.style.left = `${((info.threshold.value - lo) / (hi - lo)) * 100}%`;
      bar.append(t);
    }
    return [
      bar,
      el(
        'div',
        { class: 'row scale' },
        el('span', { text: fmt(lo) }),
        el('span', { class: 'thr', text: info.threshold ? `T = ${fmt(info.threshold.value)}` : '' }),
        el('span', { text: fmt(hi) }),
      ),
      el('div', { class: 'hint', text: `inferno, 2–98 % of ${info.cam.path}` }),
    ];
  }
  if (id === 'mask') {
    const c = info.colours.mask;
    return [
      el(
        'div',
        { class: 'row legend' },
        el('span', {}, swatch(c.cloud), ' cloud'),
        el('span', {}, swatch(c.nodata, c.nodataStripe), ' nodata'),
        el('span', {}, swatch([0, 0, 0, 0]), ' clear'),
      ),
      el('div', { class: 'hint', text: `${info.mask.path} · coding ${info.mask.coding}` }),
    ];
  }
  if (id === 'errors' && info.truth) {
    const c = info.colours.errors;
    return [
      el(
        'div',
        { class: 'row legend' },
        el('span', { title: 'predicted cloud, truth clear' }, swatch(c.falsePositive), ' false cloud'),
        el('span', { title: 'truth cloud, predicted clear' }, swatch(c.miss), ' missed'),
        el('span', { title: 'both cloud' }, swatch(c.truePositive), ' hit'),
      ),
      el('div', { class: 'hint', text: `${info.truth.path} · coding ${info.truth.coding}` }),
    ];
  }
  return [];
}

// --- compare: swipe and hold-to-hide -----------------------------------------------------------------------
const swipe = $<HTMLInputElement>('swipe');
const swipeLine = $('swipe-line');
const mapEl = $('map');
function applySwipe(): void {
  const p = Number(swipe.value);
  mapEl.style.setProperty('--swipe', `${p}%`);
  swipeLine.hidden = p >= 100 || p <= 0;
  $('swipe-value').textContent = `${p} %`;
}
swipe.addEventListener('input', applySwipe);
applySwipe();

const overlays = entries.filter((e) => e.id !== 'image');
let hidden: boolean[] | null = null;
document.addEventListener('keydown', (ev) => {
  const target = ev.target as HTMLElement;
  if (target.tagName === 'SELECT' || (target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'text')) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.code === 'Space') {
    ev.preventDefault();
    if (!hidden) {
      hidden = overlays.map((e) => e.layer.getVisible());
      overlays.forEach((e) => e.layer.setVisible(false));
    }
    return;
  }
  if (ev.key === 'f' || ev.key === 'F') return fit();
  const entry = entries.find((e) => e.key === ev.key.toLowerCase());
  if (entry) {
    const box = checkboxes.get(entry.id)!;
    box.checked = !box.checked;
    entry.layer.setVisible(box.checked);
  }
});
document.addEventListener('keyup', (ev) => {
  if (ev.code === 'Space' && hidden) {
    overlays.forEach((e, i) => e.layer.setVisible(hidden![i]! && checkboxes.get(e.id)!.checked));
    hidden = null;
  }
});

// --- cursor readout ----------------------------------------------------------------------------------------
const readout = $('readout');
let wanted: [number, number] | null = null;
let inFlight = false;
let shown = '';

function crsLabel(): string {
  return info.georef?.epsg ? `EPSG:${info.georef.epsg}` : 'map units';
}

function showPixel(p: PixelValues): void {
  const rows: HTMLElement[] = [];
  const row = (label: string | Node, ...value: (Node | string)[]): void => {
    rows.push(el('tr', {}, el('th', {}, label), el('td', {}, ...value)));
  };
  row('pixel', `col ${p.col}, row ${p.row}`);
  if (p.map) row('map', `${fmt(p.map.x)} E, ${fmt(p.map.y)} N`, el('span', { class: 'muted', text: ` ${crsLabel()}` }));
  p.image.forEach((b, i) => {
    const channels = ['R', 'G', 'B'].filter((_, c) => rgb[c] === i);
    const label = el('span', {}, b.name);
    if (channels.length) label.append(el('span', { class: `chan chan-${channels[0]}`, text: channels.join('') }));
    row(label, fmt(b.value));
  });
  if (p.imageNodata) row('', el('span', { class: 'muted', text: 'image nodata / fill' }));
  if (info.cam) {
    const t = info.threshold?.value;
    const cmp = p.cam === null || t === undefined ? '' : p.cam >= t ? ' ≥ T' : ' < T';
    row('CAM', fmt(p.cam), el('span', { class: 'muted', text: cmp }));
  }
  const c = info.colours.mask;
  const maskSwatch = p.mask.class === 'cloud' ? swatch(c.cloud) : p.mask.class === 'nodata' ? swatch(c.nodata, c.nodataStripe) : swatch([0, 0, 0, 0]);
  row('mask', maskSwatch, el('b', { class: `cls cls-${p.mask.class}`, text: ` ${p.mask.class}` }), el('span', { class: 'muted', text: ` (${fmt(p.mask.value)})` }));
  if (p.truth) {
    let verdict = '';
    if (p.mask.class !== 'nodata' && p.truth.class !== 'nodata') {
      verdict = p.mask.class === p.truth.class ? ' ✓' : p.mask.class === 'cloud' ? ' false cloud' : ' missed cloud';
    }
    row('truth', el('b', { text: p.truth.class }), el('span', { class: 'muted', text: ` (${fmt(p.truth.value)})${verdict}` }));
  }
  readout.classList.remove('muted');
  readout.replaceChildren(el('table', {}, ...rows));
}

async function pump(): Promise<void> {
  if (inFlight || !wanted) return;
  const [col, row] = wanted;
  wanted = null;
  const key = `${col},${row}`;
  if (key === shown) return;
  inFlight = true;
  try {
    const res = await fetch(`/api/pixel?x=${col}&y=${row}`);
    if (res.ok) {
      showPixel((await res.json()) as PixelValues);
      shown = key;
      readout.dataset.pixel = key;
    }
  } finally {
    inFlight = false;
    void pump();
  }
}

// Marks the pixel the readout describes (it stays when the cursor leaves the map, like the readout).
const marker = new Overlay({ element: el('div', { class: 'marker' }), positioning: 'center-center', stopEvent: false });
map.addOverlay(marker);

map.on('pointermove', (ev) => {
  if (ev.dragging) return;
  const [x, y] = ev.coordinate as [number, number];
  const col = Math.floor(x);
  const row = Math.floor(H - y);
  if (col < 0 || row < 0 || col >= W || row >= H) return;
  marker.setPosition([col + 0.5, H - row - 0.5]);
  wanted = [col, row];
  void pump();
});

// --- summary -----------------------------------------------------------------------------------------------
async function loadSummary(): Promise<void> {
  const body = $('summary-body');
  const res = await fetch('/api/summary');
  if (!res.ok) {
    body.textContent = `summary failed: ${await res.text()}`;
    return;
  }
  const s = (await res.json()) as ViewerSummary;
  const rows: HTMLElement[] = [];
  const row = (k: string, v: string, cls = ''): void => {
    rows.push(el('tr', { class: cls }, el('th', { text: k }), el('td', { text: v })));
  };
  row('cloud', pct(s.cloudFraction), 'big');
  if (s.nodata > 0) row('of valid pixels', pct(s.cloudFractionOfValid));
  row('nodata', pct(s.nodataFraction));
  row('threshold', s.threshold ? `${fmt(s.threshold.value)} (${s.threshold.source})` : 'unknown');
  const blocks: HTMLElement[] = [el('table', { id: 'fractions' }, ...rows)];
  if (s.truth) {
    const m = s.truth.metrics;
    const cm = s.truth.confusion;
    const cell = (k: string, v: string): HTMLElement => el('div', { class: 'metric' }, el('span', { text: k }), el('b', { text: v }));
    blocks.push(
      el('h3', { text: `vs truth ${s.truth.path} (${s.truth.coding})` }),
      el(
        'div',
        { class: 'metrics', id: 'metrics' },
        cell('OA', pct(m.oa)),
        cell('F1', pct(m.f1)),
        cell('IoU', pct(m.iou)),
        cell('precision', pct(m.precision)),
        cell('recall', pct(m.recall)),
        cell('kappa', m.kappa === null ? 'n/a' : m.kappa.toFixed(3)),
      ),
      el('div', { class: 'hint', text: `TP ${fmt(cm.tp)} · FP ${fmt(cm.fp)} · FN ${fmt(cm.fn)} · TN ${fmt(cm.tn)}${cm.excluded ? ` · excluded ${fmt(cm.excluded)}` : ''}` }),
    );
  }
  if (s.sidecar && Object.keys(s.sidecar.fields).length) {
    const fields = Object.entries(s.sidecar.fields).slice(0, 24);
    blocks.push(
      el(
        'details',
        {},
        el('summary', { text: s.sidecar.path }),
        el('table', { class: 'small' }, ...fields.map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: typeof v === 'number' ? fmt(v) : String(v) })))),
      ),
    );
  }
  for (const w of s.warnings) blocks.push(el('p', { class: 'warn', text: w }));
  body.classList.remove('muted');
  body.replaceChildren(...blocks);
  body.dataset.ready = '1';
}
void loadSummary();

// --- hooks for tests and for the curious (window.wdcd in the console) ---------------------------------------
function rendered(): Promise<void> {
  return new Promise((resolve) => {
    map.once('rendercomplete', () => resolve());
    map.render();
  });
}
/** Page (CSS pixel) position of the centre of an image pixel. */
function toScreen(col: number, row: number): [number, number] {
  const px = map.getPixelFromCoordinate([col + 0.5, H - row - 0.5]);
  const r = mapEl.getBoundingClientRect();
  return [r.left + px[0]!, r.top + px[1]!];
}
(window as unknown as { wdcd: unknown }).wdcd = { map, view, info, entries, rendered, toScreen, fit };
document.body.dataset.ready = '1';
