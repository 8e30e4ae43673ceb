import path from 'node:path';
import { WanProxy } from './wan-proxy.js';
import { readWanConfig, writeWanApplied, type WanConfig } from './wan-config.js';

/**
 * Entry point of the lab's WAN proxy process: `node wan-proxy-main.js <dir>/wan.json`.
 * SIGHUP re-reads wan.json, so `baton lab fault delay|heal` change latency on live connections;
 * every application is acknowledged in <dir>/wan-applied.json.
 */
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: wan-proxy-main <wan.json>\n');
  process.exit(2);
}
const labDir = path.dirname(configPath);

let config = readWanConfig(configPath);
const proxy = new WanProxy(config.routes, config.sourceAddress);

function apply(next: WanConfig): void {
  config = next;
  proxy.configure({ delays: config.delays, jitterPercent: config.jitterPercent });
  writeWanApplied(labDir, { generation: config.generation, appliedAt: new Date().toISOString() });
  process.stdout.write(
    `generation ${next.generation}: delays ${JSON.stringify(next.delays)} jitter ${next.jitterPercent} %\n`,
  );
}

process.on('SIGHUP', () => {
  try {
    apply(readWanConfig(configPath));
  } catch (error) {
    // The command that sent SIGHUP times out waiting for the acknowledgement and says so.
    process.stderr.write(`could not apply ${configPath}: ${(error as Error).message}\n`);
  }
});
await proxy.listen();
apply(config);
process.stdout.write(`wan proxy listening on ${config.routes.length} routes\n`);
