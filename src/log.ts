import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field paths pino replaces with "[redacted]" wherever they appear, up to three levels deep.
 * Secrets reach log calls mostly through config and connection-option objects, so redaction
 * matches their field names rather than trusting every call site to remember.
 */
const SECRET_FIELDS = ['password', 'secret', 'token'];
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

export interface LoggerSettings {
  level?: string;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to capture output. */
  destination?: NodeJS.WritableStream;
  /** Synchronous writes: decision records must not be lost when the process dies right after. */
  sync?: boolean;
}

/** The root logger: JSON lines, secrets redacted, synchronous by default. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const destination = settings.destination ?? pino.destination({ dest: 1, sync: settings.sync ?? true });
  return pino(options, destination);
}

/** One child per component (`etcd.session`, `mysql`, `guard`...), so every line says who spoke. */
export function componentLogger(parent: Logger, component: string, bindings: object = {}): Logger {
  return parent.child({ component, ...bindings });
}

/** A logger that drops everything: the default for adapters constructed without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
