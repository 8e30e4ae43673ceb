import { describe, expect, it } from 'vitest';
import { topologyDiagram, type Box, type DiagramArrow } from '../../../src/http/topology-diagram.js';

const COLOS = [
  { name: 'a', servers: ['a1', 'a2'] },
  { name: 'b', servers: ['b1', 'b2', 'b3'] },
];
const ARROWS = [
  { from: 'b1', to: 'a1', running: true },
  { from: 'a1', to: 'b1', running: true },
  { from: 'a1', to: 'a2', running: true },
  { from: 'b1', to: 'b2', running: false },
];

const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.width <= outer.x + outer.width &&
  inner.y + inner.height <= outer.y + outer.height;

/** How far a point is outside a box (0 inside or on the border). */
const outside = (box: Box, x: number, y: number): number =>
  Math.hypot(
    Math.max(box.x - x, 0, x - (box.x + box.width)),
    Math.max(box.y - y, 0, y - (box.y + box.height)),
  );

describe('topology diagram layout', () => {
  const diagram = topologyDiagram(COLOS, ARROWS);
  const box = (name: string) => diagram.servers.find((s) => s.name === name)?.box as Box;
  const colo = (name: string) => diagram.colos.find((c) => c.name === name)?.box as Box;
  const arrow = (from: string, to: string) =>
    diagram.arrows.find((a) => a.from === from && a.to === to) as DiagramArrow;

  it('puts every server inside its colo, in order, and the colos side by side inside the drawing', () => {
    for (const c of COLOS)
      c.servers.forEach((name, i) => {
        expect(inside(box(name), colo(c.name)), name).toBe(true);
        if (i > 0) expect(box(name).y).toBeGreaterThan(box(c.servers[i - 1] as string).y);
      });
    expect(colo('a').x + colo('a').width).toBeLessThan(colo('b').x);
    const all = { x: 0, y: 0, width: diagram.width, height: diagram.height };
    for (const c of diagram.colos) expect(inside(c.box, all)).toBe(true);
  });

  it('draws each arrow from its source’s border to its replica’s, pointing at the replica', () => {
    for (const a of diagram.arrows) {
      expect(outside(box(a.from), a.x1, a.y1)).toBeLessThan(4);
      expect(outside(box(a.to), a.x2, a.y2)).toBeLessThan(4);
      // Neither end lies inside the other box.
      expect(outside(box(a.to), a.x1, a.y1)).toBeGreaterThan(4);
    }
    const down = arrow('a1', 'a2');
    expect(down.y2).toBeGreaterThan(down.y1);
    expect(arrow('b1', 'b2').running).toBe(false);
  });

  it('splits the two directions between the masters apart, each going its own way', () => {
    const there = arrow('a1', 'b1');
    const back = arrow('b1', 'a1');
    expect(there.x2).toBeGreaterThan(there.x1);
    expect(back.x2).toBeLessThan(back.x1);
    expect(Math.abs(there.y1 - back.y1)).toBeGreaterThanOrEqual(10);
    // A single arrow between two servers runs through their centres.
    const down = arrow('a1', 'a2');
    expect(down.x1).toBeCloseTo(box('a1').x + box('a1').width / 2, 5);
  });

  it('drops an arrow to or from a server it does not draw, and never moves a box for an arrow', () => {
    const more = topologyDiagram(COLOS, [...ARROWS, { from: 'x9', to: 'a2', running: true }]);
    expect(more.arrows).toHaveLength(ARROWS.length);
    expect(topologyDiagram(COLOS, []).servers).toEqual(diagram.servers);
  });
});
