import { HermesCleanupTask } from '../hermes/home/hermes-cleanup-task.entity';
import { MessageEntity } from '../sessions/message.entity';
import { SessionEntity } from '../sessions/session.entity';

/** Every entity; feature modules add theirs here as the schema grows. */
export const ENTITIES = [SessionEntity, MessageEntity, HermesCleanupTask];
