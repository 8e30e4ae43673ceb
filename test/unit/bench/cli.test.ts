import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FLAP_MINUTES,
  DEFAULT_IDLE_SECONDS,
  DEFAULT_OUT,
  parseSuiteArgs,
} from '../../../bench/suite/cli.js';

describe('bench flags', () => {
  it('default to the default suite', () => {
    expect(parseSuiteArgs([])).toEqual({
      scenarios: undefined,
      wan: undefined,
      runs: undefined,
      policy: undefined,
      out: DEFAULT_OUT,
      idleSeconds: DEFAULT_IDLE_SECONDS,
      flapMinutes: DEFAULT_FLAP_MINUTES,
      seed: undefined,
      help: false,
    });
  });

  it('name one scenario, a list, or (as before) faults', () => {
    expect(parseSuiteArgs(['--scenario', 'kill'])).toMatchObject({ scenarios: ['kill'] });
    expect(parseSuiteArgs(['--scenarios', 'kill,cut'])).toMatchObject({ scenarios: ['kill', 'cut'] });
    expect(parseSuiteArgs(['--faults', 'hang'])).toMatchObject({ scenarios: ['hang'] });
    expect(parseSuiteArgs(['--scenario', 'kill', '--scenarios', 'cut'])).toHaveProperty('error');
    expect(parseSuiteArgs(['--scenario', 'kill,cut'])).toHaveProperty('error');
  });

  it('read every setting', () => {
    expect(
      parseSuiteArgs([
        '--wan',
        'lan',
        '--runs',
        '3',
        '--policy',
        'consistency',
        '--out',
        '/tmp/r',
        '--idle-seconds',
        '0',
        '--flap-minutes',
        '10',
        '--seed',
        '1313',
      ]),
    ).toMatchObject({
      wan: 'lan',
      runs: 3,
      policy: 'consistency',
      out: '/tmp/r',
      idleSeconds: 0,
      flapMinutes: 10,
      seed: 1313,
    });
  });

  it('turn every mistake into one line', () => {
    const errors = [
      ['--bogus'],
      ['kill'],
      ['--runs'],
      ['--runs', '0'],
      ['--runs', '2.5'],
      ['--wan', 'mars'],
      ['--policy', 'speed'],
      ['--idle-seconds', '-1'],
      ['--runs', '1', '--runs', '2'],
      ['--scenario', '--runs', '1'],
      ['--flap-minutes', '0'],
      ['--seed', 'x'],
    ].map((argv) => parseSuiteArgs(argv));
    for (const e of errors) {
      expect(e).toHaveProperty('error');
      expect((e as { error: string }).error).not.toContain('\n');
    }
    expect(errors[0]).toEqual({ error: 'unknown flag --bogus' });
    expect(errors[5]).toEqual({
      error: '--wan mars: one of lan, metro, region, continent, intercontinental',
    });
  });
});
