import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** A secret the test looks for, by the name of the file it came from. */
export interface Canary {
  name: string;
  value: string;
}

/** Where a secret was seen, and which. */
export interface Sighting {
  where: string;
  secret: string;
}

/**
 * Every password of a lab: its MySQL users (secrets.json) and, in a secure lab, its etcd users
 * (secrets/etcd-*.password). Freshly random per lab, so each is a canary: seen anywhere but in
 * its own file, it leaked.
 */
export function labCanaries(labDir: string): Canary[] {
  const dir = path.join(labDir, 'secrets');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.password'))
    .map((f) => ({ name: f, value: readFileSync(path.join(dir, f), 'utf8').trim() }))
    .filter((c) => c.value.length >= 12);
}

export function sightings(text: string, where: string, canaries: readonly Canary[]): Sighting[] {
  return canaries.filter((c) => text.includes(c.value)).map((c) => ({ where, secret: c.name }));
}

/** Every regular file under `root`, except the directories `skip` names (relative to root). */
export function filesUnder(root: string, skip: (relative: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (skip(path.relative(root, full))) continue;
      const stat = statSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(full);
      else if (stat?.isFile()) out.push(full);
    }
  };
  walk(root);
  return out;
}

export function scanFiles(files: readonly string[], canaries: readonly Canary[]): Sighting[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      return [];
    }
    return sightings(text, file, canaries);
  });
}

/**
 * Reads /proc/<pid>/cmdline and /proc/<pid>/environ of every process on the machine, every
 * `intervalMs`, for as long as it runs: the lab's processes, the coordinators and whatever they
 * start (hooks, fence commands) are among them while they live. Counts what it read, so a test
 * can tell a scan that saw nothing from one that read nothing.
 */
export class ProcessScanner {
  readonly found: Sighting[] = [];
  scans = 0;
  processesRead = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly canaries: readonly Canary[],
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.scan();
    this.timer = setInterval(() => this.scan(), this.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.scan();
  }

  private scan(): void {
    this.scans += 1;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      if (Number(pid) === process.pid) continue;
      for (const part of ['cmdline', 'environ'] as const) {
        let text: string;
        try {
          text = readFileSync(`/proc/${pid}/${part}`, 'latin1');
        } catch {
          continue; // gone, or not ours to read
        }
        if (part === 'cmdline') this.processesRead += 1;
        for (const s of sightings(text, `/proc/${pid}/${part} (${commandOf(pid)})`, this.canaries)) {
          if (!this.found.some((f) => f.where === s.where && f.secret === s.secret)) this.found.push(s);
        }
      }
    }
  }
}

function commandOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
