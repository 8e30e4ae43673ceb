import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from './lab.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Debian's Prometheus, scraping the given /metrics URLs every second. */
export class Prometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async start(targets: string[]): Promise<Prometheus> {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-prometheus-'));
    const hosts = targets.map((t) => new URL(t).host);
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: baton',
        `    static_configs: [{ targets: [${hosts.map((h) => `"${h}"`).join(', ')}] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const prometheus = new Prometheus(child, dir, `http://127.0.0.1:${port}`);
    await eventually(
      async () => {
        const res = await fetch(`${prometheus.url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
          () => undefined,
        );
        return res?.ok ? true : undefined;
      },
      20_000,
      'prometheus ready',
    );
    return prometheus;
  }

  /** An instant query; each result's labels and value. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as {
      data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
