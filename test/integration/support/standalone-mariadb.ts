import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import {
  connectAsRoot,
  installMariadb,
  mariadbdArgv,
  mariadbPaths,
  waitForMariadb,
  writeMariadbConfig,
  type MariadbPaths,
} from '../../../src/lab/mariadb-instance.js';
import { freePorts } from './free-ports.js';
import { isRoot } from './lab.js';

/**
 * MariaDB servers outside the lab, on loopback, for a test that needs a server setting of its own
 * (a certificate, accounts with chosen grants). Configured like a lab server (read_only=ON, GTID,
 * binary log, event scheduler), each with its own server id and GTID domain.
 */
export interface StandaloneMariadb {
  name: string;
  port: number;
  /** Root over the unix socket; the caller ends it. */
  root(): Promise<mysql.Connection>;
  pid: number;
  /** The server's error log (the event scheduler writes its failures there). */
  errorLog(): string;
}

export interface MariadbSpec {
  name: string;
  /** The addresses it listens on (MariaDB 10.11 takes a comma-separated list). */
  bindAddresses: string[];
  /** The server's certificate, its key and the CA it trusts for client certificates. */
  tls?: { caFile: string; certFile: string; keyFile: string };
}

export interface StandaloneMariadbs {
  servers: StandaloneMariadb[];
  /** SIGKILLs every server, waits for each to exit, removes their data. */
  stop(): Promise<void>;
}

/** Installs and starts the servers in parallel (about 4 s on this machine for two). */
export async function startStandaloneMariadbs(specs: MariadbSpec[]): Promise<StandaloneMariadbs> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-mariadb-'));
  const ports = await freePorts(specs.length);
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? undefined
          : new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const servers = await Promise.all(
      specs.map(async (spec, i) => {
        const paths = mariadbPaths(dir, spec.name);
        const port = ports[i] as number;
        const id = 101 + i;
        writeMariadbConfig(
          {
            name: spec.name,
            site: 'a',
            role: 'master',
            serverId: id,
            gtidDomainId: id,
            autoIncrementOffset: 1,
            source: spec.name,
            portOffset: 0,
          },
          paths,
          spec.bindAddresses.join(','),
          port,
          isRoot(),
        );
        if (spec.tls)
          appendFileSync(
            paths.config,
            `ssl_ca=${spec.tls.caFile}\nssl_cert=${spec.tls.certFile}\nssl_key=${spec.tls.keyFile}\n`,
          );
        await installMariadb(paths, isRoot());
        const child = spawn(mariadbdArgv(paths)[0] as string, mariadbdArgv(paths).slice(1), {
          stdio: 'ignore',
        });
        children.push(child);
        await waitForMariadb(paths, 30_000);
        return server(spec.name, port, paths, child);
      }),
    );
    return { servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function server(name: string, port: number, paths: MariadbPaths, child: ChildProcess): StandaloneMariadb {
  return {
    name,
    port,
    pid: child.pid as number,
    root: () => connectAsRoot(paths),
    errorLog: () => readFileSync(paths.log, 'utf8'),
  };
}
