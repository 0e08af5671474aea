/**
 * Starts a worker thread on a module beside the caller (`name` without extension). Run from source under tsx
 * (tests, scripts), Node 20 does not apply tsx's hooks to a worker's entry file, so a bootstrap registers them
 * first; built, the worker is plain JavaScript.
 */
import { Worker } from 'node:worker_threads';

export function moduleWorker(callerUrl: string, name: string): Worker {
  // geotiff.js imports the web-worker package, which, loaded off the main thread, reads `workerData` to learn
  // whether it is one of its own workers: an empty object tells it that it is not.
  const workerData = {};
  if (callerUrl.endsWith('.ts')) {
    const entry = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href);
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
}
