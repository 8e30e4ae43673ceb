import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.baton-lab/', 'coverage/', '.test-results/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The decision core must stay pure: no clock, no timers, no randomness, no I/O modules.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'performance',
        'process',
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core is pure: time comes in as an argument.' },
        { object: 'Math', property: 'random', message: 'src/core is pure: randomness is not allowed.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'etcd3', 'mysql2', 'pino', 'fs', 'net', 'child_process'] },
      ],
    },
  },
);
