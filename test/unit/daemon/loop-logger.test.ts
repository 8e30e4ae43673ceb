import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { loopLogger } from '../../../src/daemon/loop-logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: loopLogger(createLogger({ level, destination })) };
}

describe('loop logger', () => {
  test('a standing decision is logged once at info, then only when its reason changes', () => {
    const { lines, log } = capture();
    for (let i = 0; i < 5; i++)
      log('decision', { reason: 'writer-healthy', node: 'a1', message: 'writer a1 is up' });
    log('decision', { level: 'warn', reason: 'skipped-lag-too-high', node: 'a1', message: 'no candidate' });
    log('decision', { level: 'warn', reason: 'skipped-lag-too-high', node: 'a1', message: 'no candidate' });
    log('decision', { reason: 'writer-healthy', node: 'a1', message: 'writer a1 is up' });
    expect(lines.map((l) => [l.level, l.reason, l.msg])).toEqual([
      [30, 'writer-healthy', 'writer a1 is up'],
      [40, 'skipped-lag-too-high', 'no candidate'],
      [30, 'writer-healthy', 'writer a1 is up'],
    ]);
  });

  test('repeats are still there at debug, and other events always log', () => {
    const { lines, log } = capture('debug');
    log('decision', { reason: 'writer-healthy', node: 'a1' });
    log('decision', { reason: 'writer-healthy', node: 'a1' });
    log('elected', {});
    expect(lines.map((l) => l.level)).toEqual([30, 20, 30]);
    expect(lines[2]?.event).toBe('elected');
  });
});
