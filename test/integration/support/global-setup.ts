import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Integration tests run the compiled CLI, so dist/ must match the sources under test. A build
 * is 10-15 s of CPU on this machine, and `scripts/test` has just made one: it is skipped when
 * every source's output was written after the newest input changed (a git checkout or an edit
 * makes the input newer).
 */
export default function setup(): void {
  const repo = path.resolve(import.meta.dirname, '../../..');
  if (distIsCurrent(repo)) return;
  try {
    execFileSync(
      process.execPath,
      [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: repo,
        stdio: 'pipe',
      },
    );
  } catch (error) {
    // Type errors are reported by `npm run typecheck`; tsc still emits, which is all tests need.
    if (!existsSync(path.join(repo, 'dist/cli/main.js'))) throw error;
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(dir, name));
}

export function distIsCurrent(repo: string): boolean {
  const src = path.join(repo, 'src');
  const sources = sourceFiles(src);
  const inputs = [
    ...sources,
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(repo, f)),
  ];
  const newestInput = Math.max(...inputs.map((file) => statSync(file).mtimeMs));
  return sources.every((source) => {
    const output = path.join(repo, 'dist', path.relative(src, source).replace(/\.ts$/, '.js'));
    return existsSync(output) && statSync(output).mtimeMs > newestInput;
  });
}
