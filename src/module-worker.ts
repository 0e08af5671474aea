/**
 * Starts a worker thread on a module beside the caller (`name` without extension). Run from source under tsx
 * (tests, scripts), Node 20 does not apply tsx's hooks to a worker's entry file, so a bootstrap registers them
 * first; built, the worker is plain JavaScript.
 */
import { Worker } from 'node:worker_threads';

/** Node options that preload modules into every thread (flag alone, or flag and value). */
const PRELOAD_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/**
 * The parent's Node options less its preloads, or undefined where it has none. A built worker is plain
 * JavaScript and needs no loader, but workers inherit the parent's options: under a TypeScript caller run with
 * `--import tsx`, each worker started tsx and its esbuild service, and V8 compiled tsx's and cjs-module-lexer's
 * code again in every thread (the session-start code under a tsx child: 18.5 against 16.1-17.3 CPU-seconds per
 * 16 MP detection).
 */
function optionsWithoutPreloads(): string[] | undefined {
  const kept: string[] = [];
  let dropped = false;
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i];
    const eq = arg.indexOf('=');
    if (PRELOAD_FLAGS.has(eq < 0 ? arg : arg.slice(0, eq))) {
      dropped = true;
      if (eq < 0) i++;
    } else {
      kept.push(arg);
    }
  }
  return dropped ? kept : undefined;
}

export function moduleWorker(callerUrl: string, name: string): Worker {
  // geotiff.js imports the web-worker package, which, loaded off the main thread, reads `workerData` to learn
  // whether it is one of its own workers: an empty object tells it that it is not.
  const workerData = {};
  if (callerUrl.endsWith('.ts')) {
    const entry = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href);
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData });
  }
  const url = new URL(`./${name}.js`, callerUrl);
  const execArgv = optionsWithoutPreloads();
  if (execArgv) {
    try {
      return new Worker(url, { workerData, execArgv });
    } catch (err) {
      // Options a worker may not be given explicitly (process-wide ones): inherit them all, preloads included.
      if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    }
  }
  return new Worker(url, { workerData });
}
