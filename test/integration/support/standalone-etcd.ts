import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from './free-ports.js';

/** Resolves once something accepts connections on the port (10 s at most); fails at once if etcd exits. */
async function listening(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before listening: ${stderr()}`);
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
  throw new Error(`etcd did not listen on 127.0.0.1:${port} within 10 s: ${stderr()}`);
}

/** One etcd member on loopback, outside the lab, for a test that needs etcd flags of its own. */
export interface StandaloneEtcd {
  endpoint: string;
  dir: string;
  /** kill -9 and start again on the same data: leases survive, simple tokens do not. */
  restart(): Promise<void>;
  /** Kills etcd, waits for it to exit (its ports are free after), removes its data. */
  stop(): Promise<void>;
}

/** `scheme` https serves clients over TLS (give the --cert-file etc. in `extraArgs`). */
export async function startStandaloneEtcd(
  extraArgs: string[],
  scheme: 'http' | 'https' = 'http',
): Promise<StandaloneEtcd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-etcd-'));
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const args = [
    '--name=solo',
    `--data-dir=${path.join(dir, 'data')}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=solo=http://127.0.0.1:${peerPort}`,
    '--log-level=warn',
    ...extraArgs,
  ];
  let output = '';
  const launch = (): ChildProcess => {
    const started = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2_000);
    });
    return started;
  };
  const lastWords = () => output.trim().split('\n').slice(-3).join(' | ') || '(no output)';
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()));
  let child = launch();
  await listening(clientPort, child, lastWords);
  return {
    endpoint,
    dir,
    async restart() {
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
      child = launch();
      await listening(clientPort, child, lastWords);
    },
    async stop() {
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One member of a loopback etcd cluster. */
export interface EtcdClusterMember {
  name: string;
  /** Where the member itself listens for clients. */
  listenUrl: string;
  /** The client URL it advertises in the member list (its listenUrl unless told otherwise). */
  clientUrl: string;
}

export interface EtcdCluster {
  members: EtcdClusterMember[];
  /** Kills every member, waits for them to exit, removes their data. */
  stop(): Promise<void>;
}

/**
 * `names.length` etcd members on loopback, one raft group, with etcd's default timings (a
 * shorter election timeout elects new leaders on a busy 2-core machine). `advertisedUrls[i]`, when given, is the client URL member i advertises in
 * the member list instead of its own, so that clients which dial members from the list
 * (raft-leader.ts) reach a proxy in front of it. Resolves once every member listens; a leader
 * follows within a second.
 */
export async function startEtcdCluster(
  names: string[],
  extraArgs: string[] = [],
  advertisedUrls?: string[],
): Promise<EtcdCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-etcd-cluster-'));
  const ports = await freePorts(2 * names.length);
  const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initialCluster = names.map((name, i) => `${name}=${peer(i)}`).join(',');
  const children: ChildProcess[] = [];
  const outputs = names.map(() => '');
  const members = names.map((name, i): EtcdClusterMember => {
    const listenUrl = `http://127.0.0.1:${ports[2 * i]}`;
    return { name, listenUrl, clientUrl: advertisedUrls?.[i] ?? listenUrl };
  });
  members.forEach((member, i) => {
    const child = spawn(
      'etcd',
      [
        `--name=${member.name}`,
        `--data-dir=${path.join(dir, member.name)}`,
        `--listen-client-urls=${member.listenUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${peer(i)}`,
        `--initial-advertise-peer-urls=${peer(i)}`,
        `--initial-cluster=${initialCluster}`,
        '--log-level=warn',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      outputs[i] = ((outputs[i] ?? '') + chunk.toString()).slice(-2_000);
    });
    children.push(child);
  });
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      members.map((member, i) =>
        listening(Number(new URL(member.listenUrl).port), children[i] as ChildProcess, () =>
          (outputs[i] ?? '').trim().split('\n').slice(-3).join(' | '),
        ),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { members, stop };
}
