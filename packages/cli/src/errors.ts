/** An error the CLI reports as one line, `oddjob: error: <message>`, exiting with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Exit code of a command whose feature does not exist yet (as `executors`). */
export const EXIT_NOT_AVAILABLE = 2;
