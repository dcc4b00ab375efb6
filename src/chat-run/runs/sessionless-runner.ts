import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { AppConfig } from '../../config/app-config';
import { HermesClient } from '../../hermes/hermes.client';
import { isTerminalEvent } from '../../hermes/hermes-events';
import { ChatSocket, SessionEmitter } from '../session-emitter';
import { flattenInput, type ContentBlock } from '../../content/content-blocks';

export interface SessionlessRun {
  input: string | ContentBlock[];
  profile: string;
  model?: string;
  instructions?: string;
}

/**
 * A `run` without `session_id` (the reference allows it): the events go to the calling socket
 * only and nothing is stored. The stream is closed when that socket goes away.
 */
@Injectable()
export class SessionlessRunner {
  private readonly logger = new Logger(SessionlessRunner.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly emitter: SessionEmitter,
    private readonly config: AppConfig,
  ) {}

  start(socket: ChatSocket, run: SessionlessRun): void {
    void this.execute(socket, run);
  }

  private async execute(socket: ChatSocket, run: SessionlessRun): Promise<void> {
    let subscription: Subscription | undefined;
    let gone = false;
    const onDisconnect = (): void => {
      gone = true;
      subscription?.unsubscribe();
    };
    socket.once('disconnect', onDisconnect);
    const done = (): void => void socket.off('disconnect', onDisconnect);
    try {
      const created = await this.hermes.createRun(
        run.profile,
        {
          input: flattenInput(run.input),
          ...(run.model ? { model: run.model } : {}),
          instructions: [this.config.chatRun.systemPrompt, run.instructions ?? '']
            .filter((part) => part.length > 0)
            .join('\n'),
        },
        `gw_${randomBytes(12).toString('hex')}`,
      );
      // Nobody is left to read it: the upstream run is stopped rather than left to run alone.
      if (gone) return void this.hermes.stopRun(run.profile, created.runId).catch(done);
      this.emitter.toSocket(socket, 'run.started', {
        run_id: created.runId,
        status: created.status,
        queue_length: 0,
      });
      subscription = this.hermes.runEvents(run.profile, created.runId).subscribe({
        next: (event) => {
          const payload = isTerminalEvent(event)
            ? { ...event.payload, queue_remaining: 0 }
            : event.payload;
          this.emitter.toSocket(socket, event.payload.event, payload);
        },
        error: (error: unknown) => {
          done();
          this.fail(socket, error);
        },
        complete: done,
      });
    } catch (error) {
      done();
      this.fail(socket, error);
    }
  }

  private fail(socket: ChatSocket, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(`Session-less run failed: ${message}`);
    this.emitter.toSocket(socket, 'run.failed', {
      error: message,
      code: 'upstream_error',
      queue_remaining: 0,
    });
  }
}
