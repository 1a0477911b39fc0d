#!/usr/bin/env node
/** The `keyward` executable: runs the CLI against the real process and exits with its code. */
import { runCli } from './cli-program.js';
import type { CliIo } from './cli-context.js';

/** The real process as the CLI sees it. */
function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    waitForShutdown: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          // Only the first signal is ours; a second one gets Node's default (an immediate exit).
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
  };
}

const code = await runCli(process.argv.slice(2), processIo());
// Exit once both streams have flushed, so piped output is never cut short and no stray handle keeps us alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
