export { startViewer, type Viewer, type ViewerOptions, type ViewerSummary } from './server.js';
