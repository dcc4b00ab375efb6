import { Module } from '@nestjs/common';

/**
 * The `/chat-run` Socket.IO namespace (ChatRunGateway, RunQueueService, transcript folding,
 * event log). Built on the sessions store and the Hermes client; see the chat-run issue.
 */
@Module({})
export class ChatRunModule {}
