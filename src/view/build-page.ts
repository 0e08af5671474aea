/**
 * Build step for the viewer page: bundles src/view/page into dist/view/page (index.html, app.js, app.css).
 * Run after tsc: `node dist/view/build-page.js` (package.json "build"/"prepare").
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writePage } from './page-assets.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
await writePage(join(root, 'dist', 'view', 'page'), join(root, 'src', 'view', 'page'));
