import { describe, expect, it } from 'vitest';
import {
  bucketDelta,
  histogramBuckets,
  histogramQuantile,
  parsePrometheus,
  percentile,
  total,
} from '../../../bench/scale/measure.js';

const SCRAPE = `# HELP baton_decision_cycle_seconds Duration of one decision cycle
# TYPE baton_decision_cycle_seconds histogram
baton_decision_cycle_seconds_bucket{le="0.005",cluster="c1"} 6
baton_decision_cycle_seconds_bucket{le="0.01",cluster="c1"} 8
baton_decision_cycle_seconds_bucket{le="+Inf",cluster="c1"} 10
baton_decision_cycle_seconds_sum{cluster="c1"} 0.2
baton_decision_cycle_seconds_count{cluster="c1"} 10
baton_decision_cycle_seconds_bucket{le="0.005",cluster="c2"} 4
baton_decision_cycle_seconds_bucket{le="0.01",cluster="c2"} 10
baton_decision_cycle_seconds_bucket{le="+Inf",cluster="c2"} 10
baton_decision_cycle_seconds_count{cluster="c2"} 10
etcd_mvcc_put_total 1.5e+03
baton_node_up{cluster="a \\"quoted\\" name",node="a1"} 1
`;

describe('parsePrometheus', () => {
  it('reads names, labels (escapes included) and values, skipping comments', () => {
    const samples = parsePrometheus(SCRAPE);
    expect(total(samples, 'etcd_mvcc_put_total')).toBe(1500);
    expect(total(samples, 'baton_decision_cycle_seconds_count')).toBe(20);
    expect(samples.find((s) => s.name === 'baton_node_up')?.labels.cluster).toBe('a "quoted" name');
    expect(total(samples, 'absent_metric')).toBeUndefined();
  });
});

describe('histograms', () => {
  const buckets = histogramBuckets(parsePrometheus(SCRAPE), 'baton_decision_cycle_seconds');

  it('sums the buckets of every series by bound', () => {
    expect([...buckets.entries()]).toEqual([
      [0.005, 10],
      [0.01, 18],
      [Infinity, 20],
    ]);
  });

  it('interpolates inside the bucket, as histogram_quantile does', () => {
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.005);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.0025);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.005 + 0.005 * (4 / 8));
  });

  it('reports the last finite bound for what lies beyond it, nothing for an empty window', () => {
    expect(histogramQuantile(0.99, buckets)).toBe(0.01);
    expect(histogramQuantile(0.5, bucketDelta(buckets, buckets))).toBeUndefined();
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(percentile([], 50)).toBeUndefined();
  });
});
