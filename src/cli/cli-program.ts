/** The `keyward` command line: global options, the commands, and one error handler that sets the exit code. */
import { Command } from 'commander';
import { createCliContext, globalOptions, type CliAction, type CliIo } from './cli-context.js';
import { describeError, EXIT } from './cli-errors.js';
import { registerInventoryCommands } from './cli-inventory-commands.js';
import { registerAdminCommands } from './cli-admin-commands.js';
import { registerServeCommand } from './cli-serve-command.js';
import { registerBrokerCommands } from './cli-broker-commands.js';
import { registerAlertCommands, registerDetectCommands } from './cli-detect-commands.js';
import { registerSecretsCommands } from './cli-secrets-commands.js';
import { registerNpmCommands } from './cli-npm-commands.js';
import { registerDatasetCommands } from './cli-dataset-commands.js';

/** The version `keyward --version` prints. */
export const CLI_VERSION = '0.1.0';

/** Builds the commander program; `setExit` receives each action's exit code. */
export function createProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('keyward')
    .description('Secure the credentials of AI agents and other non-human identities.')
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .option(
      '--data-dir <dir>',
      'directory for the SQLite file, master key and admin token (default .keyward)',
    )
    .option('--database-url <url>', 'postgres://… to use PostgreSQL, sqlite:PATH for another SQLite file')
    .option('--config <file>', 'YAML config file (default <data-dir>/keyward.yaml when present)')
    .option('--json', 'print JSON on stdout instead of text')
    .option('--no-color', 'no colours in terminal output')
    .option('--verbose', 'print the cause of store and internal errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    });

  const action: CliAction =
    (handler) =>
    async (...raw) => {
      // commander passes the positional arguments, then the options object, then the command.
      const cmd = raw[raw.length - 1] as Command;
      // A variadic argument (`<paths...>`) arrives as one array: spread it, so `a b` is two paths, not `a,b`.
      const args = raw
        .slice(0, -2)
        .flatMap((a) => (Array.isArray(a) ? a.map(String) : a === undefined ? [] : [String(a)]));
      const code = await handler(createCliContext(io, cmd), args, cmd.opts());
      setExit(typeof code === 'number' ? code : EXIT.ok);
    };

  registerServeCommand(program, action);
  registerInventoryCommands(program, action);
  registerAdminCommands(program, action);
  registerBrokerCommands(program, action);
  registerDetectCommands(program, action);
  registerAlertCommands(program, action);
  registerSecretsCommands(program, action);
  registerNpmCommands(program, action);
  registerDatasetCommands(program, action);
  return program;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit code.
 * @example
 * process.exitCode = await runCli(['findings', '--fail-on', 'high'], processIo());
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const verbose = argv.includes('--verbose') || globalOptions(program).verbose;
    const failure = describeError(err, { verbose });
    for (const line of failure.lines) io.stderr.write(line + '\n');
    return failure.exitCode;
  }
}
