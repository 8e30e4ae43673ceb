/**
 * A run's timeline as SVG, drawn by Vega in Node (renderer 'none': no browser, no canvas):
 * acknowledged writes per 100 ms stacked by node, with a vertical rule at the fault, the failover
 * decision, each fence, each writer change and each change of coordinator leader.
 */
import * as vega from 'vega';
import type { MarkerKind, Timeline } from './timeline.js';

const MARKER_COLORS: Record<MarkerKind, string> = {
  fault: '#d62728',
  decision: '#8c564b',
  fence: '#f58518',
  'writer change': '#222222',
  'leader change': '#17becf',
};

/** Blue and green for the two masters, distinct from every marker colour. */
const NODE_COLORS = ['#4c78a8', '#54a24b', '#b279a2', '#9d755d', '#72b7b2'];

export function timelineSpec(title: string, timeline: Timeline): vega.Spec {
  const bucketS = timeline.bucketMs / 1000;
  const bars = timeline.buckets
    .filter((b) => b.node !== '')
    .map((b) => ({ start: b.startMs / 1000, end: b.startMs / 1000 + bucketS, node: b.node, acks: b.acks }));
  const lastStart = timeline.buckets.at(-1)?.startMs ?? timeline.fromMs;
  const domain = [timeline.fromMs / 1000, lastStart / 1000 + bucketS];
  const markers = timeline.markers.map((m) => ({ at: m.atMs / 1000, kind: m.kind, label: m.label }));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    width: 1000,
    height: 280,
    padding: 8,
    background: 'white',
    title: { text: title, anchor: 'start', fontSize: 14 },
    data: [
      {
        name: 'acks',
        values: bars,
        transform: [{ type: 'stack', groupby: ['start'], field: 'acks', sort: { field: 'node' } }],
      },
      { name: 'markers', values: markers },
    ],
    scales: [
      { name: 'x', type: 'linear', domain, range: 'width', zero: false },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'acks', field: 'y1' },
        range: 'height',
        nice: true,
        zero: true,
      },
      {
        name: 'node',
        type: 'ordinal',
        domain: { data: 'acks', field: 'node', sort: true },
        range: NODE_COLORS,
      },
      {
        name: 'marker',
        type: 'ordinal',
        domain: Object.keys(MARKER_COLORS),
        range: Object.values(MARKER_COLORS),
      },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: 'seconds from time zero (the fault, or the switchover request)',
      },
      { orient: 'left', scale: 'y', title: `acknowledged writes per ${timeline.bucketMs} ms`, grid: true },
    ],
    legends: [
      { fill: 'node', title: 'acknowledged by', orient: 'right' },
      { stroke: 'marker', title: 'markers', orient: 'right', symbolType: 'stroke' },
    ],
    marks: [
      {
        type: 'rect',
        from: { data: 'acks' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'start' },
            x2: { scale: 'x', field: 'end' },
            y: { scale: 'y', field: 'y0' },
            y2: { scale: 'y', field: 'y1' },
            fill: { scale: 'node', field: 'node' },
          },
        },
      },
      {
        type: 'rule',
        from: { data: 'markers' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'at' },
            y: { value: 0 },
            y2: { signal: 'height' },
            stroke: { scale: 'marker', field: 'kind' },
            strokeWidth: { value: 1.5 },
            strokeDash: { value: [4, 3] },
          },
        },
      },
      // A white halo under each label keeps it readable over the bars.
      markerLabels({ fill: { value: 'white' }, stroke: { value: 'white' }, strokeWidth: { value: 3 } }),
      markerLabels({ fill: { scale: 'marker', field: 'kind' } }),
    ],
  };
}

export async function renderTimelineSvg(title: string, timeline: Timeline): Promise<string> {
  const view = new vega.View(vega.parse(timelineSpec(title, timeline)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The markers' labels, upright along each marker line, painted as `paint` says. */
function markerLabels(paint: vega.TextEncodeEntry): vega.TextMark {
  return {
    type: 'text',
    from: { data: 'markers' },
    encode: {
      enter: {
        x: { scale: 'x', field: 'at' },
        dx: { value: 3 },
        y: { value: 4 },
        angle: { value: 90 },
        baseline: { value: 'bottom' },
        fontSize: { value: 10 },
        ...paint,
        text: { field: 'label' },
      },
    },
  };
}
