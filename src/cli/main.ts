import { Command } from 'commander';
import { VERSION } from '../version.js';
import { labCommand } from './lab-command.js';

const program = new Command();
program
  .name('baton')
  .description('Consensus-backed failover coordinator for MySQL/MariaDB')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');
program.addCommand(labCommand());
await program.parseAsync(process.argv);
