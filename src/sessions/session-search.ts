import { DataSource } from 'typeorm';
import { MessageEntity } from './message.entity';
import { makeSnippet, toSession } from './session.mapper';
import { SessionEntity } from './session.entity';
import type { SearchHit } from './session.types';

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
const likePattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Sessions whose title, preview or message content contains `text` (case-insensitive, portable
 * LIKE), most recently active first; a message hit names the newest matching message.
 */
export async function searchSessions(
  dataSource: DataSource,
  text: string,
  limit: number,
): Promise<SearchHit[]> {
  const pattern = likePattern(text);
  const byMeta = await dataSource
    .getRepository(SessionEntity)
    .createQueryBuilder('s')
    .where("LOWER(COALESCE(s.title, '')) LIKE :pattern ESCAPE '\\'", { pattern })
    .orWhere("LOWER(COALESCE(s.preview, '')) LIKE :pattern ESCAPE '\\'", { pattern })
    .orderBy('s.last_active', 'DESC')
    .limit(limit)
    .getMany();
  // The newest matching message of each session, most recent sessions first.
  const newestMatches = await dataSource
    .getRepository(MessageEntity)
    .createQueryBuilder('m')
    .select('MAX(m.id)', 'id')
    .where("LOWER(m.content) LIKE :pattern ESCAPE '\\'", { pattern })
    .groupBy('m.session_id')
    .orderBy('MAX(m.id)', 'DESC')
    .limit(limit)
    .getRawMany<{ id: number | string }>();
  const matched = newestMatches.length
    ? await dataSource
        .getRepository(MessageEntity)
        .createQueryBuilder('m')
        .innerJoinAndSelect('m.session', 's')
        .whereInIds(newestMatches.map((row) => Number(row.id)))
        .getMany()
    : [];

  const hits = new Map<string, SearchHit>();
  for (const session of byMeta) {
    const source = (session.title ?? '').toLowerCase().includes(text.toLowerCase())
      ? (session.title ?? '')
      : (session.preview ?? '');
    hits.set(session.id, {
      session: toSession(session),
      messageId: null,
      snippet: makeSnippet(source, text),
    });
  }
  for (const message of matched) {
    if (!message.session) continue;
    const existing = hits.get(message.sessionId);
    hits.set(message.sessionId, {
      session: toSession(message.session),
      messageId: message.id,
      snippet: existing?.snippet ?? makeSnippet(message.content, text),
    });
  }
  return [...hits.values()]
    .sort((a, b) => b.session.lastActive - a.session.lastActive)
    .slice(0, limit);
}
