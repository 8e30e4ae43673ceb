import { readFileSync } from 'node:fs';
import { WanProxy, type LinkDelays } from './wan-proxy.js';
import type { WanRoute } from './network.js';

/**
 * Entry point of the lab's WAN proxy process: `node wan-proxy-main.js <config.json>`.
 * SIGHUP re-reads the delays, so `baton lab fault delay` changes latency on live connections.
 */
interface WanProxyConfig {
  routes: WanRoute[];
  sourceAddress: string;
  delays: LinkDelays;
}

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: wan-proxy-main <config.json>\n');
  process.exit(2);
}
const readConfig = (): WanProxyConfig => JSON.parse(readFileSync(configPath, 'utf8')) as WanProxyConfig;

const config = readConfig();
const proxy = new WanProxy(config.routes, config.sourceAddress);
proxy.setDelays(config.delays);
await proxy.listen();
process.on('SIGHUP', () => {
  const delays = readConfig().delays;
  proxy.setDelays(delays);
  process.stdout.write(`delays ${JSON.stringify(delays)}\n`);
});
process.stdout.write(`wan proxy listening on ${config.routes.length} routes\n`);
