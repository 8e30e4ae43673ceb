import type { Logger } from '../log.js';
import type { LoopLog } from '../coordinator/loop.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * Adapts the loop's structured events to pino. A decision is logged at its own level once,
 * when its reason (or the node it concerns) changes; while it stands it repeats only at debug,
 * so the log an operator reads at 3 a.m. is a list of changes, not a 5-per-second heartbeat.
 */
export function loopLogger(logger: Logger): LoopLog {
  const standing = new Map<string, string>();
  return (event, fields) => {
    const { level: requested, ...rest } = fields as { level?: string } & Record<string, unknown>;
    let level = typeof requested === 'string' && LEVELS.has(requested) ? requested : 'info';
    if (event === 'decision') {
      const topic = String(rest.node ?? '');
      const key = `${String(rest.reason)}|${topic}`;
      if (standing.get(topic) === key) level = 'debug';
      standing.set(topic, key);
    }
    const message = typeof rest.message === 'string' ? rest.message : event;
    (logger[level as 'info'] as (obj: object, msg: string) => void).call(logger, { event, ...rest }, message);
  };
}
