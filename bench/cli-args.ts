/** The benchmarks' argv reading: `--name value` flags, and a one-line usage error (exit 2). */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

export function usage(program: string, message: string): never {
  console.error(`${program}: ${message}`);
  process.exit(2);
}
