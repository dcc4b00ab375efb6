import { chmod, mkdir, open, stat } from 'node:fs/promises';

/**
 * What the gateway keeps on disk (its database, the generated token) is for its own user only:
 * folders it creates are 0700 and files it creates are 0600, whatever the process umask lets
 * through by default.
 */

const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;
const GROUP_OR_WORLD = 0o077;

/** Creates `dir` (and missing parents) as 0700; an existing folder keeps its mode. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: OWNER_ONLY_DIR });
}

/** Creates `file` empty as 0600 unless it exists (then it is left as it is). */
export async function createPrivateFile(file: string): Promise<void> {
  const handle = await open(file, 'a', OWNER_ONLY_FILE);
  await handle.close();
}

/** The permission bits of `file` when its group or others have any access; else undefined. */
export async function looseMode(file: string): Promise<number | undefined> {
  try {
    const mode = (await stat(file)).mode & 0o777;
    return (mode & GROUP_OR_WORLD) !== 0 ? mode : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes an existing file 0600; answers the mode it had when that was looser, else undefined. */
export async function restrictToOwner(file: string): Promise<number | undefined> {
  const mode = await looseMode(file);
  if (mode !== undefined) await chmod(file, OWNER_ONLY_FILE);
  return mode;
}

/** `0644` for 0o644. */
export function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
