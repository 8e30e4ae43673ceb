import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Integration tests run the compiled CLI, so dist/ must match the sources under test. */
export default function setup(): void {
  const repo = path.resolve(import.meta.dirname, '../../..');
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
