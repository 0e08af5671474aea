/**
 * Renders the library's progress events on stderr: a redrawn bar when stderr is a terminal, otherwise only
 * stage changes and epoch lines (so logs and CI output stay readable). stdout is left to results (--json).
 */
import type { ProgressCallback, ProgressEvent } from '../progress.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressCallback & { done(): void } {
  const tty = Boolean(stream.isTTY);
  let lastDraw = 0;
  let barShown = false;
  const clear = () => {
    if (barShown) stream.write('\r\x1b[K');
    barShown = false;
  };
  const print = (line: string) => {
    clear();
    stream.write(line + '\n');
  };
  const handler = (event: ProgressEvent) => {
    if (event.kind === 'warning') return print(`warning: ${event.message}`);
    if (quiet) return;
    switch (event.kind) {
      case 'stage':
        if (!tty) print(`${event.stage}${event.message ? `: ${event.message}` : ''}`);
        break;
      case 'log':
        print(event.message);
        break;
      case 'epoch': {
        const val = Number.isFinite(event.valLoss) ? `, val loss ${event.valLoss!.toFixed(4)} acc ${(100 * event.valAccuracy!).toFixed(1)} %` : '';
        print(`epoch ${event.epoch}/${event.epochs}: train loss ${event.trainLoss.toFixed(4)} acc ${(100 * event.trainAccuracy).toFixed(1)} %${val}${event.best ? ' (best)' : ''}`);
        break;
      }
      case 'progress':
      case 'step': {
        if (!tty) return;
        const now = Date.now();
        const [label, done, total] = event.kind === 'step' ? [`epoch ${event.epoch}`, event.step, event.steps] : [event.stage, event.done, event.total];
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round((width * done) / Math.max(total, 1));
        const extra = event.kind === 'step' ? ` loss ${event.loss.toFixed(4)}` : ` ${done}/${total}${event.unit ? ` ${event.unit}` : ''}`;
        stream.write(`\r\x1b[K${label.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor((100 * done) / Math.max(total, 1))).padStart(3)} %${extra}`);
        barShown = true;
        break;
      }
    }
  };
  return Object.assign(handler, { done: clear });
}
