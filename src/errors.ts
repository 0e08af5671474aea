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
