import { Logger } from '@nestjs/common';
import { dirname } from 'node:path';
import {
  createPrivateFile,
  makePrivateDir,
  octal,
  restrictToOwner,
} from '../common/files/private-files';

/**
 * The SQLite database holds every transcript: its folder is created 0700 and its file 0600
 * before SQLite opens it, since SQLite gives the `-wal` and `-shm` files it creates the mode of
 * the database file. Files left looser by an earlier version are made 0600, with a warning.
 */
export async function prepareSqliteFiles(database: string): Promise<void> {
  await makePrivateDir(dirname(database));
  for (const file of [database, `${database}-wal`, `${database}-shm`]) {
    const was = await restrictToOwner(file);
    if (was !== undefined) {
      new Logger('Database').warn(`${file} was readable by others (${octal(was)}): made it 0600`);
    }
  }
  await createPrivateFile(database);
}
