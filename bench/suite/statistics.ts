/** Summary statistics over a scenario's runs. */

export type Statistic = 'min' | 'p50' | 'p99' | 'max';

export const STATISTICS: readonly Statistic[] = ['min', 'p50', 'p99', 'max'];

export type Summary = Record<Statistic, number> & { n: number };

/** Nearest-rank percentile: always one of the values, so with 3 runs p99 is the largest. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function statistic(values: readonly number[], which: Statistic): number {
  if (which === 'min') return percentile(values, 0);
  if (which === 'max') return percentile(values, 100);
  return percentile(values, which === 'p50' ? 50 : 99);
}

/** undefined when there is nothing to summarise. */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  return {
    n: values.length,
    min: statistic(values, 'min'),
    p50: statistic(values, 'p50'),
    p99: statistic(values, 'p99'),
    max: statistic(values, 'max'),
  };
}
