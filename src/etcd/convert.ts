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

/**
 * The keys of one call, for an error message: the key itself, or how many under their longest
 * common folder ("3 keys under /baton/lab/"). A prefix read is its prefix with a "*".
 */
export function describeKeys(keys: readonly string[]): string {
  const distinct = [...new Set(keys)];
  if (distinct.length === 1) return distinct[0] as string;
  if (distinct.length === 0) return 'no keys';
  let common = distinct[0] as string;
  for (const key of distinct) {
    let i = 0;
    while (i < common.length && i < key.length && common[i] === key[i]) i++;
    common = common.slice(0, i);
  }
  const folder = common.slice(0, common.lastIndexOf('/') + 1);
  return folder ? `${distinct.length} keys under ${folder}` : `${distinct.length} keys`;
}

/** Lease IDs travel as decimal strings; election keys carry them in hex like etcd's Go client. */
export function leaseIdToHex(leaseId: string): string {
  return BigInt(leaseId).toString(16);
}
