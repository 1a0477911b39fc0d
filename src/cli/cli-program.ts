/** The `keyward` command line: global options, the commands, and one error handler that sets the exit code. */
import { Command } from 'commander';
import {
  createCliContext,
  globalOptions,
  loadConfigModule,
  type CliAction,
  type CliIo,
} from './cli-context.js';
import { describeError, EXIT } from './cli-errors.js';
import { CLI_VERSION } from './cli-version.js';

export { CLI_VERSION };

/** Adds some of the program's commands. */
type Registrar = (program: Command, action: CliAction) => void;

/** Every command module, loaded together, in the order `keyward --help` lists their commands. */
async function allCommands(): Promise<Registrar[]> {
  const [serve, inventory, admin, broker, detect, secrets, npm, dataset] = await Promise.all([
    import('./cli-serve-command.js'),
    import('./cli-inventory-commands.js'),
    import('./cli-admin-commands.js'),
    import('./cli-broker-commands.js'),
    import('./cli-detect-commands.js'),
    import('./cli-secrets-commands.js'),
    import('./cli-npm-commands.js'),
    import('./cli-dataset-commands.js'),
  ]);
  return [
    serve.registerServeCommand,
    inventory.registerInventoryCommands,
    admin.registerAdminCommands,
    broker.registerBrokerCommands,
    detect.registerDetectCommands,
    detect.registerAlertCommands,
    secrets.registerSecretsCommands,
    npm.registerNpmCommands,
    dataset.registerDatasetCommands,
  ];
}

/**
 * The commands registered when the first argument names one of them: only their module is loaded, so
 * `keyward scan` starts without the server, store and detection engine. Anything else loads every command.
 */
const LIGHT_COMMANDS: Record<string, () => Promise<Registrar[]>> = {
  scan: async () => [(await import('./cli-secrets-commands.js')).registerSecretsCommands],
  hooks: async () => [(await import('./cli-secrets-commands.js')).registerSecretsCommands],
};

/** Commands whose handlers never call `ctx.config()` (outside `withApp`), so the configuration module waits. */
const NO_CONFIG_COMMANDS = new Set(['scan', 'hooks install']);

/** A command's name with its parents' (`hooks install`), without the program's. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Loads the command modules `argv` needs (see LIGHT_COMMANDS). */
export async function commandsFor(argv: readonly string[]): Promise<Registrar[]> {
  const light = argv[0] === undefined ? undefined : LIGHT_COMMANDS[argv[0]];
  return light ? light() : allCommands();
}

/** Builds the commander program with `commands`; `setExit` receives each action's exit code. */
export function createProgram(
  io: CliIo,
  setExit: (code: number) => void,
  commands: readonly Registrar[],
): Command {
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
      if (!NO_CONFIG_COMMANDS.has(commandPath(cmd))) await loadConfigModule();
      const code = await handler(createCliContext(io, cmd), args, cmd.opts());
      setExit(typeof code === 'number' ? code : EXIT.ok);
    };

  for (const register of commands) register(program, action);
  return program;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit code.
 * @example
 * process.exitCode = await runCli(['findings', '--fail-on', 'high'], processIo());
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = createProgram(
    io,
    (code) => {
      exitCode = code;
    },
    await commandsFor(argv),
  );
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
