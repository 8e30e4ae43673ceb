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
 * Where gtid_slave_pos must stand in the server's own domain before replication starts: at its
 * binlog. Ahead (a truncated tail), START SLAVE would never fetch the tail; behind, a semi-sync
 * replica in strict mode would be sent its own older transactions and stop on an out-of-order
 * GTID (MariaDB's MDEV-27760 test). Undefined when nothing is to change: the server never wrote
 * in its own domain, or the positions already agree. `truncatedTail`: the slave position was
 * ahead, so the server lacks transactions its GTID state claims.
 */
export function alignedSlavePos(
  slavePos: string,
  binlogPos: string,
  ownDomain: number,
): { slavePos: string; truncatedTail: boolean } | undefined {
  const ownInBinlog = positions(binlogPos).find((p) => p.domain === ownDomain);
  const slave = positions(slavePos);
  const ownInSlave = slave.find((p) => p.domain === ownDomain);
  if (!ownInBinlog) {
    // Never wrote in its own domain (a replica), or the whole own history was truncated.
    if (!ownInSlave) return undefined;
    return { slavePos: format(slave.filter((p) => p.domain !== ownDomain)), truncatedTail: true };
  }
  if (ownInSlave?.seq === ownInBinlog.seq && ownInSlave.serverId === ownInBinlog.serverId) return undefined;
  return {
    slavePos: format([...slave.filter((p) => p.domain !== ownDomain), ownInBinlog]),
    truncatedTail: ownInSlave !== undefined && ownInSlave.seq > ownInBinlog.seq,
  };
}
