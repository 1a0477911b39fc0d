/** What every CLI command shares: the process I/O, the global options, configuration and the opened app. */
import type { Command } from 'commander';
import type { AppConfig } from '../app/app-config.js';
import type * as AppConfigModule from '../app/app-config.js';
import type { App } from '../app/app.js';
import type { RenderOptions } from './cli-render.js';

/** The process as the CLI sees it; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean | undefined; columns?: number | undefined };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Resolves with the signal name when the process is asked to stop (SIGINT, SIGTERM); `serve` waits on it. */
  waitForShutdown(): Promise<string>;
  now(): Date;
  /** Reads all of standard input (`keyward scan --stdin`); absent when there is none. */
  readStdin?: () => Promise<string>;
}

/** The options every command accepts (`keyward --json identities` and `keyward identities --json` alike). */
export interface GlobalOptions {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  config?: string | undefined;
  json: boolean;
  color: boolean;
  verbose: boolean;
}

/** Reads the global options from any command. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<Record<string, unknown>>();
  return {
    dataDir: typeof o.dataDir === 'string' ? o.dataDir : undefined,
    databaseUrl: typeof o.databaseUrl === 'string' ? o.databaseUrl : undefined,
    config: typeof o.config === 'string' ? o.config : undefined,
    json: o.json === true,
    color: o.color !== false,
    verbose: o.verbose === true,
  };
}

/** The context a command runs in. */
export interface CliContext {
  io: CliIo;
  globals: GlobalOptions;
  /** Output layout for this invocation. */
  render: RenderOptions;
  /** Builds the configuration from defaults, the config file, KEYWARD_* env and these flags. */
  config(flags?: Record<string, unknown>): AppConfig;
  /** Opens the app, runs `fn`, and closes the app whatever happens. */
  withApp<T>(fn: (app: App) => Promise<T>, flags?: Record<string, unknown>): Promise<T>;
  /** Writes text to stdout. */
  out(text: string): void;
  /** Writes a value as pretty JSON (one document) to stdout. */
  json(value: unknown): void;
  /** Writes text to stderr. */
  err(text: string): void;
}

let configModule: typeof AppConfigModule | null = null;

/**
 * Loads the configuration module (the schemas of every capability, a large part of the CLI's start-up). The
 * program does so before every command but those that build no configuration outside `withApp` (`scan`), so a
 * scan starts without it; `withApp` loads it when it runs.
 */
export async function loadConfigModule(): Promise<void> {
  configModule ??= await import('../app/app-config.js');
}

/** Builds the context for the command being run. */
export function createCliContext(io: CliIo, cmd: Command): CliContext {
  const globals = globalOptions(cmd);
  const tty = io.stdout.isTTY === true;
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const render: RenderOptions = {
    tty,
    color: tty && globals.color && !noColorEnv && io.env.TERM !== 'dumb',
    width: tty ? io.stdout.columns : undefined,
    now: io.now(),
  };
  const config = (flags: Record<string, unknown> = {}): AppConfig => {
    if (!configModule) throw new Error('internal error: the configuration module was not loaded');
    return configModule.loadConfig({
      env: io.env,
      flags: { dataDir: globals.dataDir, databaseUrl: globals.databaseUrl, ...flags },
      ...(globals.config !== undefined ? { configFile: globals.config } : {}),
    });
  };
  return {
    io,
    globals,
    render,
    config,
    async withApp(fn, flags) {
      await loadConfigModule();
      const { openApp } = await import('../app/app.js');
      const app = await openApp(config(flags));
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(app);
      } catch (err) {
        // The command's error is the one to report, not a failure to close after it.
        await app.close().catch(() => undefined);
        throw err;
      }
      await app.close();
      return result;
    },
    out: (text) => void io.stdout.write(text),
    json: (value) => void io.stdout.write(JSON.stringify(value, null, 2) + '\n'),
    err: (text) => void io.stderr.write(text),
  };
}

/** A command's implementation: positional arguments and its own options in, an exit code (default 0) out. */
export type CliHandler = (
  ctx: CliContext,
  args: string[],
  opts: Record<string, unknown>,
) => Promise<number | void>;

/** Adapts a handler to a commander action (the program supplies it, so it can record the exit code). */
export type CliAction = (handler: CliHandler) => (...raw: unknown[]) => Promise<void>;
