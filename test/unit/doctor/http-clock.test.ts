import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpClockOffset } from '../../../src/doctor/http-clock.js';
// The integration tests' throwaway CA (openssl): a server and a client certificate.
import { makeTestCa } from '../../integration/support/test-ca.js';

/** An HTTP server whose Date header runs `skewMs` off this host's clock, as etcd's would. */
function skewedServer(skewMs: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.sendDate = false;
    res.setHeader('Date', new Date(Date.now() + skewMs).toUTCString());
    res.end('{"etcdserver":"3.4.23"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('httpClockOffset', () => {
  // Each waits up to a second for the server's next second boundary: run them side by side.
  it.concurrent.for([0, -740, 2_300])(
    'finds a clock %i ms off to within its stated bound',
    async (skew, { expect }) => {
      const server = await skewedServer(skew);
      try {
        const { port } = server.address() as AddressInfo;
        const offset = await httpClockOffset(`http://127.0.0.1:${port}`);
        // Whole seconds alone leave about ±500 ms: this close means two answers straddled a
        // boundary (about ±10 ms on an idle machine; a loaded one delays the requests' timers).
        expect(offset.uncertaintyMs).toBeLessThan(200);
        expect(Math.abs(offset.offsetMs - skew)).toBeLessThanOrEqual(offset.uncertaintyMs + 1);
      } finally {
        server.close();
      }
    },
  );

  it('fails when the server sends no Date', async () => {
    const server = http.createServer((_req, res) => {
      res.sendDate = false;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(httpClockOffset(`http://127.0.0.1:${port}`)).rejects.toThrow(/no Date header/);
    } finally {
      server.close();
    }
  });
});

describe('httpClockOffset over TLS (etcd.tls)', () => {
  it("trusts the config's CA and shows our certificate when the server asks for one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-clock-tls-'));
    const ca = makeTestCa(dir, 'clock', '127.0.0.1');
    const server = https.createServer(
      {
        cert: readFileSync(ca.serverCertFile),
        key: readFileSync(ca.serverKeyFile),
        ca: readFileSync(ca.caFile),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (_req, res) => {
        res.sendDate = false;
        res.setHeader('Date', new Date(Date.now() + 1_300).toUTCString());
        res.end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const url = `https://127.0.0.1:${port}`;
      const offset = await httpClockOffset(url, undefined, {
        ca: readFileSync(ca.caFile),
        cert: readFileSync(ca.clientCertFile),
        key: readFileSync(ca.clientKeyFile),
      });
      expect(Math.abs(offset.offsetMs - 1_300)).toBeLessThanOrEqual(offset.uncertaintyMs + 1);
      // Without our certificate the server refuses the handshake.
      await expect(httpClockOffset(url, undefined, { ca: readFileSync(ca.caFile) })).rejects.toThrow();
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
