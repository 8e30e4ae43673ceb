/**
 * A mistake the operator can fix (bad name, port taken, missing package). The CLI prints the
 * message on one line and exits with exitCode; it never prints a stack trace for these.
 */
export class LabError extends Error {
  override name = 'LabError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
