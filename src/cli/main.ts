#!/usr/bin/env node
/** The `wdcd` command: argument parsing and printing only; every command calls the library. */
import { InputError } from '../errors.js';
import { removeTemporaryFilesSync } from '../raster/temporary-files.js';
import { DETECT_USAGE, detectCommand } from './detect-command.js';
import { EVAL_USAGE, evalCommand } from './eval-command.js';
import { MODELS_USAGE, modelsCommand } from './models-command.js';
import { TRAIN_USAGE, trainCommand } from './train-command.js';
import { VIEW_USAGE, viewCommand } from './view-command.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  detect: { run: detectCommand, usage: DETECT_USAGE },
  train: { run: trainCommand, usage: TRAIN_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
  view: { run: viewCommand, usage: VIEW_USAGE },
  models: { run: modelsCommand, usage: MODELS_USAGE },
};

const HELP = `wdcd: weakly supervised cloud detection (block labels in, pixel cloud masks out)

usage: wdcd COMMAND [options]     wdcd COMMAND --help

${Object.values(COMMANDS)
  .map((c) => c.usage.split('\n')[0])
  .join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(HELP + '\n');
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`wdcd: unknown command "${command}"\n\n${HELP}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(entry.usage + '\n');
    return 0;
  }
  // A signal ends the process without the writers' clean-up: remove their unfinished files here. (`view` writes
  // nothing and stops its server on its own handlers.)
  if (command !== 'view') {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        const removed = removeTemporaryFilesSync();
        process.stderr.write(`\nwdcd ${command}: stopped by ${signal}${removed > 0 ? `; removed ${removed} unfinished output file${removed > 1 ? 's' : ''}` : ''}\n`);
        // Die of the signal itself: process.exit would tear down onnxruntime under its running threads (abort).
        process.kill(process.pid, signal);
      });
    }
  }
  try {
    await entry.run(rest);
    return 0;
  } catch (e) {
    // Bad input (files, options) gets one clear line and exit 2; anything else is a bug and shows its stack.
    const err = e as Error & { code?: string };
    if (e instanceof InputError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`\nwdcd ${command}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`\nwdcd ${command}: internal error: ${err.stack ?? err.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== 0 || !['view'].includes(process.argv[2])) process.exitCode = code;
});
