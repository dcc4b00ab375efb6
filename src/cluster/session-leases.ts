import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../common/errors/error-message';
import { AppConfig } from '../config/app-config';
import { GroupCommit } from '../database/sql/group-commit';
import { SqlClient, SqlExecutor, textOf } from '../database/sql/sql-client';

/** This instance no longer holds the session: another one took it over. Nothing was written. */
export class LeaseLostError extends Error {
  constructor(readonly sessionId: string) {
    super(`This instance no longer holds session ${sessionId}`);
    this.name = 'LeaseLostError';
  }
}

/** Told when this instance's holds begin and end. */
export interface HoldWatcher {
  /**
   * This instance took the session (it did not hold it before). `fromLapsed`: it took over a
   * hold another instance let lapse (died, or stalled) instead of a free session.
   */
  taken?(sessionId: string, fromLapsed: boolean): void;
  /** This instance no longer holds the session: it let go of it, or (`lost`) another took it. */
  ended?(sessionId: string, lost: boolean): void;
}

/** Who holds a session now. */
export interface SessionHolder {
  owner: string;
  fence: number;
  /** Unix seconds. */
  leaseUntil: number;
}

function leaseStatements(sql: SqlClient) {
  const leases = sql.table('session_leases');
  const runs = sql.table('runs');
  return {
    // Taken when free, expired or already ours; a change of holder bumps the fence.
    acquire: sql.statement(
      `INSERT INTO ${leases} AS l (session_id, owner, fence, lease_until) VALUES (?, ?, 1, ?) ` +
        `ON CONFLICT (session_id) DO UPDATE SET owner = excluded.owner, ` +
        `fence = CASE WHEN l.owner = excluded.owner THEN l.fence ELSE l.fence + 1 END, ` +
        `lease_until = excluded.lease_until WHERE l.lease_until < ? OR l.owner = excluded.owner ` +
        `RETURNING fence`,
    ),
    holder: sql.statement(`SELECT owner, fence, lease_until FROM ${leases} WHERE session_id = ?`),
    guard: sql.statement(
      `UPDATE ${leases} SET lease_until = ? WHERE session_id = ? AND owner = ? AND fence = ?`,
    ),
    renew: sql.statement(
      `UPDATE ${leases} SET lease_until = ? WHERE owner = ? RETURNING session_id, fence`,
    ),
    release: sql.statement(
      `DELETE FROM ${leases} WHERE session_id = ? AND owner = ? AND fence = ?`,
    ),
    orphans: sql.statement(
      `SELECT DISTINCT r.session_id FROM ${runs} r LEFT JOIN ${leases} l ` +
        `ON l.session_id = r.session_id WHERE r.status IN ` +
        `('queued', 'starting', 'running', 'aborting') ` +
        `AND (l.session_id IS NULL OR l.lease_until < ?)`,
    ),
  };
}

/**
 * Which instance holds which session, in a multi-instance deployment. The holder of a session
 * is the only one that starts its runs, relays them, numbers its events and writes its
 * transcript: every such write carries {@link guard}, which proves (and extends) the hold inside
 * the write's own transaction, with the fence it was taken with. An instance that stops renewing
 * (it died, or stalled past its lease) loses its sessions to whoever takes them next; its late
 * writes then fail their guard instead of landing.
 *
 * With one instance (no `REDIS_URL`) nothing is held and every guard passes without a statement.
 */
@Injectable()
export class SessionLeases implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionLeases.name);
  readonly enabled: boolean;
  /** This process: stable for its life, never reused. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly leaseS: number;
  private readonly statements: ReturnType<typeof leaseStatements>;
  /** The sessions this instance holds, with the fence it holds each with. */
  private readonly held = new Map<string, number>();
  private renewer: NodeJS.Timeout | undefined;
  private readonly watchers: HoldWatcher[] = [];

  constructor(
    private readonly sql: SqlClient,
    private readonly commit: GroupCommit,
    config: AppConfig,
  ) {
    this.enabled = config.cluster !== null;
    this.leaseS = (config.cluster?.leaseMs ?? 0) / 1000;
    this.statements = leaseStatements(sql);
    if (this.enabled) {
      // Renewed three times per lease: two renewals may fail before a hold is at risk.
      this.renewer = setInterval(() => void this.renew(), (this.leaseS * 1000) / 3);
      this.renewer.unref();
    }
  }

  /** Tells `watcher` of every hold this instance takes or ends from now on. */
  watch(watcher: HoldWatcher): void {
    this.watchers.push(watcher);
  }

  /** Whether this instance holds the session (always, with one instance). */
  holds(sessionId: string): boolean {
    return !this.enabled || this.held.has(sessionId);
  }

  /** Takes the session unless another live instance holds it; true when this instance does. */
  async acquire(sessionId: string): Promise<boolean> {
    if (!this.enabled || this.held.has(sessionId)) return true;
    const now = nowS();
    const [row] = await this.commit.write((tx) =>
      tx.all(this.statements.acquire, [sessionId, this.instanceId, now + this.leaseS, now]),
    );
    if (!row) return false;
    const taken = !this.held.has(sessionId);
    const fence = Number(row.fence);
    this.held.set(sessionId, fence);
    // A free session (never held, or released) is inserted with fence 1; a takeover bumps it.
    if (taken) for (const watcher of this.watchers) watcher.taken?.(sessionId, fence > 1);
    return true;
  }

  /** Who holds the session now (null: nobody, or a hold that lapsed). */
  async holder(sessionId: string): Promise<SessionHolder | null> {
    const [row] = await this.sql.all(this.statements.holder, [sessionId]);
    if (!row || Number(row.lease_until) < nowS()) return null;
    return {
      owner: textOf(row.owner),
      fence: Number(row.fence),
      leaseUntil: Number(row.lease_until),
    };
  }

  /**
   * Inside a write's transaction: proves this instance still holds the session with the fence
   * it took, and extends the hold. Throws {@link LeaseLostError} (rolling the write back) when
   * another instance took the session over meanwhile.
   */
  async guard(tx: SqlExecutor, sessionId: string): Promise<void> {
    if (!this.enabled) return;
    const fence = this.held.get(sessionId);
    const changed =
      fence === undefined
        ? 0
        : await tx.run(this.statements.guard, [
            nowS() + this.leaseS,
            sessionId,
            this.instanceId,
            fence,
          ]);
    if (changed === 0) {
      // Known now rather than at the next renewal: nothing else is tried under the old hold.
      if (this.held.get(sessionId) === fence && fence !== undefined) this.end(sessionId, true);
      throw new LeaseLostError(sessionId);
    }
  }

  /** Lets go of a session (idle, evicted): another instance may take it at once. */
  async release(sessionId: string): Promise<void> {
    const fence = this.held.get(sessionId);
    if (!this.enabled || fence === undefined) return;
    this.end(sessionId, false);
    await this.commit.write((tx) =>
      tx.run(this.statements.release, [sessionId, this.instanceId, fence]),
    );
  }

  /** Sessions with runs to drive (active or queued) whose holder is gone or never was. */
  async orphans(): Promise<string[]> {
    if (!this.enabled) return [];
    const rows = await this.sql.all(this.statements.orphans, [nowS()]);
    return rows.map((row) => textOf(row.session_id));
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.renewer);
    const sessions = [...this.held.keys()];
    await Promise.allSettled(sessions.map((sessionId) => this.release(sessionId)));
  }

  /** Extends every hold; a session whose hold is gone (or changed hands) is lost. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    // Only holds taken before this renewal are judged by it.
    const judged = new Map(this.held);
    let rows;
    try {
      rows = await this.commit.write((tx) =>
        tx.all(this.statements.renew, [nowS() + this.leaseS, this.instanceId]),
      );
    } catch (error) {
      this.logger.warn(`Renewing session holds failed: ${errorMessage(error)}`);
      return;
    }
    const still = new Map(rows.map((row) => [textOf(row.session_id), Number(row.fence)]));
    for (const [sessionId, fence] of judged) {
      if (still.get(sessionId) === fence || this.held.get(sessionId) !== fence) continue;
      this.logger.warn(`Session ${sessionId} is held by another instance now`);
      this.end(sessionId, true);
    }
  }

  private end(sessionId: string, lost: boolean): void {
    this.held.delete(sessionId);
    for (const watcher of this.watchers) watcher.ended?.(sessionId, lost);
  }
}

function nowS(): number {
  return Date.now() / 1000;
}
