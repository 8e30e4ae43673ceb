import { Command, Option } from 'commander';
import { LabError } from '../lab/errors.js';
import { action } from './user-error.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run the coordinator daemon (one per colo, plus one at the witness site)')
    .addOption(new Option('--config <file>', 'YAML config file').env('BATON_CONFIG'))
    .action(
      action(async (opts: { config?: string }) => {
        if (!opts.config) throw new LabError('no config: give --config FILE or set BATON_CONFIG');
        const { startDaemon } = await import('../daemon/run-daemon.js');
        const daemon = startDaemon(opts.config);
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals++;
          if (signals > 1) process.exit(130);
          daemon.stop(signal);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        await daemon.done;
      }),
    );
}
