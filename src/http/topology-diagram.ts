/**
 * Where the web view draws each colo, server and replication arrow (issue 14): colos side by
 * side in config order, each a box holding its servers in a column (candidate masters first),
 * arrows from a source's box edge to its replica's. Computed here rather than in the page so the
 * geometry is plain, tested TypeScript and the page's script only paints it. The layout depends
 * only on the spec and the arrows, never on who is the writer, so a failover changes colours
 * and arrows but moves no box.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DiagramColoInput {
  name: string;
  /** In drawing order, top to bottom. */
  servers: readonly string[];
}

export interface DiagramArrowInput {
  from: string;
  to: string;
  running: boolean;
}

export interface DiagramArrow extends DiagramArrowInput {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface TopologyDiagram {
  width: number;
  height: number;
  colos: { name: string; box: Box }[];
  servers: { name: string; colo: string; box: Box }[];
  arrows: DiagramArrow[];
}

export const SERVER_WIDTH = 240;
export const SERVER_HEIGHT = 84;
const COLO_PADDING = 16;
/** Room for the colo's name above its servers. */
const COLO_HEADER = 26;
/** Between servers of one colo: room for an arrow and its head. */
const SERVER_GAP = 40;
/** Between colos: room for the arrows between the masters. */
const COLO_GAP = 120;
const MARGIN = 8;
/** Two arrows in opposite directions between the same servers are drawn this far apart. */
const PAIR_OFFSET = 7;
/** An arrow stops this short of its boxes, so the head does not sit on the border. */
const EDGE_GAP = 3;

const round = (n: number): number => Math.round(n * 10) / 10;

export function topologyDiagram(
  colos: readonly DiagramColoInput[],
  arrows: readonly DiagramArrowInput[],
): TopologyDiagram {
  const tallest = Math.max(1, ...colos.map((c) => c.servers.length));
  const coloWidth = SERVER_WIDTH + 2 * COLO_PADDING;
  const coloHeight = COLO_HEADER + tallest * SERVER_HEIGHT + (tallest - 1) * SERVER_GAP + COLO_PADDING;
  const placedColos = colos.map((colo, i) => ({
    name: colo.name,
    box: { x: MARGIN + i * (coloWidth + COLO_GAP), y: MARGIN, width: coloWidth, height: coloHeight },
  }));
  const servers = colos.flatMap((colo, i) => {
    const coloBox = (placedColos[i] as { box: Box }).box;
    return colo.servers.map((name, k) => ({
      name,
      colo: colo.name,
      box: {
        x: coloBox.x + COLO_PADDING,
        y: coloBox.y + COLO_HEADER + k * (SERVER_HEIGHT + SERVER_GAP),
        width: SERVER_WIDTH,
        height: SERVER_HEIGHT,
      },
    }));
  });
  const boxOf = new Map(servers.map((s) => [s.name, s.box]));
  const pairs = new Set(arrows.map((a) => `${a.from}\u0000${a.to}`));
  const placedArrows = arrows.flatMap((arrow): DiagramArrow[] => {
    const source = boxOf.get(arrow.from);
    const target = boxOf.get(arrow.to);
    if (!source || !target || arrow.from === arrow.to) return [];
    const paired = pairs.has(`${arrow.to}\u0000${arrow.from}`);
    const line = joinBoxes(source, target, paired ? PAIR_OFFSET : 0);
    return [{ ...arrow, ...line }];
  });
  return {
    width: MARGIN * 2 + colos.length * coloWidth + Math.max(0, colos.length - 1) * COLO_GAP,
    height: MARGIN * 2 + coloHeight,
    colos: placedColos,
    servers,
    arrows: placedArrows,
  };
}

/**
 * The segment between two boxes along the line joining their centres, shifted sideways by
 * `offset` (to its right as it travels, so a pair in opposite directions splits apart), cut at
 * each box's border.
 */
function joinBoxes(from: Box, to: Box, offset: number): { x1: number; y1: number; x2: number; y2: number } {
  const c1 = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  const c2 = { x: to.x + to.width / 2, y: to.y + to.height / 2 };
  const length = Math.hypot(c2.x - c1.x, c2.y - c1.y);
  const d = { x: (c2.x - c1.x) / length, y: (c2.y - c1.y) / length };
  // The right-hand normal in screen coordinates (y grows downwards).
  const shift = { x: -d.y * offset, y: d.x * offset };
  const start = exitPoint(from, { x: c1.x + shift.x, y: c1.y + shift.y }, d);
  const end = exitPoint(to, { x: c2.x + shift.x, y: c2.y + shift.y }, { x: -d.x, y: -d.y });
  return {
    x1: round(start.x + d.x * EDGE_GAP),
    y1: round(start.y + d.y * EDGE_GAP),
    x2: round(end.x - d.x * EDGE_GAP),
    y2: round(end.y - d.y * EDGE_GAP),
  };
}

/** Where a ray from a point inside the box leaves it. */
function exitPoint(box: Box, p: { x: number; y: number }, d: { x: number; y: number }) {
  const along = (position: number, low: number, high: number, step: number): number =>
    step > 0 ? (high - position) / step : step < 0 ? (low - position) / step : Infinity;
  const t = Math.min(along(p.x, box.x, box.x + box.width, d.x), along(p.y, box.y, box.y + box.height, d.y));
  return { x: p.x + d.x * t, y: p.y + d.y * t };
}
