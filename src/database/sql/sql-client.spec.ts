import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source-options';
import { NUL_REPLACEMENT, storableText } from '../postgres-text';
import { testDatabase, type TestDatabase } from '../../testing/test-database';
import { nullableTextOf, SqlClient, textOf } from './sql-client';

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('SqlClient', () => {
  describe('on SQLite', () => {
    let db: TestDatabase;

    beforeAll(async () => {
      db = await testDatabase();
    });

    afterAll(async () => {
      await db?.destroy();
    });

    it('writes each statement in both dialects, named by its text', () => {
      const statement = db.sql.statement('SELECT a FROM t WHERE b = ? AND c = ?');
      expect(statement.text).toBe('SELECT a FROM t WHERE b = ? AND c = ?');
      expect(statement.postgresText).toBe('SELECT a FROM t WHERE b = $1 AND c = $2');
      expect(statement.name).toBe(db.sql.statement(statement.text).name);
      expect(statement.name).not.toBe(db.sql.statement('SELECT 1').name);
      expect(db.sql.table('sessions')).toBe('sessions');
    });

    it('runs prepared statements and rolls a failed transaction back', async () => {
      await db.dataSource.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)');
      const put = db.sql.statement('INSERT INTO kv (k, v) VALUES (?, ?)');
      const get = db.sql.statement('SELECT v FROM kv WHERE k = ?');
      expect(await db.sql.run(put, ['a', 'x\u0000y'])).toBe(1);
      // SQLite keeps a NUL as it is.
      expect(await db.sql.all(get, ['a'])).toEqual([{ v: 'x\u0000y' }]);

      await expect(
        db.sql.transaction(async (tx) => {
          await tx.run(put, ['b', '1']);
          await tx.run(put, ['a', 'duplicate']);
        }),
      ).rejects.toThrow(/UNIQUE constraint failed.*\(in: INSERT INTO kv/);
      expect(await db.sql.all(get, ['b'])).toEqual([]);
    });
  });

  it('reads column values as text', () => {
    expect(textOf('a')).toBe('a');
    expect(textOf(12)).toBe('12');
    expect(textOf(BigInt(7))).toBe('7');
    expect(nullableTextOf(null)).toBeNull();
    expect(nullableTextOf(undefined)).toBeNull();
  });

  it('makes text storable on PostgreSQL: NUL becomes U+FFFD, nothing else changes', () => {
    expect(storableText('a\u0000b\u0000')).toBe(`a${NUL_REPLACEMENT}b${NUL_REPLACEMENT}`);
    const plain = 'no nul here';
    expect(storableText(plain)).toBe(plain);
  });

  describe('on PostgreSQL (the machine’s server)', () => {
    const schema = `sql_client_${process.pid}`;
    let dataSource: DataSource;
    let sql: SqlClient;

    beforeAll(async () => {
      dataSource = await new DataSource(
        dataSourceOptions({ type: 'postgres', url: POSTGRES_URL, schema }),
      ).initialize();
      await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await dataSource.query(`CREATE TABLE "${schema}".kv (k TEXT PRIMARY KEY, v TEXT)`);
      sql = new SqlClient(dataSource);
    });

    afterAll(async () => {
      await dataSource?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await dataSource?.destroy();
    });

    it('qualifies tables with the schema and stores a NUL (as U+FFFD) through any query', async () => {
      expect(sql.table('kv')).toBe(`"${schema}"."kv"`);
      const put = sql.statement(`INSERT INTO ${sql.table('kv')} (k, v) VALUES (?, ?)`);
      const get = sql.statement(`SELECT v FROM ${sql.table('kv')} WHERE k = ?`);
      await sql.run(put, ['a', 'x\u0000y']);
      expect(await sql.all(get, ['a'])).toEqual([{ v: `x${NUL_REPLACEMENT}y` }]);
      // TypeORM's own queries go through the same connections.
      await dataSource.query(`INSERT INTO "${schema}".kv (k, v) VALUES ($1, $2)`, ['b', '\u0000']);
      expect(await sql.all(get, ['b'])).toEqual([{ v: NUL_REPLACEMENT }]);
    });

    it('rolls a failed transaction back on its own connection', async () => {
      const put = sql.statement(`INSERT INTO ${sql.table('kv')} (k, v) VALUES (?, ?)`);
      const get = sql.statement(`SELECT v FROM ${sql.table('kv')} WHERE k = ?`);
      await expect(
        sql.transaction(async (tx) => {
          await tx.run(put, ['c', '1']);
          await tx.run(put, ['c', '2']);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await sql.all(get, ['c'])).toEqual([]);
    });
  });
});
