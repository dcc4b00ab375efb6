import { EVENT_LOG_ENTITIES } from '../chat-run/event-log/event-log.entities';
import { CompressionSnapshotEntity } from '../compression/compression-snapshot.entity';
import { RunEntity } from '../chat-run/runs/run.entity';
import { HermesCleanupTask } from '../hermes/home/hermes-cleanup-task.entity';
import { MessageEntity } from '../sessions/message.entity';
import { SessionEntity } from '../sessions/session.entity';
import { RunUsageEntity } from '../usage/run-usage.entity';

/** Every entity; feature modules add theirs here as the schema grows. */
export const ENTITIES = [
  SessionEntity,
  MessageEntity,
  HermesCleanupTask,
  RunEntity,
  ...EVENT_LOG_ENTITIES,
  CompressionSnapshotEntity,
  RunUsageEntity,
];
