import { Command } from 'commander';
import { VERSION } from '../version.js';
import { labCommand } from './lab-command.js';
import { runCommand } from './run-command.js';
import { historyCommand, statusCommand } from './status-command.js';
import { writerCommand } from './writer-command.js';
import { intentCommands } from './intent-commands.js';

const program = new Command();
program
  .name('baton')
  .description('Consensus-backed failover coordinator for MySQL/MariaDB')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');
program.addCommand(runCommand());
program.addCommand(statusCommand());
program.addCommand(writerCommand());
for (const command of intentCommands()) program.addCommand(command);
program.addCommand(historyCommand());
program.addCommand(labCommand());
await program.parseAsync(process.argv);
