import { Command, Option } from 'commander';
import { action } from './user-error.js';

/** Usage errors (a missing or unknown option) exit 2: 1 means doctor found an error. */
const USAGE_EXIT_CODE = 2;

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'preflight: checks the servers, etcd and the config against what baton needs; each finding says how to fix it (exit 1 on any error)',
    )
    .addOption(new Option('--config <file>', 'coordinator config').env('BATON_CONFIG'))
    .option('--lab [dir]', 'the local lab (default ./.baton-lab)')
    .option('--cluster <name>', 'check only this cluster (default: every cluster in the config)')
    .option('--json', 'one JSON object, for scripts', false)
    .exitOverride((error) => {
      // Help and version exit 0; any other commander error is a usage error.
      process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
    })
    .action(
      action(
        async (
          opts: { config?: string; lab?: string | true; cluster?: string; json: boolean },
          command: Command,
        ) => {
          const { runDoctor } = await import('../doctor/run-doctor.js');
          // BATON_CONFIG in the environment does not conflict with an explicit --lab; set
          // empty, it names nothing.
          const fromEnv = command.getOptionValueSource('config') === 'env';
          const config = (opts.lab !== undefined && fromEnv) || opts.config === '' ? undefined : opts.config;
          const tty = process.stdout.isTTY === true;
          process.exitCode = await runDoctor(
            { ...opts, config },
            {
              write: (text) => process.stdout.write(text),
              look: { symbols: tty, colour: tty && !process.env.NO_COLOR },
            },
          );
        },
      ),
    );
}
