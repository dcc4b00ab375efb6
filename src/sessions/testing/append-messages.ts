import type { GroupCommit } from '../../database/sql/group-commit';
import type { NewMessage } from '../session.types';
import type { TranscriptStore } from '../transcript.store';

/**
 * For specs and e2e seeding: stores messages as a run would (counted, in order, with the
 * session's counters and preview), in one transaction. Resolves to their ids.
 */
export async function appendMessages(
  transcripts: TranscriptStore,
  commit: GroupCommit,
  sessionId: string,
  messages: NewMessage[],
): Promise<number[]> {
  const counted = await transcripts.count(messages);
  return commit.write(async (tx) => {
    const at = Date.now() / 1000;
    const ids = await transcripts.insertMessages(tx, sessionId, counted, at);
    await transcripts.touchSession(tx, sessionId, {
      addedMessages: messages.length,
      previewFrom: messages.find((message) => message.role === 'user')?.content,
      at,
    });
    return ids;
  });
}
