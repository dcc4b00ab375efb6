import { execFile } from 'node:child_process';
import { HermesProfile } from '../hermes-profile';

/** Output of the CLI that means the session is already gone: nothing left to do. */
const ALREADY_GONE = /not found|no such session|does not exist/i;

/**
 * The only variables the cleanup command inherits from the gateway. The gateway's environment
 * holds its secrets (API keys, database credentials, auth tokens) and HERMES_* settings meant for
 * the gateway itself, none of which a CLI working on another Hermes home should see. The `hermes`
 * CLI is a Python program that takes its configuration and keys from HERMES_HOME (set per
 * profile); from the gateway it needs PATH (to find itself and its interpreter), HOME, USER and
 * LOGNAME (Python's user paths and user lookup), the locale (LANG, LANGUAGE, LC_*: how it encodes
 * its output, which we match below), TZ (its timestamps) and TMPDIR (temporary files).
 */
const INHERITED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR']);

/** The environment of the cleanup command for a profile whose Hermes home is `home`. */
export function cleanupCommandEnv(
  home: string,
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (INHERITED.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  env.HERMES_HOME = home;
  return env;
}

/**
 * `<cleanupCommand> sessions delete <id> --yes` in the profile's home. Resolves when the session
 * was deleted or was already gone; rejects with the command's output otherwise, or when it runs
 * longer than `timeoutMs` (it is killed then).
 */
export function runDeleteCommand(
  profile: HermesProfile,
  sessionId: string,
  timeoutMs: number,
): Promise<void> {
  const home = profile.home ?? '';
  const args = ['sessions', 'delete', sessionId, '--yes'];
  return new Promise((resolve, reject) => {
    execFile(
      profile.cleanupCommand,
      args,
      { cwd: home, env: cleanupCommandEnv(home), timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        const output = `${stderr}\n${stdout}`.trim();
        if (error.code !== undefined && ALREADY_GONE.test(output)) return resolve();
        const status = error.killed ? `killed after ${timeoutMs} ms` : `exit ${String(error.code)}`;
        reject(new Error(`${profile.cleanupCommand} ${status}${output ? `: ${output}` : ''}`));
      },
    );
  });
}
