/**
 * An error caused by what the user gave us (a file, an option), as opposed to a bug.
 * The CLI prints `message` alone and exits with code 2; the message names the file and the problem.
 */
export class InputError extends Error {
  constructor(
    message: string,
    /** The file (or option) at fault, when there is one. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'InputError';
  }
}

/** A message on one line: its lines joined, those repeating what came before left out (libvips repeats its warnings). */
export function oneLine(message: string): string {
  let text = '';
  for (const line of message.split('\n').map((l) => l.trim())) if (line && !text.includes(line)) text += text ? `; ${line}` : line;
  return text;
}
