import { Logger } from '@nestjs/common';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  createPrivateFile,
  makePrivateDir,
  octal,
  restrictToOwner,
} from '../common/files/private-files';
import type { DatabaseSettings } from '../config/app-config';
import { failureReasonOrMessage } from '../startup/failure-reason';
import { StartupError } from '../startup/startup-error';

type SqliteSettings = Extract<DatabaseSettings, { type: 'sqlite' }>;

/**
 * The SQLite database holds every transcript: its folder is created 0700 and its file 0600
 * before SQLite opens it, since SQLite gives the `-wal` and `-shm` files it creates the mode of
 * the database file. Files left looser by an earlier version are made 0600, with a warning.
 *
 * A folder that cannot be created or written stops the startup with one line naming the
 * setting (`DATA_DIR=/srv/data: not writable (EACCES: permission denied)`): SQLite itself
 * would only say it cannot open a file, and only once the folder is needed for its journal.
 */
export async function prepareSqliteFiles(settings: SqliteSettings): Promise<void> {
  const database = settings.path;
  const folder = dirname(database);
  // The default file lives in DATA_DIR itself; a `sqlite:` URL may name another folder.
  const where = settings.setting.name === 'DATA_DIR' ? '' : ` ${folder}`;
  const fail = (problem: string, error: unknown): StartupError =>
    StartupError.setting(
      settings.setting.name,
      settings.setting.value,
      `${problem} (${failureReasonOrMessage(error)})`,
      error,
    );

  await makePrivateDir(folder).catch((error: unknown) => {
    throw fail(`cannot create the folder${where}`, error);
  });
  try {
    await access(folder, constants.W_OK);
    for (const file of [database, `${database}-wal`, `${database}-shm`]) {
      const was = await restrictToOwner(file);
      if (was !== undefined) {
        new Logger('Database').warn(`${file} was readable by others (${octal(was)}): made it 0600`);
      }
    }
    await createPrivateFile(database);
  } catch (error) {
    throw fail(where ? `${database} is not writable` : 'not writable', error);
  }
}
