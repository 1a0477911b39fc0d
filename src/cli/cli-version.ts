/** The version `keyward --version` prints (its own module, so a command can name it without loading the CLI). */
export const CLI_VERSION = '0.1.0';
