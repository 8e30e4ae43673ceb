import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { datadirCacheKey, datadirCacheRoot, initializeDatadirs } from '../../../src/lab/datadir-cache.js';
import { mariadbPaths } from '../../../src/lab/mariadb-instance.js';

/**
 * The cache's own logic against a stand-in mariadb-install-db that writes one file into the
 * datadir its config names and counts its runs (the real install is covered by every lab start
 * in the integration tests).
 */
let dir: string;
const saved = { bin: process.env.BATON_LAB_BIN_PATH, cache: process.env.XDG_CACHE_HOME };

function writeFakeBinaries(version: string): void {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'mariadbd'), `#!/bin/sh\n# ${version}\n`);
  writeFileSync(
    path.join(bin, 'mariadb-install-db'),
    [
      '#!/bin/sh',
      `# ${version}`,
      'config=${1#--defaults-file=}',
      'data=$(sed -n "s/^datadir=//p" "$config")',
      `echo ${version} > "$data/system-tables"`,
      `echo run >> ${path.join(dir, 'installs')}`,
      '',
    ].join('\n'),
  );
  chmodSync(path.join(bin, 'mariadbd'), 0o755);
  chmodSync(path.join(bin, 'mariadb-install-db'), 0o755);
}

function installs(): number {
  return existsSync(path.join(dir, 'installs'))
    ? readFileSync(path.join(dir, 'installs'), 'utf8').trim().split('\n').length
    : 0;
}

function emptyDatadirs(lab: string, nodes: string[]) {
  return nodes.map((node) => {
    const paths = mariadbPaths(path.join(dir, lab), node);
    mkdirSync(paths.data, { recursive: true });
    return paths;
  });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'baton-datadir-cache-'));
  process.env.BATON_LAB_BIN_PATH = path.join(dir, 'bin');
  process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
});

afterEach(() => {
  for (const [key, value] of [
    ['BATON_LAB_BIN_PATH', saved.bin],
    ['XDG_CACHE_HOME', saved.cache],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the initialized MariaDB datadir cache', () => {
  test('lives under XDG_CACHE_HOME, else ~/.cache', () => {
    expect(datadirCacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/baton/mariadb-datadir');
    expect(datadirCacheRoot({})).toMatch(/\/\.cache\/baton\/mariadb-datadir$/);
  });

  test('one install serves every server of every lab until the MariaDB build changes', async () => {
    writeFakeBinaries('10.11.19');
    const first = emptyDatadirs('lab1', ['a1', 'a2', 'b1', 'b2']);
    await initializeDatadirs(first, false);
    expect(installs()).toBe(1);
    for (const paths of first) {
      expect(readFileSync(path.join(paths.data, 'system-tables'), 'utf8')).toBe('10.11.19\n');
    }

    await initializeDatadirs(emptyDatadirs('lab2', ['a1']), false);
    expect(installs()).toBe(1);

    // A package upgrade changes the binaries: a new entry. The old one stays while it may still
    // be in use (another checkout's key), and goes once unused for a day.
    const oldKey = datadirCacheKey(false);
    writeFakeBinaries('10.11.20-upgraded');
    const newKey = datadirCacheKey(false);
    expect(newKey).not.toBe(oldKey);
    const upgraded = emptyDatadirs('lab3', ['a1']);
    await initializeDatadirs(upgraded, false);
    expect(installs()).toBe(2);
    expect(readFileSync(path.join(upgraded[0]!.data, 'system-tables'), 'utf8')).toBe('10.11.20-upgraded\n');
    expect(readdirSync(datadirCacheRoot()).sort()).toEqual([newKey, oldKey].sort());

    const dayAgo = new Date(Date.now() - 25 * 60 * 60_000);
    utimesSync(path.join(datadirCacheRoot(), oldKey), dayAgo, dayAgo);
    utimesSync(path.join(datadirCacheRoot(), newKey), dayAgo, dayAgo);
    // Using an entry marks it used: a lab of the new build keeps it.
    await initializeDatadirs(emptyDatadirs('lab4', ['a1']), false);
    writeFakeBinaries('10.11.21');
    await initializeDatadirs(emptyDatadirs('lab5', ['a1']), false);
    expect(readdirSync(datadirCacheRoot()).sort()).toEqual([newKey, datadirCacheKey(false)].sort());
  });

  test('running as root is part of the key (the install then writes user=root)', () => {
    writeFakeBinaries('10.11.19');
    expect(datadirCacheKey(true)).not.toBe(datadirCacheKey(false));
  });

  test('a failed install publishes nothing and leaves no partial entry', async () => {
    writeFakeBinaries('10.11.19');
    writeFileSync(path.join(dir, 'bin', 'mariadb-install-db'), '#!/bin/sh\necho broken >&2\nexit 3\n');
    await expect(initializeDatadirs(emptyDatadirs('lab1', ['a1']), false)).rejects.toThrow(
      /mariadb-install-db failed .*exit 3.*broken/,
    );
    expect(readdirSync(datadirCacheRoot())).toEqual([]);
  });
});
