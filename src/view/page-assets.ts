/**
 * The page's own assets: index.html, app.js, app.css. OpenLayers and everything else is bundled in by esbuild,
 * so the page needs no network. `npm run build` writes the bundle next to the compiled server
 * (dist/view/page/); when that is missing (running from src/ through tsx, in tests) the server bundles the
 * sources in memory at start-up, which takes well under a second.
 */
import { readFile, mkdir, writeFile, access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface PageAssets {
  'index.html': Buffer;
  'app.js': Buffer;
  'app.css': Buffer;
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Bundles src/view/page/main.ts (and the CSS it imports) with esbuild, in memory. */
export async function bundlePage(pageDir = PAGE_DIR): Promise<PageAssets> {
  const entry = join(pageDir, 'main.ts');
  if (!(await exists(entry))) {
    throw new Error(`the viewer page is not built (no ${join(pageDir, 'app.js')}) and its sources are missing; run npm run build`);
  }
  // esbuild is a build-time dependency only: imported lazily so that a built install never needs it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: entry },
    bundle: true,
    write: false,
    outdir: pageDir,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    loader: { '.css': 'css' },
  });
  const find = (ext: string): Buffer => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild produced no ${ext} for the viewer page`);
    return Buffer.from(file.contents);
  };
  return { 'index.html': await readFile(join(pageDir, 'index.html')), 'app.js': find('.js'), 'app.css': find('.css') };
}

let cached: Promise<PageAssets> | undefined;

/** The built assets if present next to this module, else an in-memory bundle of the sources. */
export function loadPage(): Promise<PageAssets> {
  cached ??= (async () => {
    if (await exists(join(PAGE_DIR, 'app.js'))) {
      const [html, js, css] = await Promise.all(
        ['index.html', 'app.js', 'app.css'].map((name) => readFile(join(PAGE_DIR, name))),
      );
      return { 'index.html': html!, 'app.js': js!, 'app.css': css! };
    }
    return bundlePage();
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** Writes the bundle to `outDir` (the build step: `node dist/view/page-assets.js dist/view/page`). */
export async function writePage(outDir: string, pageDir = PAGE_DIR): Promise<void> {
  const assets = await bundlePage(pageDir);
  await mkdir(outDir, { recursive: true });
  for (const [name, data] of Object.entries(assets)) await writeFile(join(outDir, name), data);
}
