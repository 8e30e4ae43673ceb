/**
 * Pure conversions between the port's types (strings, numbers) and etcd's wire types
 * (Buffers, decimal-string int64s). Kept apart from I/O so they can be unit-tested.
 */
import type { ICompare, IKeyValue, IRequestOp } from 'etcd3';
import type { Compare, KeyValue, Op } from '../coordinator/ports.js';

/** The range_end that makes [prefix, end) cover exactly the keys starting with prefix. */
export function prefixRangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all keys
}

export function fromEtcdKv(kv: IKeyValue): KeyValue {
  const result: KeyValue = {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
  if (kv.lease && kv.lease !== '0') result.lease = kv.lease;
  return result;
}

export function toEtcdCompare(compare: Compare): ICompare {
  const key = Buffer.from(compare.key);
  switch (compare.target) {
    case 'createRevision':
      return { key, target: 'Create', result: 'Equal', create_revision: String(compare.equals) };
    case 'modRevision':
      return { key, target: 'Mod', result: 'Equal', mod_revision: String(compare.equals) };
    case 'value':
      return { key, target: 'Value', result: 'Equal', value: Buffer.from(compare.equals) };
  }
}

export function toEtcdOp(op: Op): IRequestOp {
  if ('put' in op) {
    return {
      request_put: { key: Buffer.from(op.put), value: Buffer.from(op.value), lease: op.lease ?? '0' },
    };
  }
  if ('delete' in op) return { request_delete_range: { key: Buffer.from(op.delete) } };
  return {
    request_delete_range: { key: Buffer.from(op.deletePrefix), range_end: prefixRangeEnd(op.deletePrefix) },
  };
}

/** Lease IDs travel as decimal strings; election keys carry them in hex like etcd's Go client. */
export function leaseIdToHex(leaseId: string): string {
  return BigInt(leaseId).toString(16);
}
