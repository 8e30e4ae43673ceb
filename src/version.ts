import { readFileSync } from 'node:fs';

// Read once from package.json so `baton --version` never drifts from the published version.
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const VERSION: string = packageJson.version;
