import { Command } from 'commander';
import { VERSION } from '../version.js';

const program = new Command();
program.name('baton').description('Consensus-backed failover coordinator for MySQL/MariaDB').version(VERSION);
await program.parseAsync(process.argv);
