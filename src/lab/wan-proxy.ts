import net from 'node:net';
import type { SiteName } from './topology.js';
import type { WanRoute } from './network.js';

/** One-way latency per directed link, keyed `from>to` (e.g. `a>b`). */
export type LinkDelays = Record<string, number>;

export function linkKey(from: SiteName, to: SiteName): string {
  return `${from}>${to}`;
}

/**
 * Forwards lab traffic between sites, holding each chunk for its link's one-way latency.
 * Chunks keep their order even when the delay is lowered mid-stream. Partitions are not done
 * here: iptables inside the site drops packets, so a cut looks exactly like a real one.
 */
export class WanProxy {
  private readonly servers: net.Server[] = [];
  private delays: LinkDelays = {};

  constructor(
    private readonly routes: WanRoute[],
    private readonly sourceAddress: string,
  ) {}

  setDelays(delays: LinkDelays): void {
    this.delays = { ...delays };
  }

  async listen(): Promise<void> {
    for (const route of this.routes) {
      const server = net.createServer((client) => this.forward(route, client));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(route.listenPort, route.listenHost, () => resolve());
      });
      this.servers.push(server);
    }
  }

  close(): void {
    for (const server of this.servers) server.close();
  }

  private forward(route: WanRoute, client: net.Socket): void {
    client.setNoDelay(true);
    const upstream = net.connect({
      host: route.targetHost,
      port: route.targetPort,
      localAddress: this.sourceAddress,
      noDelay: true,
    });
    this.pipeDelayed(client, upstream, () => this.delays[linkKey(route.from, route.to)] ?? 0);
    this.pipeDelayed(upstream, client, () => this.delays[linkKey(route.to, route.from)] ?? 0);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
  }

  private pipeDelayed(from: net.Socket, to: net.Socket, delayMs: () => number): void {
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      const delay = delayMs();
      const due = Math.max(Date.now() + delay, lastDue);
      lastDue = due;
      const wait = due - Date.now();
      if (wait <= 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), wait);
    });
    from.on('end', () => {
      const wait = lastDue - Date.now();
      if (wait <= 0) to.end();
      else setTimeout(() => to.end(), wait);
    });
  }
}
