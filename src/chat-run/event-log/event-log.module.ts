import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { SessionsModule } from '../../sessions/sessions.module';
import { EVENT_LOG_OPTIONS, EventLogOptions } from './event-log.options';
import { EventLog } from './event-log.service';

/** The stored event log (seq numbers and replay); options come from the validated config. */
@Module({
  imports: [SessionsModule],
  providers: [
    {
      provide: EVENT_LOG_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Partial<EventLogOptions> => ({
        window: config.chatRun.eventLogWindow,
      }),
    },
    EventLog,
  ],
  exports: [EventLog],
})
export class EventLogModule {}
