import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { WanRoute } from './network.js';
import { jitteredDelay, linkKey, type LinkDelays } from './wan-profile.js';

export interface WanSettings {
  /** One-way delay per directed link, ms, before jitter and spike. */
  delays: LinkDelays;
  jitterPercent: number;
  /** Every link's delay times this (1 outside a latency spike). */
  spikeFactor: number;
}

/**
 * Forwards lab traffic between sites as a WAN would carry it. Each chunk is held for its link's
 * one-way delay (plus jitter, times a running spike's factor) and stays in order behind the
 * chunks before it. Partitions are not done here: iptables inside the sites drops packets, so a
 * cut looks exactly like a real one.
 *
 * Connections cost what they cost on a WAN, although the client's kernel completes its handshake
 * with this proxy at once (the proxy cannot delay a SYN-ACK): the upstream connect starts after
 * the forward delay, as the SYN would arrive, so a refused connect reaches the client as a reset
 * one round trip after it began; and nothing of an accepted connection moves before the
 * handshake's round trip, so the server's first bytes arrive two round trips after the connect.
 */
export class WanProxy {
  private readonly servers: net.Server[] = [];
  private settings: WanSettings = { delays: {}, jitterPercent: 0, spikeFactor: 1 };

  constructor(
    private readonly routes: WanRoute[],
    private readonly sourceAddress: string,
    private readonly random: () => number = Math.random,
  ) {}

  configure(settings: WanSettings): void {
    this.settings = { ...settings, delays: { ...settings.delays } };
  }

  /** Listens on every route; a route with listenPort 0 gets an ephemeral port (tests). */
  async listen(): Promise<number[]> {
    const ports: number[] = [];
    for (const route of this.routes) {
      const server = net.createServer({ allowHalfOpen: true }, (client) => this.forward(route, client));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(route.listenPort, route.listenHost, () => resolve());
      });
      this.servers.push(server);
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  }

  close(): void {
    for (const server of this.servers) server.close();
  }

  /** One chunk's one-way delay on the link (`from>to`) right now. */
  private oneWayDelay(link: string): number {
    const { delays, jitterPercent, spikeFactor } = this.settings;
    return jitteredDelay((delays[link] ?? 0) * spikeFactor, jitterPercent, this.random);
  }

  private forward(route: WanRoute, client: net.Socket): void {
    client.setNoDelay(true);
    const acceptedAt = performance.now();
    const forwardLink = linkKey(route.from, route.to);
    const returnLink = linkKey(route.to, route.from);
    const there = this.oneWayDelay(forwardLink);
    const back = this.oneWayDelay(returnLink);
    // On a WAN the client sends only once the SYN-ACK is back, and the server accepts when the
    // client's ACK arrives: one round trip plus one way, and its answer then takes one more way.
    const toServer = new DelayedDirection(() => this.oneWayDelay(forwardLink), acceptedAt + 2 * there + back);
    const toClient = new DelayedDirection(
      () => this.oneWayDelay(returnLink),
      acceptedAt + 2 * (there + back),
    );
    toClient.attach(client);
    client.on('data', (chunk: Buffer) => toServer.push(chunk));
    client.on('end', () => toServer.end());
    client.on('error', () => toServer.reset());

    let upstream: net.Socket | undefined;
    const connectUpstream = (): void => {
      if (client.destroyed) return; // the client gave up before its SYN would have arrived
      const socket = net.connect({
        host: route.targetHost,
        port: route.targetPort,
        localAddress: this.sourceAddress,
        noDelay: true,
        allowHalfOpen: true,
      });
      upstream = socket;
      let connected = false;
      socket.on('connect', () => (connected = true));
      socket.on('data', (chunk: Buffer) => toClient.push(chunk));
      socket.on('end', () => toClient.end());
      socket.on('error', () => {
        // Refused (or unreachable) before connecting: the RST travels back one way, at once,
        // not behind the handshake's round trip that never happened.
        if (connected) toClient.reset();
        else toClient.refuse(back);
      });
      toServer.attach(socket);
    };
    const connectTimer = there > 0 ? setTimeout(connectUpstream, Math.ceil(there)) : undefined;
    if (!connectTimer) connectUpstream();

    client.on('close', () => {
      clearTimeout(connectTimer);
      // A client that gave up while the upstream connect is still retrying SYNs (a cut site)
      // leaves nothing behind; an established upstream still gets what the client sent.
      if (upstream?.connecting) upstream.destroy();
    });
  }
}

type Delivery = { due: number; chunk: Buffer } | { due: number; close: 'end' | 'reset' };

/**
 * One direction of one connection: a queue of chunks in arrival order, each due at its arrival
 * plus the link's delay, never before the one ahead of it. One timer per direction, armed for
 * the head of the queue. (One timer for the whole proxy, over a heap of directions, measured
 * no cheaper: with jitter the cost is the wake-ups, not the timers.)
 */
export class DelayedDirection {
  private target: net.Socket | undefined;
  private readonly queue: Delivery[] = [];
  private lastDue: number;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly delayMs: () => number,
    /** Nothing is delivered before this (performance.now() ms): the handshake's round trip. */
    notBefore: number,
  ) {
    this.lastDue = notBefore;
  }

  attach(target: net.Socket): void {
    this.target = target;
    target.on('close', () => this.discard());
    this.deliverDue();
  }

  push(chunk: Buffer): void {
    if (!this.finished) this.enqueue({ chunk });
  }

  end(): void {
    if (!this.finished) this.enqueue({ close: 'end' });
    this.finished = true;
  }

  reset(): void {
    if (!this.finished) this.enqueue({ close: 'reset' });
    this.finished = true;
  }

  /** A refused connect: a reset after `afterMs`, ahead of the handshake floor (there was no handshake). */
  refuse(afterMs: number): void {
    if (this.finished) return;
    this.finished = true;
    this.lastDue = performance.now() + afterMs;
    this.queue.push({ due: this.lastDue, close: 'reset' });
    if (this.queue.length === 1) this.deliverDue();
  }

  private enqueue(item: { chunk: Buffer } | { close: 'end' | 'reset' }): void {
    const now = performance.now();
    const due = Math.max(now + this.delayMs(), this.lastDue);
    this.lastDue = due;
    if (due <= now && this.queue.length === 0 && 'chunk' in item && this.target) {
      // Nothing ahead of it and no delay (lan): straight through, nothing allocated.
      if (this.target.writable) this.target.write(item.chunk);
      return;
    }
    this.queue.push('chunk' in item ? { due, chunk: item.chunk } : { due, close: item.close });
    if (this.queue.length === 1) this.deliverDue();
  }

  private deliverDue(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const target = this.target;
    if (!target) return;
    const now = performance.now();
    for (let head = this.queue[0]; head && head.due <= now; head = this.queue[0]) {
      this.queue.shift();
      if ('chunk' in head) {
        if (target.writable) target.write(head.chunk);
      } else if (head.close === 'end') {
        if (!target.destroyed) target.end();
      } else if (!target.destroyed) {
        target.resetAndDestroy();
      }
    }
    const head = this.queue[0];
    if (head) this.timer = setTimeout(() => this.deliverDue(), Math.ceil(head.due - now));
  }

  private discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.finished = true;
  }
}
