/** Test support for CLI commands: runs `keyward` in-process against a data directory and collects its output. */
import type { CliIo } from './cli-context.js';
import { runCli } from './cli-program.js';

/** What one in-process run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `keyward --data-dir <dir> <args>` in this process with `USER=tester` (plus `env`), stdout not a terminal.
 * @example
 * const r = await runCliIn(dir, ['agents', 'list']);
 */
export async function runCliIn(
  dir: string,
  args: string[],
  options: { env?: Record<string, string>; now?: () => Date; stdin?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => ((stdout += t), true), isTTY: false },
    stderr: { write: (t: string) => ((stderr += t), true) },
    env: { USER: 'tester', ...options.env },
    now: options.now ?? (() => new Date()),
    waitForShutdown: () => new Promise<string>(() => undefined),
    ...(options.stdin === undefined ? {} : { readStdin: async () => options.stdin! }),
  };
  const code = await runCli(['--data-dir', dir, ...args], io);
  return { code, stdout, stderr };
}
