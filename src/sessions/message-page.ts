import type { Repository } from 'typeorm';
import { MessageEntity } from './message.entity';
import { toMessage } from './session.mapper';
import type { MessagePage, MessagePageQuery } from './session.types';

/**
 * One page of a session's transcript (newest first, each page chronological) with the session's
 * message count read by the same statement: one snapshot, so the count agrees with the page even
 * while a run is writing (a message stored meanwhile is in both or in neither).
 */
export async function readMessagePage(
  messages: Repository<MessageEntity>,
  sessionId: string,
  { before, skip, limit }: MessagePageQuery,
): Promise<MessagePage> {
  const query = messages
    .createQueryBuilder('m')
    .addSelect(
      (count) =>
        count.select('COUNT(*)').from(MessageEntity, 'c').where('c.session_id = :sessionId'),
      'total',
    )
    .where('m.session_id = :sessionId', { sessionId })
    .orderBy('m.id', 'DESC')
    .limit(limit + 1);
  if (before !== undefined) query.andWhere('m.id < :before', { before });
  if (skip) query.offset(skip);
  const { entities, raw } = await query.getRawAndEntities<{ total: string | number }>();
  // No row to carry the count: nothing in the page asked for (counted on its own), or no message
  // at all.
  const total =
    raw.length > 0
      ? Number(raw[0].total)
      : before === undefined && !skip
        ? 0
        : await messages.countBy({ sessionId });
  return {
    messages: entities.slice(0, limit).reverse().map(toMessage),
    hasMore: entities.length > limit,
    total,
  };
}
