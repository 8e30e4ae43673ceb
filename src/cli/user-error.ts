import { InvalidArgumentError } from 'commander';
import { LabError } from '../lab/errors.js';

/**
 * Wraps a commander action so that an operator's mistake prints one line and a non-zero exit
 * code, never a stack trace. Unexpected failures print their message too; the stack only with
 * BATON_DEBUG=1.
 */
export function action<Args extends unknown[]>(
  fn: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await fn(...args);
    } catch (error) {
      if (error instanceof LabError) {
        process.stderr.write(`baton: ${error.message}\n`);
        process.exitCode = error.exitCode;
        return;
      }
      const err = error as Error;
      process.stderr.write(`baton: ${err.message}\n`);
      if (process.env.BATON_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 1;
    }
  };
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1024 || port > 64_000) {
    throw new InvalidArgumentError('expected an integer 1024-64000 (the lab uses up to base+600)');
  }
  return port;
}
