export { startViewer, type Viewer, type ViewerOptions } from './server.js';
export type { PixelValues, ViewerInfo, ViewerSummary } from './viewer-api.js';
