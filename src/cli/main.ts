import { Command } from 'commander';
import { VERSION } from '../version.js';
import { labCommand } from './lab-command.js';
import { runCommand } from './run-command.js';
import { historyCommand, statusCommand } from './status-command.js';
import { writerCommand } from './writer-command.js';
import { intentCommands } from './intent-commands.js';
import { doctorCommand } from './doctor-command.js';

// gRPC sets the TLS server name to the endpoint's IP when etcd is addressed by IP, and Node warns
// about it on every TLS connection (DEP0123): noise in front of every error an operator reads.
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code !== 'DEP0123')
    process.stderr.write(`baton: warning: ${warning.name}: ${warning.message}\n`);
});

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
program.addCommand(doctorCommand());
program.addCommand(labCommand());
await program.parseAsync(process.argv);
