/**
 * The one progress-event union. The CLI bar, the web page and the tests all consume these events,
 * and every long-running library call accepts an optional `onProgress` callback of this type.
 */
export type ProgressEvent =
  | { kind: 'stage'; stage: string; message?: string }
  | { kind: 'progress'; stage: string; done: number; total: number; unit?: string }
  | { kind: 'epoch'; epoch: number; epochs: number; trainLoss: number; trainAccuracy: number; valLoss?: number; valAccuracy?: number; best: boolean }
  | { kind: 'step'; epoch: number; step: number; steps: number; loss: number }
  | { kind: 'log'; message: string }
  /** Something that may make the result wrong (units, calibration, a skipped scene): shown even with --quiet. */
  | { kind: 'warning'; message: string };

export type ProgressCallback = (event: ProgressEvent) => void;

/** A callback that ignores everything, so library code can call `onProgress` unconditionally. */
export const noProgress: ProgressCallback = () => {};
