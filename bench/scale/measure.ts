/**
 * What the scale bench reads: a process's CPU time and RSS from /proc, the machine's CPU from
 * /proc/stat (so a reader can tell a busy shared machine from a busy coordinator), and Prometheus
 * text from the coordinators' and etcd's /metrics. The parsing and the histogram arithmetic are
 * pure and unit-tested (test/unit/bench/scale-measure.test.ts).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** Linux's USER_HZ: /proc reports CPU time in these ticks on every platform Node runs on here. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds the process has used (undefined once it is gone). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15; `fields` starts at field 3.
    return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export function rssMb(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? undefined : Number(line.replace(/\D+/g, '')) / 1024;
  } catch {
    return undefined;
  }
}

/** The whole machine's busy and total CPU ticks, summed over cores. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Microseconds during which some runnable task waited for a CPU (Linux pressure stall
 * information), undefined where the kernel does not offer it. Over a window, as a share of the
 * window: how contended the machine was, whoever caused it.
 */
export function cpuPressureStallUs(): number | undefined {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('some '));
    const totalUs = /total=(\d+)/.exec(some ?? '')?.[1];
    return totalUs === undefined ? undefined : Number(totalUs);
  } catch {
    return undefined;
  }
}

/** The kernel's own summary, e.g. `avg10=75.14 avg60=89.72` (percent of time some task waited for a CPU). */
export function cpuPressureSummary(): string {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    return /avg10=\S+ avg60=\S+/.exec(some)?.[0] ?? 'unknown';
  } catch {
    return 'unknown (no /proc/pressure/cpu)';
  }
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** GET with a deadline; the body as text. */
export function httpGetText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition: one Sample per line that is not a comment. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, '$1');
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of every series of one metric (e.g. a counter over all clusters). */
export function total(samples: readonly Sample[], name: string): number | undefined {
  const matching = samples.filter((s) => s.name === name);
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

/** A histogram's cumulative buckets summed over all its series, by upper bound (+Inf included). */
export function histogramBuckets(samples: readonly Sample[], name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return buckets;
}

/** What was observed between two scrapes of the same histogram: end minus start, per bound. */
export function bucketDelta(end: Map<number, number>, start: Map<number, number>): Map<number, number> {
  const delta = new Map<number, number>();
  for (const [le, count] of end) delta.set(le, count - (start.get(le) ?? 0));
  return delta;
}

/**
 * Prometheus's histogram_quantile: the bucket the q-th observation falls in, linearly
 * interpolated inside it (from 0 for the first bucket). An observation beyond the last finite
 * bound reports that bound: the histogram cannot say more. Undefined when nothing was observed.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const count = cumulative.get(Infinity) ?? cumulative.get(bounds.at(-1) ?? Infinity) ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const le of bounds) {
    const upTo = cumulative.get(le) ?? 0;
    if (upTo >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = upTo - lowerCount;
      return inBucket <= 0 ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = le;
    lowerCount = upTo;
  }
  return lowerBound;
}

/** Nearest-rank percentile of plain numbers (the failover times). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
