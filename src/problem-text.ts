/**
 * How a problem in outside input (a config file, a value someone put into etcd) is written: its
 * path in the document, then one line, bounded. A newline or an escape sequence in such text
 * would forge lines in a terminal or a plain-text log; a pasted blob would bury the message.
 */

/** C0 control characters and DEL. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Newlines shown as `\n`, other control characters as spaces, cut at `max` characters. */
export function oneLine(text: string, max = 300): string {
  const escaped = text.replace(new RegExp(CONTROL_CHARACTERS, 'g'), (c) => (c === '\n' ? '\\n' : ' '));
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/** clusters[0].nodes[2].port: where in a parsed document a problem is. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

/** The value at `path` in a parsed document (undefined where it is missing): "required" or not. */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
