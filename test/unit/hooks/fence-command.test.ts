import { describe, expect, test } from 'vitest';
import { expandArgv, runFenceCommand } from '../../../src/hooks/fence-command.js';

const target = { cluster: 'orders', node: 'east1', host: 'db-east1', port: 3306 };

describe('fence command (STONITH hook)', () => {
  test('placeholders in argv are expanded, and nothing else is', () => {
    expect(
      expandArgv(['stonith', '--node={node}', '{host}:{port}', '{cluster}', '{other}', '$HOME'], target),
    ).toEqual(['stonith', '--node=east1', 'db-east1:3306', 'orders', '{other}', '$HOME']);
  });

  test('exit 0 is success; the target is in the environment too', async () => {
    const result = await runFenceCommand(
      [
        'sh',
        '-c',
        'test "$BATON_NODE:$BATON_HOST:$BATON_PORT:$BATON_CLUSTER" = "east1:db-east1:3306:orders"',
      ],
      target,
      5_000,
    );
    expect(result).toMatchObject({ ok: true, outcome: 'exit 0' });
  });

  test('a non-zero exit is failure, with the end of its stderr', async () => {
    const result = await runFenceCommand(['sh', '-c', 'echo "ipmi: no route" >&2; exit 3'], target, 5_000);
    expect(result).toMatchObject({ ok: false, outcome: 'exit 3', stderrTail: 'ipmi: no route' });
  });

  test('a command that hangs is killed at its deadline and counts as failure', async () => {
    const result = await runFenceCommand(['sleep', '30'], target, 200);
    expect(result.ok).toBe(false);
    expect(result.outcome).toBe('timeout after 200 ms');
    expect(result.ms).toBeLessThan(2_000);
  });

  test('a missing program is a failure, not a crash', async () => {
    const result = await runFenceCommand(['/nonexistent/stonith'], target, 1_000);
    expect(result.ok).toBe(false);
    expect(result.outcome).toMatch(/^could not start: spawn \/nonexistent\/stonith ENOENT/);
  });
});
