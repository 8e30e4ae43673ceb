/** A readable, replayable record of one simulated run: every line is stamped with virtual time. */
export class Trace {
  readonly lines: string[] = [];

  constructor(private readonly now: () => number) {}

  add(who: string, what: string): void {
    this.lines.push(`${String(this.now()).padStart(7)} ms  ${who.padEnd(9)} ${what}`);
  }

  tail(n: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - n));
  }
}

export function fields(f: Record<string, unknown>): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
