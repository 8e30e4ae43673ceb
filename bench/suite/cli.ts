/**
 * `npm run bench` flags. Parsing is pure and returns a one-line error instead of throwing, so a
 * bad flag is a usage line, never a stack trace.
 */
import { WAN_PROFILE_NAMES, type WanProfileName } from '../../src/lab/wan-profile.js';
import type { Policy } from '../goals.js';

export interface SuiteOptions {
  /** Named scenarios, in order; undefined: the default suite. */
  scenarios: string[] | undefined;
  wan: WanProfileName | undefined;
  /** undefined: the suite's default. */
  runs: number | undefined;
  policy: Policy | undefined;
  /** Results go to <out>/<timestamp>/. */
  out: string;
  idleSeconds: number;
  /** The flap soak's length (issue 13: 2 minutes in the default run, 10 for the full soak). */
  flapMinutes: number;
  /** The flap soak's schedule seed; undefined: a fresh one (printed). */
  seed: number | undefined;
  help: boolean;
}

export const USAGE =
  'usage: npm run bench -- [--scenario NAME | --scenarios A,B] [--wan PROFILE] [--runs N] ' +
  '[--policy availability|consistency] [--out DIR] [--idle-seconds S] [--flap-minutes M] [--seed S] [--help]';

const VALUE_FLAGS = [
  'scenario',
  'scenarios',
  'faults',
  'wan',
  'runs',
  'policy',
  'out',
  'idle-seconds',
  'flap-minutes',
  'seed',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

export const DEFAULT_OUT = 'bench-results';
export const DEFAULT_IDLE_SECONDS = 30;
export const DEFAULT_FLAP_MINUTES = 2;

function wholeNumber(text: string, flag: string, min: number): number | string {
  const n = Number(text);
  return /^\d+$/.test(text) && n >= min ? n : `--${flag} ${text}: a whole number, ${min} or more`;
}

export function parseSuiteArgs(argv: readonly string[]): SuiteOptions | { error: string } {
  const values: Partial<Record<ValueFlag, string>> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--help' || token === '-h') {
      help = true;
      continue;
    }
    const name = token.startsWith('--') ? token.slice(2) : undefined;
    if (name === undefined || !(VALUE_FLAGS as readonly string[]).includes(name)) {
      return { error: `unknown ${name === undefined ? 'argument' : 'flag'} ${token}` };
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) return { error: `--${name} needs a value` };
    if (values[name as ValueFlag] !== undefined) return { error: `--${name} given twice` };
    values[name as ValueFlag] = value;
    i++;
  }
  const named = [values.scenario, values.scenarios, values.faults].filter((v) => v !== undefined);
  if (named.length > 1) return { error: 'give one of --scenario, --scenarios (or the old --faults)' };
  const scenarios = named[0]?.split(',').filter((s) => s !== '');
  if (scenarios !== undefined && scenarios.length === 0) return { error: 'no scenario named' };
  if (values.scenario !== undefined && scenarios !== undefined && scenarios.length > 1)
    return { error: `--scenario takes one name (--scenarios takes a list): ${values.scenario}` };

  const wan = values.wan as WanProfileName | undefined;
  if (wan !== undefined && !WAN_PROFILE_NAMES.includes(wan))
    return { error: `--wan ${wan}: one of ${WAN_PROFILE_NAMES.join(', ')}` };
  const policy = values.policy;
  if (policy !== undefined && policy !== 'availability' && policy !== 'consistency')
    return { error: `--policy ${policy}: availability or consistency` };
  const runs = values.runs === undefined ? undefined : wholeNumber(values.runs, 'runs', 1);
  if (typeof runs === 'string') return { error: runs };
  const idle =
    values['idle-seconds'] === undefined
      ? DEFAULT_IDLE_SECONDS
      : wholeNumber(values['idle-seconds'], 'idle-seconds', 0);
  if (typeof idle === 'string') return { error: idle };
  const flapMinutes =
    values['flap-minutes'] === undefined
      ? DEFAULT_FLAP_MINUTES
      : wholeNumber(values['flap-minutes'], 'flap-minutes', 1);
  if (typeof flapMinutes === 'string') return { error: flapMinutes };
  const seed = values.seed === undefined ? undefined : wholeNumber(values.seed, 'seed', 0);
  if (typeof seed === 'string') return { error: seed };
  return {
    scenarios,
    wan,
    runs,
    policy,
    out: values.out ?? DEFAULT_OUT,
    idleSeconds: idle,
    flapMinutes,
    seed,
    help,
  };
}
