import net from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { baton, isRoot, newLabDir, startLab } from './support/lab.js';
import { processState } from '../../src/lab/processes.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { labPorts } from '../../src/lab/lab-layout.js';

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

describe('lab up/down and bad input', () => {
  test('down leaves no lab process alive and frees every port (flat network)', async () => {
    const basePort = 34000;
    const lab = await startLab({ network: 'flat', basePort });
    const state = readLabState(lab.dir);
    const records = Object.values(state?.processes ?? {});
    expect(records.length).toBe(7);
    expect(records.every((r) => processState(r) === 'running')).toBe(true);
    for (const { port } of labPorts(basePort)) expect(await portIsFree('127.0.0.1', port)).toBe(false);

    await lab.down();
    for (const record of records) expect(processState(record)).toBe('dead');
    for (const { port } of labPorts(basePort)) expect(await portIsFree('127.0.0.1', port)).toBe(true);
    expect(existsSync(lab.dir)).toBe(false);
  });

  test.skipIf(!isRoot())('down removes the namespaces and the bridge (netns network)', async () => {
    const lab = await startLab();
    const state = readLabState(lab.dir);
    const records = Object.values(state?.processes ?? {});
    const subnet = state?.network.subnet;
    expect(existsSync(`/run/netns/baton${subnet}-a`)).toBe(true);
    await lab.down();
    for (const record of records) expect(processState(record)).toBe('dead');
    for (const site of ['a', 'b', 'w']) expect(existsSync(`/run/netns/baton${subnet}-${site}`)).toBe(false);
    expect(existsSync(`/sys/class/net/btn${subnet}br`)).toBe(false);
  });

  test('a port already taken is named, with its owner', async () => {
    const basePort = 34200;
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(basePort + 6, '127.0.0.1', () => resolve()));
    try {
      const dir = newLabDir();
      const result = await baton([
        'lab',
        'up',
        '--dir',
        dir,
        '--network',
        'flat',
        '--base-port',
        String(basePort),
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`port ${basePort + 6} .*MariaDB a1.* in use by node \\(pid ${process.pid}\\)`),
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(readLabState(dir)).toBeUndefined();
      rmSync(dir, { recursive: true, force: true });
    } finally {
      blocker.close();
    }
  });

  test('missing server binaries: names them and the apt command', async () => {
    const dir = newLabDir();
    const result = await baton(['lab', 'up', '--dir', dir, '--network', 'flat'], {
      ...process.env,
      BATON_LAB_BIN_PATH: '/nonexistent',
    });
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /etcd, mariadbd, mariadb-install-db not found: install with `sudo apt-get install -y etcd-server etcd-client mariadb-server/,
    );
  });

  test('an unknown WAN profile is named with the profiles; a flat lab refuses any but lan', async () => {
    const dir = newLabDir();
    try {
      const unknown = await baton(['lab', 'up', '--dir', dir, '--wan', 'moon']);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(
        /argument 'moon' is invalid\. Allowed choices are lan, metro, region, continent, intercontinental/,
      );
      expect(unknown.stderr).not.toMatch(/\n\s+at /);

      const flat = await baton(['lab', 'up', '--dir', dir, '--network', 'flat', '--wan', 'continent']);
      expect(flat.code).toBe(1);
      expect(flat.stderr).toBe(
        'baton: --wan continent needs the netns network (root): a flat lab has no WAN proxy, so only --wan lan\n',
      );
      expect(readLabState(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unknown node, unknown site, bad delay and missing lab give one-line errors', async () => {
    const dir = newLabDir();
    const noLab = await baton(['lab', 'status', '--dir', dir]);
    expect(noLab.code).toBe(1);
    expect(noLab.stderr).toBe(`baton: no lab in ${dir} (start one with \`baton lab up --dir ${dir}\`)\n`);
    rmSync(dir, { recursive: true, force: true });

    const lab = await startLab({ network: 'flat', basePort: 34400 });
    try {
      const unknownNode = await baton(['lab', 'fault', 'kill', 'c9', '--dir', lab.dir]);
      expect(unknownNode.code).toBe(1);
      expect(unknownNode.stderr).toMatch(
        /^baton: unknown node or member "c9" \(known: etcd-a, etcd-b, etcd-w, a1, a2, b1, b2\)\n$/,
      );

      const unknownSite = await baton(['lab', 'fault', 'cut', 'x', '--dir', lab.dir]);
      expect(unknownSite.code).toBe(1);
      expect(unknownSite.stderr).toMatch(/unknown site "x" \(sites: a, b, w\)/);

      const badDelay = await baton(['lab', 'fault', 'delay', 'a', 'b', 'soon', '--dir', lab.dir]);
      expect(badDelay.code).toBe(1);
      expect(badDelay.stderr).toMatch(/delay must be an integer 0-60000 ms, got "soon"/);

      const badSpike = await baton([
        'lab',
        'fault',
        'spike',
        '--factor',
        'x3',
        '--for',
        '2',
        '--dir',
        lab.dir,
      ]);
      expect(badSpike.code).toBe(1);
      expect(badSpike.stderr).toBe('baton: --factor must be a number from 1 to 100, got "x3"\n');

      const flatSpike = await baton([
        'lab',
        'fault',
        'spike',
        '--factor',
        '3',
        '--for',
        '2',
        '--dir',
        lab.dir,
      ]);
      expect(flatSpike.code).toBe(1);
      expect(flatSpike.stderr).toMatch(/link faults need the netns network/);

      const flatCut = await baton(['lab', 'fault', 'cut', 'a', '--dir', lab.dir]);
      expect(flatCut.code).toBe(1);
      expect(flatCut.stderr).toMatch(/link faults need the netns network/);

      const contRunning = await baton(['lab', 'fault', 'cont', 'a1', '--dir', lab.dir]);
      expect(contRunning.code).toBe(1);
      expect(contRunning.stderr).toMatch(/a1 is running, not stopped/);

      const badPort = await baton(['lab', 'up', '--dir', lab.dir, '--base-port', '80']);
      expect(badPort.code).not.toBe(0);
      expect(badPort.stderr).toMatch(/expected an integer 1024-64000/);
    } finally {
      await lab.down();
    }
  });
});
