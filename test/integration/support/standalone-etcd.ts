import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on the port (10 s at most). */
async function listening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd did not listen on 127.0.0.1:${port} within 10 s`);
}

/** One etcd member on loopback, outside the lab, for a test that needs etcd flags of its own. */
export interface StandaloneEtcd {
  endpoint: string;
  dir: string;
  /** kill -9 and start again on the same data: leases survive, simple tokens do not. */
  restart(): Promise<void>;
  stop(): void;
}

/** `scheme` https serves clients over TLS (give the --cert-file etc. in `extraArgs`). */
export async function startStandaloneEtcd(
  extraArgs: string[],
  scheme: 'http' | 'https' = 'http',
): Promise<StandaloneEtcd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const args = [
    '--name=solo',
    `--data-dir=${path.join(dir, 'data')}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=solo=http://127.0.0.1:${peerPort}`,
    '--log-level=error',
    ...extraArgs,
  ];
  let child: ChildProcess = spawn('etcd', args, { stdio: 'ignore' });
  await listening(clientPort);
  return {
    endpoint,
    dir,
    async restart() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child = spawn('etcd', args, { stdio: 'ignore' });
      await listening(clientPort);
    },
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
