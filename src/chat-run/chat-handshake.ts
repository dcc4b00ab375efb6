import { Injectable } from '@nestjs/common';
import { AuthTokenService } from '../common/auth/auth-token.service';
import { HermesProfiles } from '../hermes/hermes-profiles';
import type { ChatSocket } from './session-emitter';

/**
 * The `/chat-run` handshake, as namespace middleware: the token (`auth.token`) must be the
 * server's, and the profile (`query.profile`, default `default`) must exist. A refused socket
 * gets `connect_error` with the reason and never reaches a handler.
 */
@Injectable()
export class ChatHandshake {
  constructor(
    private readonly auth: AuthTokenService,
    private readonly profiles: HermesProfiles,
  ) {}

  readonly admit = (socket: ChatSocket, next: (error?: Error) => void): void => {
    const token: unknown = socket.handshake.auth?.token;
    if (!this.auth.verify(typeof token === 'string' ? token : undefined)) {
      return next(new Error('Authentication failed'));
    }
    const requested = socket.handshake.query?.profile;
    const profile = typeof requested === 'string' && requested.length > 0 ? requested : 'default';
    if (!this.profiles.has(profile)) {
      return next(
        new Error(
          `Unknown profile '${profile}'; known profiles: ${this.profiles.names().join(', ')}`,
        ),
      );
    }
    socket.data.profile = profile;
    next();
  };
}
