import type { Database, Probe } from '../../../src/coordinator/ports.js';

/** A Database that only answers probes (as `probe` says), on a link with no latency. */
export function probeOnlyDatabase(probe: () => Promise<Probe>): Database {
  const unsupported = () => Promise.reject(new Error('not used'));
  return {
    probe,
    roundTripMs: () => 0,
    fence: unsupported,
    openWrites: unsupported,
    waitForGtids: unsupported,
    repoint: unsupported,
    stopReplication: unsupported,
    startReplication: unsupported,
    writeHeartbeat: unsupported,
    close: () => Promise.resolve(),
  };
}
