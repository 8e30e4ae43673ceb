/**
 * The server side of the MySQL text protocol's answers, encoded here rather than through mysql2's
 * server helpers: with hundreds of fake servers answering thousands of round trips a second, those
 * helpers (a Packet object and a socket write per packet, column names through iconv) cost the
 * bench process more CPU than the coordinators it measures. An answer is built as one buffer and
 * written once. Column definitions repeat every probe, so they are encoded once per column list.
 *
 * Packet layout (MySQL client/server protocol, CLIENT_PROTOCOL_41 without CLIENT_DEPRECATE_EOF):
 * 3-byte little-endian payload length, 1-byte sequence id, payload.
 */

export const SERVER_STATUS_AUTOCOMMIT = 0x0002;
export const SERVER_MORE_RESULTS_EXISTS = 0x0008;
/** utf8mb4_general_ci: MariaDB 10.6+'s default. */
export const UTF8MB4_GENERAL_CI = 45;
const MYSQL_TYPE_VAR_STRING = 0xfd;
const NULL_VALUE = 0xfb;

export type Value = string | null;

/** One statement's answer: rows (a result set) or an OK packet. */
export type Answer = { columns: readonly string[]; rows: Value[][] } | { affectedRows: number };

/** Length-encoded integer. */
function lengthEncoded(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

function lengthEncodedString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([lengthEncoded(bytes.length), bytes]);
}

function columnDefinition(name: string): Buffer {
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c; // length of the fixed fields that follow
  fixed.writeUInt16LE(UTF8MB4_GENERAL_CI, 1);
  fixed.writeUInt32LE(1024, 3); // column length
  fixed[7] = MYSQL_TYPE_VAR_STRING;
  // flags (2), decimals (1) and filler (2) stay zero
  return Buffer.concat([
    lengthEncodedString('def'),
    lengthEncodedString(''), // schema
    lengthEncodedString(''), // table
    lengthEncodedString(''), // org_table
    lengthEncodedString(name),
    lengthEncodedString(name),
    fixed,
  ]);
}

const definitionsByColumns = new Map<string, Buffer[]>();

/** The column count and definition payloads of a column list, encoded once. */
function columnPayloads(columns: readonly string[]): Buffer[] {
  const key = columns.join('\u0000');
  let payloads = definitionsByColumns.get(key);
  if (!payloads) {
    payloads = [lengthEncoded(columns.length), ...columns.map(columnDefinition)];
    definitionsByColumns.set(key, payloads);
  }
  return payloads;
}

function eof(status: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = 0xfe;
  b.writeUInt16LE(status, 3);
  return b;
}

function row(values: readonly Value[]): Buffer {
  return Buffer.concat(values.map((v) => (v === null ? Buffer.from([NULL_VALUE]) : lengthEncodedString(v))));
}

function ok(affectedRows: number, status: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16LE(status, 0); // warnings (2) stay zero
  return Buffer.concat([Buffer.from([0x00]), lengthEncoded(affectedRows), lengthEncoded(0), tail]);
}

function error(errno: number, message: string): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(errno, 1);
  return Buffer.concat([head, Buffer.from('#HY000', 'ascii'), Buffer.from(message, 'utf8')]);
}

/**
 * The whole answer to one COM_QUERY: each statement's result (the server says more results
 * follow on every one but the last), then an error if a statement failed (which ends the round
 * trip). Sequence ids run on from 1: the client's command was packet 0.
 */
export function encodeAnswers(
  answers: readonly Answer[],
  failure?: { errno: number; message: string },
): Buffer {
  const payloads: Buffer[] = [];
  answers.forEach((answer, i) => {
    const more = failure !== undefined || i < answers.length - 1;
    const status = SERVER_STATUS_AUTOCOMMIT | (more ? SERVER_MORE_RESULTS_EXISTS : 0);
    if ('columns' in answer) {
      payloads.push(...columnPayloads(answer.columns), eof(SERVER_STATUS_AUTOCOMMIT));
      for (const values of answer.rows) payloads.push(row(values));
      payloads.push(eof(status));
    } else {
      payloads.push(ok(answer.affectedRows, status));
    }
  });
  if (failure) payloads.push(error(failure.errno, failure.message));
  const parts: Buffer[] = [];
  payloads.forEach((payload, i) => {
    const header = Buffer.alloc(4);
    header.writeUIntLE(payload.length, 0, 3);
    header[3] = (i + 1) & 0xff;
    parts.push(header, payload);
  });
  return Buffer.concat(parts);
}
