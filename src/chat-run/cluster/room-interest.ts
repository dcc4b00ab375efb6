import { Injectable, Logger } from '@nestjs/common';
import { SessionLeases } from '../../cluster/session-leases';
import { errorMessage } from '../../common/errors/error-message';
import { sessionRoom, type ChatNamespace } from '../session-emitter';

/**
 * How long after this instance's start the others may still be unknown to its adapter, which
 * learns of them from their heartbeats (every 5 s by default; each answers a newcomer's first
 * one at once). Until then a question to "every other instance" could miss one: sessions taken
 * meanwhile stay shared.
 */
export const PEERS_KNOWN_AFTER_MS = 10_000;

/**
 * An instance not heard from for this long may have been dropped from the adapter's list, and
 * a question to the others would not wait for its answer (the adapter's heartbeat timeout).
 */
const PEER_SILENT_MS = 10_000;
/** An instance silent this long is taken for gone; if it speaks again it is a newcomer. */
const PEER_GONE_MS = 60_000;

/**
 * Several instances: which of the sessions this instance holds have nobody listening on any
 * other instance, so that their events need not travel through Redis at all. Publishing every
 * event to every instance, which then decoded it only to find no socket in its room, doubled
 * the CPU per delta of two instances over one.
 *
 * A session starts out shared (its events are published) whenever this instance takes it, and
 * becomes private only when every other instance has said it has no socket in its room. It is
 * shared again, for as long as this instance holds it, as soon as anything shows a listener
 * elsewhere: a request forwarded from another instance (`resume`, `run` and `abort` have the
 * holder join the sender's socket there to the room). While the session is held here
 * those are the only ways a socket elsewhere gets into its room, since a request about a held
 * session is carried out by its holder. Every doubt leaves it shared, since a needless publish
 * costs CPU and a missing one would lose events: no answer, a failed question, an answer
 * overtaken by a forwarded request, an instance gone quiet (it may have been left out of the
 * question), a session taken over from a lapsed hold (its old holder may be stalled, not dead,
 * with sockets in the room), the first seconds after a start. An instance heard from anew (a
 * newcomer, or one back from a stall) may have sockets in any room: every private session is
 * asked about again.
 */
@Injectable()
export class RoomInterest {
  private readonly logger = new Logger(RoomInterest.name);
  private namespace: ChatNamespace | undefined;
  private boundAt = 0;
  /** Held here, nobody listening elsewhere: events stay on this instance. */
  private readonly unshared = new Set<string>();
  /** Set anew by every change of a session's state: an answer to an older question is void. */
  private readonly epochs = new Map<string, number>();
  private lastEpoch = 0;
  /** Other instances, by adapter uid: when each was last heard from. */
  private readonly peers = new Map<string, number>();

  constructor(leases: SessionLeases) {
    leases.watch({
      taken: (sessionId, fromLapsed) => {
        if (fromLapsed) this.shared(sessionId);
        else void this.ask(sessionId);
      },
      ended: (sessionId) => this.forget(sessionId),
    });
  }

  bind(namespace: ChatNamespace): void {
    this.namespace = namespace;
    this.boundAt = performance.now();
  }

  /** A message of another instance's adapter came in. */
  heard(uid: string): void {
    const now = performance.now();
    const last = this.peers.get(uid);
    this.peers.set(uid, now);
    if (last !== undefined && now - last <= PEER_SILENT_MS) return;
    for (const [peer, seen] of this.peers) if (now - seen > PEER_GONE_MS) this.peers.delete(peer);
    for (const sessionId of [...this.unshared]) void this.ask(sessionId);
  }

  /** Whether the events of this session's room must go to the other instances. */
  isShared(sessionId: string): boolean {
    return !this.unshared.has(sessionId);
  }

  /** Another instance has (or may have) a socket in the session's room from now on. */
  shared(sessionId: string): void {
    this.unshared.delete(sessionId);
    this.bump(sessionId);
  }

  private forget(sessionId: string): void {
    this.unshared.delete(sessionId);
    this.epochs.delete(sessionId);
  }

  /** Asks the other instances whether they have sockets in the room of a session just taken. */
  private async ask(sessionId: string): Promise<void> {
    this.unshared.delete(sessionId);
    const epoch = this.bump(sessionId);
    const namespace = this.namespace;
    if (!namespace || performance.now() - this.boundAt < PEERS_KNOWN_AFTER_MS) return;
    try {
      const sockets = await namespace.in(sessionRoom(sessionId)).fetchSockets();
      const elsewhere = sockets.some((socket) => !namespace.sockets.has(socket.id));
      if (!elsewhere && !this.anyPeerQuiet() && this.epochs.get(sessionId) === epoch) {
        this.unshared.add(sessionId);
      }
    } catch (error) {
      this.logger.debug(`Session ${sessionId} stays shared: ${errorMessage(error)}`);
    }
  }

  private anyPeerQuiet(): boolean {
    const now = performance.now();
    for (const seen of this.peers.values()) {
      if (now - seen > PEER_SILENT_MS && now - seen <= PEER_GONE_MS) return true;
    }
    return false;
  }

  private bump(sessionId: string): number {
    const epoch = ++this.lastEpoch;
    this.epochs.set(sessionId, epoch);
    return epoch;
  }
}
