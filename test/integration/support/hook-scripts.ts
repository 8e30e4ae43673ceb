import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The slow hook's sleep: a number no other process on the machine sleeps for. */
export const SLOW_SLEEP_S = 37;

function script(file: string, body: string): string {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * `lab up --hooks` for the tests: each hook dumps its environment and argv to
 * DIR/<hook>.<pid>.{env,argv}; beforePromote vetoes while DIR/veto exists (stderr "vetoed by the
 * test"); afterWriterChange then hangs in `sleep` past its 500 ms timeout. Returns the YAML file.
 */
export function writeTestHooks(root: string): string {
  const record = 'env > "$1/$BATON_HOOK.$$.env"; printf "%s\\n" "$0" "$@" > "$1/$BATON_HOOK.$$.argv"';
  const veto = script(
    path.join(root, 'before-promote.sh'),
    `${record}\nif [ -e "$1/veto" ]; then echo "vetoed by the test: maintenance" >&2; exit 3; fi`,
  );
  const slow = script(path.join(root, 'after-writer-change.sh'), `${record}\nsleep ${SLOW_SLEEP_S}`);
  const plain = script(path.join(root, 'record.sh'), record);
  const file = path.join(root, 'hooks.yaml');
  writeFileSync(
    file,
    [
      `beforePromote: { argv: [${veto}, ${root}], timeoutMs: 3000 }`,
      `afterWriterChange: { argv: [${slow}, ${root}], timeoutMs: 500 }`,
      `onFence: { argv: [${plain}, ${root}], timeoutMs: 2000 }`,
      `onFailoverSkipped: { argv: [${plain}, ${root}], timeoutMs: 2000 }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** What the hooks dumped: their environments (.env) or argv (.argv). */
export function hookDumps(root: string, suffix: '.env' | '.argv'): { file: string; text: string }[] {
  return readdirSync(root)
    .filter((f) => f.endsWith(suffix))
    .map((f) => ({ file: f, text: readFileSync(path.join(root, f), 'utf8') }));
}

/** What a POSIX sh adds to the environment it was given, and what baton passes through. */
const SHELL_ADDED = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);
const PASSED_THROUGH = new Set(['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME']);

/** Variables in a dumped environment that baton should not have passed. */
export function unexpectedVariables(envText: string): string[] {
  return envText
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => line.slice(0, line.indexOf('=')))
    .filter((n) => !n.startsWith('BATON_') && !PASSED_THROUGH.has(n) && !SHELL_ADDED.has(n));
}
