/**
 * A MariaDB master that crashed and restarted with init-rpl-role=SLAVE has its unacknowledged
 * binlog tail truncated by crash recovery (MDEV-21117/MDEV-33465). If the other master had already
 * received that tail, it sent it back before the crash; the returning server skipped its own
 * server-id events but still advanced gtid_slave_pos past them. Its gtid_current_pos then claims
 * transactions its tables do not hold, and START SLAVE never fetches them again: the rows differ
 * while every GTID set matches (measured on 10.11, data-safety 10.2; /work notes §5 case C).
 *
 * The way back, as MariaDB's own rpl_semi_sync_crash test does it: with replication stopped, move
 * gtid_slave_pos in the server's own domain back to its binlog, with gtid_strict_mode ON and
 * rpl_semi_sync_slave_enabled ON before the IO thread starts; the source then sends those
 * transactions and the server applies them.
 */

interface Position {
  domain: number;
  serverId: number;
  seq: number;
}

function positions(text: string): Position[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const [domain, serverId, seq] = part.split('-').map(Number);
      return { domain: domain ?? NaN, serverId: serverId ?? NaN, seq: seq ?? NaN };
    })
    .filter((p) => Number.isFinite(p.domain) && Number.isFinite(p.seq));
}

function format(list: Position[]): string {
  return list
    .sort((x, y) => x.domain - y.domain)
    .map((p) => `${p.domain}-${p.serverId}-${p.seq}`)
    .join(',');
}

/**
 * The gtid_slave_pos to set before replication starts, or undefined when the slave position does
 * not run ahead of the binlog in the server's own domain (the normal case: nothing to do).
 */
export function slavePosAfterTruncation(
  slavePos: string,
  binlogPos: string,
  ownDomain: number,
): string | undefined {
  const slave = positions(slavePos);
  const ownInSlave = slave.find((p) => p.domain === ownDomain);
  if (!ownInSlave) return undefined;
  const ownInBinlog = positions(binlogPos).find((p) => p.domain === ownDomain);
  if (ownInBinlog && ownInBinlog.seq >= ownInSlave.seq) return undefined;
  const others = slave.filter((p) => p.domain !== ownDomain);
  return format(ownInBinlog ? [...others, ownInBinlog] : others);
}
