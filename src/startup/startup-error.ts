/**
 * A startup failure an operator can fix, raised where it is found. Its message is the one line
 * `main.ts` prints (no stack: the cause is in the line): the setting, its value (a password
 * masked) and what is wrong with it.
 *
 * ```ts
 * throw StartupError.setting('DATA_DIR', '/srv/data', 'not writable (EACCES)');
 * // DATA_DIR=/srv/data: not writable (EACCES)
 * ```
 */
export class StartupError extends Error {
  constructor(line: string, options?: { cause?: unknown }) {
    // Driver and parser messages may span lines (a YAML excerpt, a hint): one line is printed.
    super(line.replace(/\s*\n\s*/g, ' ').trim(), options);
    this.name = 'StartupError';
  }

  /** `NAME=value: problem`. */
  static setting(name: string, value: string, problem: string, cause?: unknown): StartupError {
    return new StartupError(`${name}=${value}: ${problem}`, { cause });
  }
}
