import { Injectable, Logger } from '@nestjs/common';
import { MessageType, type ClusterMessage } from 'socket.io-adapter';
import { errorMessage } from '../../common/errors/error-message';
import type { LoggedEvent } from '../event-log/logged-event';
import { SessionRequests } from '../session-requests';
import { CHAT_NAMESPACE, sessionRoom, type ChatNamespace } from '../session-emitter';
import { RoomInterest } from './room-interest';

/** How long a publish that failed (Redis dropped the connection) keeps being retried. */
const REPUBLISH_FOR_MS = 60_000;
const REPUBLISH_EVERY_MS = 250;
const ROOM_PREFIX = sessionRoom('');
/** The "offset" of an event that was not published (it only matters to connection recovery). */
const NOT_PUBLISHED = '';
const notPublished = (): string => NOT_PUBLISHED;

/** One session room's delivery state on this instance. */
interface RoomState {
  /** The seq of the last event delivered here. */
  last: number;
  /** Events that came ahead of a gap, by seq, waiting for it to fill. */
  waiting: Map<number, () => void>;
  repairing: boolean;
}

type Broadcast = Extract<ClusterMessage, { type: MessageType.BROADCAST }>;

/**
 * The parts of socket.io-adapter's `ClusterAdapter` this hooks into. Its typings mark the two
 * methods protected: they are the documented points where a cluster adapter publishes and
 * receives, and the only place where at-least-once delivery plus ordering can be added without
 * writing an adapter of our own.
 */
export interface HookableAdapter {
  readonly uid: string;
  readonly nsp: ChatNamespace;
  readonly rooms: Map<string, Set<string>>;
  publishAndReturnOffset(message: Omit<ClusterMessage, 'uid' | 'nsp'>): Promise<string>;
  onMessage(message: ClusterMessage, offset?: string): void;
  on(event: 'delete-room', listener: (room: string) => void): unknown;
}

/**
 * Several instances: every event of a session reaches this instance's sockets in its room once
 * each and in seq order, even when Redis drops connections.
 *
 * Redis Streams keeps what reached it, but a publish in flight when a connection drops is lost,
 * and the adapter does not retry it. So the publishing side retries a failed room event in the
 * background, and the receiving side orders what comes in by seq: a duplicate (a retry that had
 * landed after all) is dropped; an event that comes after a gap waits while the missing ones are
 * asked of the session's holder, which has them in its event log (or says they never existed:
 * the seqs skipped when an instance took a session over). Only room events (with a seq) are
 * sequenced; anything else is delivered as it comes.
 *
 * Room events of a session nobody listens to elsewhere ({@link RoomInterest}) are not published
 * at all.
 */
@Injectable()
export class RoomSequencer {
  private readonly logger = new Logger(RoomSequencer.name);
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly requests: SessionRequests,
    private readonly interest: RoomInterest,
  ) {}

  /** Hooks into a cluster adapter: its publishing and its delivery of incoming broadcasts. */
  attach(adapter: HookableAdapter): void {
    // The adapter factory serves every namespace; sessions live in the chat namespace only.
    const chat = adapter.nsp.name === CHAT_NAMESPACE;
    if (chat) this.interest.bind(adapter.nsp);
    const publish = adapter.publishAndReturnOffset.bind(adapter);
    // The adapter delivers a packet here once its publish has resolved; publishes resolve in
    // the order they were made, and so packets are delivered in the order they were sent.
    let lastPublished: Promise<unknown> = Promise.resolve();
    adapter.publishAndReturnOffset = (message) => {
      if (isRoomEvent(message as ClusterMessage)) {
        if (!this.interest.isShared(sessionOf(roomOf(message as Broadcast)))) {
          // Not published, but delivered here no sooner than what was published before it
          // (a resuming socket's replay and join come before the live events after them).
          return lastPublished.then(notPublished, notPublished);
        }
      }
      const published = publish(message).catch((error: unknown) => {
        if (isRoomEvent(message as ClusterMessage)) {
          this.republish(() => publish(message), message as Broadcast, error);
        }
        throw error;
      });
      lastPublished = published;
      return published;
    };
    // The last socket here left the room: nothing to order for it until one joins again.
    adapter.on('delete-room', (room) => this.rooms.delete(room));
    const receive = adapter.onMessage.bind(adapter);
    adapter.onMessage = (message, offset) => {
      if (!isRoomEvent(message) || message.uid === adapter.uid) receive(message, offset);
      else this.receive(adapter, message, () => receive(message, offset));
      // After the adapter took it in: a newcomer is on its list before anything is asked of it.
      if (chat && message.uid !== adapter.uid) this.interest.heard(message.uid);
    };
  }

  private republish(publish: () => Promise<unknown>, message: Broadcast, error: unknown): void {
    const until = Date.now() + REPUBLISH_FOR_MS;
    this.logger.warn(`Publishing a room event failed (${errorMessage(error)}); retrying`);
    const attempt = (): void => {
      publish().catch(() => {
        if (Date.now() < until) setTimeout(attempt, REPUBLISH_EVERY_MS).unref();
        else this.logger.error(`A room event of ${roomOf(message)} could not be published`);
      });
    };
    setTimeout(attempt, REPUBLISH_EVERY_MS).unref();
  }

  private receive(adapter: HookableAdapter, message: Broadcast, deliver: () => void): void {
    const room = roomOf(message);
    const seq = seqOf(message);
    // Nobody here listens to this room: nothing to order.
    if (!adapter.rooms.get(room)?.size) {
      this.rooms.delete(room);
      return deliver();
    }
    let state = this.rooms.get(room);
    // Seq 1 again: the session was deleted and created anew; its numbering starts over.
    if (!state || (seq === 1 && state.last > 1)) {
      state = { last: seq - 1, waiting: new Map(), repairing: false };
      this.rooms.set(room, state);
    }
    if (seq <= state.last || state.waiting.has(seq)) return;
    state.waiting.set(seq, deliver);
    this.drain(state);
    if (state.waiting.size > 0) void this.repair(adapter, room, state);
  }

  /** Delivers every waiting event that follows the last one delivered. */
  private drain(state: RoomState): void {
    for (
      let next = state.waiting.get(state.last + 1);
      next;
      next = state.waiting.get(state.last + 1)
    ) {
      state.waiting.delete(state.last + 1);
      state.last++;
      next();
    }
  }

  /** Asks the session's holder for the events of the gap, and delivers them in place. */
  private async repair(adapter: HookableAdapter, room: string, state: RoomState): Promise<void> {
    if (state.repairing) return;
    state.repairing = true;
    const sessionId = sessionOf(room);
    try {
      while (state.waiting.size > 0) {
        const firstWaiting = Math.min(...state.waiting.keys());
        const missing = await this.requests.events(sessionId, state.last, firstWaiting - 1);
        if (missing === null) {
          // Never handed out (an instance took the session over above them): no gap at all.
          state.last = Math.max(state.last, firstWaiting - 1);
        } else {
          for (const event of missing) {
            if (event.seq > state.last && !state.waiting.has(event.seq)) {
              state.waiting.set(event.seq, () => localEmit(adapter, room, event));
            }
          }
        }
        const before = state.last;
        this.drain(state);
        // Nothing moved: what is missing cannot be had; skip it rather than hold the room.
        if (state.last === before && state.waiting.size > 0) {
          const next = Math.min(...state.waiting.keys());
          this.logger.warn(`Events ${state.last + 1}–${next - 1} of ${room} were lost`);
          state.last = next - 1;
          this.drain(state);
        }
      }
    } catch (error) {
      this.logger.warn(`Repairing the events of ${room} failed: ${errorMessage(error)}`);
      // Skip to what is here (if anything still waits), never back.
      if (state.waiting.size > 0) {
        state.last = Math.max(state.last, Math.min(...state.waiting.keys()) - 1);
        this.drain(state);
      }
    } finally {
      state.repairing = false;
    }
  }
}

function isRoomEvent(message: ClusterMessage): message is Broadcast {
  if (message.type !== MessageType.BROADCAST) return false;
  const { data } = message;
  if (data.requestId !== undefined) return false;
  const rooms = data.opts.rooms;
  if (rooms.length !== 1 || !rooms[0].startsWith(ROOM_PREFIX)) return false;
  const payload = (data.packet as { data?: unknown[] }).data?.[1];
  return (
    typeof payload === 'object' &&
    payload !== null &&
    typeof (payload as { seq?: unknown }).seq === 'number'
  );
}

function roomOf(message: Broadcast): string {
  return message.data.opts.rooms[0];
}

/** The session of a session room. */
function sessionOf(room: string): string {
  return room.slice(ROOM_PREFIX.length);
}

/** The room event's seq (checked to be a number by {@link isRoomEvent}). */
function seqOf(message: Broadcast): number {
  return (message.data.packet as { data: [string, { seq: number }] }).data[1].seq;
}

/** An event fetched from the holder, to this instance's sockets in the room only. */
function localEmit(adapter: HookableAdapter, room: string, event: LoggedEvent): void {
  adapter.nsp.local.to(room).emit(event.event, event);
}
