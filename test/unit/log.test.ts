import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger } from '../../src/log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('redacts passwords, secrets and tokens at any of the first levels', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    log.info(
      {
        password: 'p0',
        mysql: { user: 'baton', password: 'p1' },
        etcd: { auth: { username: 'u', password: 'p2' } },
        config: { etcd: { auth: { token: 't3' } } },
        secret: 's0',
      },
      'config loaded',
    );
    const text = JSON.stringify(out.lines());
    for (const leaked of ['p0', 'p1', 'p2', 't3', 's0']) expect(text).not.toContain(`"${leaked}"`);
    expect(text).toContain('"user":"baton"');
    expect(text).toContain('[redacted]');
  });

  it('tags each component with a child logger', () => {
    const out = capture();
    const log = componentLogger(createLogger({ destination: out.stream }), 'guard', { cluster: 'orders' });
    log.warn('fenced');
    expect(out.lines()[0]).toMatchObject({ component: 'guard', cluster: 'orders', msg: 'fenced', level: 40 });
  });
});
