import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpClockOffset } from '../../../src/doctor/http-clock.js';

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
  let server: http.Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it.each([[0], [-740], [2_300]])('finds a clock %i ms off to within its stated bound', async (skew) => {
    server = await skewedServer(skew);
    const { port } = server.address() as AddressInfo;
    const offset = await httpClockOffset(`http://127.0.0.1:${port}`);
    // Date headers have whole seconds: only samples either side of a boundary get this close.
    expect(offset.uncertaintyMs).toBeLessThan(60);
    expect(Math.abs(offset.offsetMs - skew)).toBeLessThanOrEqual(offset.uncertaintyMs + 1);
  });

  it('fails when the server sends no Date', async () => {
    server = http.createServer((_req, res) => {
      res.sendDate = false;
      res.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    await expect(httpClockOffset(`http://127.0.0.1:${port}`)).rejects.toThrow(/no Date header/);
  });
});
