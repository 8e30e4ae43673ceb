import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { cp } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { LabError } from './errors.js';
import {
  installArgs,
  installMariadb,
  writeInstallConfig,
  INSTALL_OPTIONS,
  type MariadbPaths,
} from './mariadb-instance.js';
import { executable } from './preflight.js';

/**
 * A new MariaDB datadir is the same for every lab server (system tables only; a server's
 * identity is in its config, and nothing of it is written at install), and mariadb-install-db
 * is most of what a lab start waits for: about 1.3 s for one, 2.3 s for the lab's four side by
 * side on two cores, against 0.2 s to copy one. So one is initialized per MariaDB build and
 * kept in the user's cache directory, and each server gets a copy.
 *
 * The key is everything the result depends on: the install's arguments (running as root among
 * them) and options, and the identity (path, size, mtime) of mariadbd and mariadb-install-db,
 * which a package upgrade changes (the SQL scripts the install runs come in the same package).
 * An entry is built in a private directory and renamed into place whole, so a lab never copies a
 * partial one, and two labs building at once both succeed (the second rename loses and is
 * discarded).
 */
const LAYOUT = 1;

/** Entries being built are left alone this long; older ones are from a start that died. */
const BUILDING_GRACE_MS = 10 * 60_000;
/** Another build's entry unused this long is pruned. */
const UNUSED_ENTRY_MS = 24 * 60 * 60_000;

export function datadirCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'baton', 'mariadb-datadir');
}

function binaryIdentity(name: string): { path: string; size: number; mtimeMs: number } {
  const file = executable(name);
  const stat = statSync(file);
  return { path: file, size: stat.size, mtimeMs: stat.mtimeMs };
}

export function datadirCacheKey(runAsRoot: boolean): string {
  const inputs = {
    layout: LAYOUT,
    args: installArgs(runAsRoot),
    options: INSTALL_OPTIONS,
    binaries: [binaryIdentity('mariadbd'), binaryIdentity('mariadb-install-db')],
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 32);
}

/** Fills each (empty) datadir with a copy of an initialized one, built first if not cached. */
export async function initializeDatadirs(targets: MariadbPaths[], runAsRoot: boolean): Promise<void> {
  const pristine = await cachedDatadir(datadirCacheRoot(), runAsRoot);
  await Promise.all(
    targets.map((target) => cp(pristine, target.data, { recursive: true, preserveTimestamps: true })),
  );
}

async function cachedDatadir(root: string, runAsRoot: boolean): Promise<string> {
  const key = datadirCacheKey(runAsRoot);
  const entry = path.join(root, key);
  if (existsSync(path.join(entry, 'data'))) {
    markUsed(entry);
    return path.join(entry, 'data');
  }

  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new LabError(
      `cannot create the MariaDB datadir cache ${root} (${(error as Error).message}); set XDG_CACHE_HOME to a writable directory`,
    );
  }
  const building = mkdtempSync(path.join(root, 'building-'));
  try {
    const paths = templatePaths(building);
    writeInstallConfig(paths, runAsRoot);
    await installMariadb(paths, runAsRoot);
    try {
      renameSync(building, entry);
    } catch (error) {
      // Another lab published the same entry first: use theirs.
      if (!existsSync(path.join(entry, 'data'))) throw error;
      rmSync(building, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  pruneOthers(root, key);
  return path.join(entry, 'data');
}

function templatePaths(dir: string): MariadbPaths {
  return {
    root: dir,
    data: path.join(dir, 'data'),
    tmp: path.join(dir, 'tmp'),
    config: path.join(dir, 'my.cnf'),
    socket: path.join(dir, 'mysqld.sock'),
    log: path.join(dir, 'install.log'),
  };
}

/** An entry's mtime says when a lab last used it (pruneOthers keeps what another checkout uses). */
function markUsed(entry: string): void {
  try {
    const now = new Date();
    utimesSync(entry, now, now);
  } catch {
    // Pruned by another lab this instant: its copy below fails and says so.
  }
}

/**
 * Entries of other MariaDB builds, and builds that died, are of no further use once nobody has
 * used them for a while. Not at once: two checkouts of different versions (a different key)
 * share the cache, and one pruning the other's entry while that one copied from it failed a lab
 * (seen when a helper's lab ran beside a CI run).
 */
function pruneOthers(root: string, key: string): void {
  for (const name of readdirSync(root)) {
    if (name === key) continue;
    const entry = path.join(root, name);
    try {
      const grace = name.startsWith('building-') ? BUILDING_GRACE_MS : UNUSED_ENTRY_MS;
      if (Date.now() - statSync(entry).mtimeMs < grace) continue;
      rmSync(entry, { recursive: true, force: true });
    } catch {
      // Gone already (another lab pruned it).
    }
  }
}
