import request from 'supertest';
import { GroupCommit } from '../../src/database/sql/group-commit';
import { SqlClient } from '../../src/database/sql/sql-client';
import type { NewMessage } from '../../src/sessions/session.types';
import { appendMessages } from '../../src/sessions/testing/append-messages';
import { TranscriptStore } from '../../src/sessions/transcript.store';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

describe('Sessions REST API (e2e)', () => {
  let t: TestApp;
  const api = () => request(t.url);

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
  });

  /** Seeds a transcript through the store itself (the socket layer is what writes it live). */
  const seed = (sessionId: string, messages: NewMessage[]) =>
    appendMessages(t.app.get(TranscriptStore), t.app.get(GroupCommit), sessionId, messages);

  const create = async (body: Record<string, unknown>) => {
    const res = await api().post('/api/sessions').set(t.auth).send(body).expect(201);
    return res.body as { id: string; last_active: number };
  };

  describe('auth', () => {
    it('answers 401 without a token, with a wrong token and with a malformed header', async () => {
      for (const headers of [
        {},
        { Authorization: 'Bearer wrong-token' },
        { Authorization: t.token },
      ]) {
        const res = await api().get('/api/sessions').set(headers).expect(401);
        expect(res.body).toEqual({
          statusCode: 401,
          code: 'unauthorized',
          message: 'Missing or invalid bearer token',
        });
      }
    });

    it('leaves health and the API docs open', async () => {
      const health = await api().get('/api/health').expect(200);
      expect(health.body.status).toBe('ok');
      expect(health.body.details.database.status).toBe('up');
      await api().get('/api/docs').expect(200);
      const docs = await api().get('/api/docs-json').expect(200);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/sessions',
          '/api/sessions/search',
          '/api/sessions/{id}',
          '/api/sessions/{id}/messages',
          '/api/sessions/{id}/export',
          '/api/sessions/{id}/usage',
          '/api/usage/stats',
          '/api/health',
        ]),
      );
      // The usage routes are documented with their response shapes (the Swagger CLI plugin).
      const stats = docs.body.paths['/api/usage/stats'].get;
      expect(stats.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
        'days',
        'profile',
      ]);
      expect(docs.body.components.schemas.UsageStatsDto.properties).toHaveProperty('by_day');
    });
  });

  describe('POST /api/sessions', () => {
    it('creates a session with a chosen id and answers 409 when it exists', async () => {
      const res = await api()
        .post('/api/sessions')
        .set(t.auth)
        .send({
          id: 'chosen-1',
          title: 'Hello',
          workspace: '/srv/app',
          model: 'm-1',
          profile: 'default',
        })
        .expect(201);
      expect(res.body).toMatchObject({
        id: 'chosen-1',
        title: 'Hello',
        workspace: '/srv/app',
        model: 'm-1',
        profile: 'default',
        message_count: 0,
        input_tokens: 0,
        preview: null,
      });
      expect(res.body.created_at).toBeCloseTo(Date.now() / 1000, -1);
      const again = await api()
        .post('/api/sessions')
        .set(t.auth)
        .send({ id: 'chosen-1' })
        .expect(409);
      expect(again.body.code).toBe('session_exists');
    });

    it('generates an id when none is given', async () => {
      const res = await api().post('/api/sessions').set(t.auth).send({}).expect(201);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it.each([
      [{ id: 'bad id with spaces' }, 'id'],
      [{ id: 'x'.repeat(129) }, 'id'],
      [{ title: 42 }, 'title'],
      [{ unknown: true }, 'unknown'],
      [{ profile: '../etc' }, 'profile'],
    ])('rejects %j naming the field', async (body, field) => {
      const res = await api().post('/api/sessions').set(t.auth).send(body).expect(400);
      expect(res.body.code).toBe('invalid_payload');
      expect(res.body.message).toContain(field);
    });

    it('rejects a body that is not JSON with a 400, not a 500', async () => {
      const res = await api()
        .post('/api/sessions')
        .set(t.auth)
        .set('Content-Type', 'application/json')
        .send('{not json')
        .expect(400);
      expect(res.body.code).toBe('invalid_payload');
    });
  });

  describe('GET /api/sessions (pagination)', () => {
    const profile = 'pager';
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        ids.push((await create({ id: `page-${i}`, profile })).id);
        // Activity decides the order: touch them in id order, so page-4 is the most recent.
        await seed(`page-${i}`, [{ role: 'user', content: `message ${i}` }]);
      }
    });

    it('lists most recently active first, across pages, with no gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await api()
          .get('/api/sessions')
          .query({ profile, limit: 2, ...(cursor ? { cursor } : {}) })
          .set(t.auth)
          .expect(200);
        seen.push(...res.body.items.map((s: { id: string }) => s.id));
        cursor = res.body.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      expect(pages).toBe(3);
    });

    it('gives a null cursor when the page is exactly the rest', async () => {
      const res = await api()
        .get('/api/sessions')
        .query({ profile, limit: 5 })
        .set(t.auth)
        .expect(200);
      expect(res.body.items).toHaveLength(5);
      expect(res.body.nextCursor).toBeNull();
    });

    it('returns an empty page for an unknown profile', async () => {
      const res = await api()
        .get('/api/sessions')
        .query({ profile: 'nobody' })
        .set(t.auth)
        .expect(200);
      expect(res.body).toEqual({ items: [], nextCursor: null });
    });

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 201 }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ cursor: 'garbage' }, 'cursor'],
    ])('rejects %j', async (query, word) => {
      const res = await api().get('/api/sessions').query(query).set(t.auth).expect(400);
      expect(['invalid_payload', 'invalid_cursor']).toContain(res.body.code);
      expect(res.body.message).toContain(word);
    });
  });

  describe('messages', () => {
    const id = 'transcript';

    beforeAll(async () => {
      await create({ id });
      const messages: NewMessage[] = [];
      for (let i = 1; i <= 25; i++)
        messages.push({ role: i % 2 ? 'user' : 'assistant', content: `m${i}` });
      messages.push({
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{"path":"/"}' } },
        ],
      });
      messages.push({ role: 'tool', content: 'a b c', toolCallId: 'call_1', toolName: 'ls' });
      await seed(id, [
        { role: 'user', content: 'First\nline   of the user text, which is long enough' },
      ]);
      await seed(id, messages);
    });

    it('keeps the counters and the preview of the first user text', async () => {
      const res = await api().get(`/api/sessions/${id}`).set(t.auth).expect(200);
      expect(res.body.message_count).toBe(28);
      expect(res.body.preview).toBe('First line of the user text, which is long enough');
    });

    it('pages the transcript newest page first, each page in order', async () => {
      const first = await api()
        .get(`/api/sessions/${id}/messages`)
        .query({ limit: 10 })
        .set(t.auth)
        .expect(200);
      expect(first.body.hasMore).toBe(true);
      const contents = first.body.messages.map((m: { content: string }) => m.content);
      expect(contents.slice(0, 8)).toEqual([
        'm18',
        'm19',
        'm20',
        'm21',
        'm22',
        'm23',
        'm24',
        'm25',
      ]);
      const [call, result] = first.body.messages.slice(8);
      expect(call.tool_calls).toEqual([
        { id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{"path":"/"}' } },
      ]);
      expect(result).toMatchObject({
        role: 'tool',
        tool_call_id: 'call_1',
        tool_name: 'ls',
        content: 'a b c',
      });

      const all: number[] = first.body.messages.map((m: { id: number }) => m.id);
      let before = all[0];
      let hasMore = true;
      while (hasMore) {
        const page = await api()
          .get(`/api/sessions/${id}/messages`)
          .query({ limit: 10, before })
          .set(t.auth)
          .expect(200);
        const pageIds: number[] = page.body.messages.map((m: { id: number }) => m.id);
        all.unshift(...pageIds);
        before = pageIds[0];
        hasMore = page.body.hasMore;
      }
      expect(all).toHaveLength(28);
      expect([...all].sort((a, b) => a - b)).toEqual(all);
      expect(new Set(all).size).toBe(28);
    });

    it('answers 404 for an unknown session and 400 for a bad page size', async () => {
      const missing = await api().get('/api/sessions/nope/messages').set(t.auth).expect(404);
      expect(missing.body).toMatchObject({ statusCode: 404, code: 'unknown_session' });
      await api()
        .get(`/api/sessions/${id}/messages`)
        .query({ limit: 5000 })
        .set(t.auth)
        .expect(400);
      await api().get(`/api/sessions/${id}/messages`).query({ before: -1 }).set(t.auth).expect(400);
    });

    it('exports JSON and Markdown as downloads', async () => {
      const json = await api().get(`/api/sessions/${id}/export`).set(t.auth).expect(200);
      expect(json.headers['content-disposition']).toBe(`attachment; filename="session-${id}.json"`);
      const body = JSON.parse(json.text);
      expect(body.session.id).toBe(id);
      expect(body.messages).toHaveLength(28);
      expect(body.messages[27]).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });

      const md = await api()
        .get(`/api/sessions/${id}/export`)
        .query({ format: 'markdown' })
        .set(t.auth)
        .expect(200);
      expect(md.headers['content-type']).toMatch(/^text\/markdown/);
      expect(md.headers['content-disposition']).toBe(`attachment; filename="session-${id}.md"`);
      expect(md.text).toContain('## Tool result (ls)');
      expect(md.text).toContain('**Tool call** `ls` (call_1)');

      await api()
        .get(`/api/sessions/${id}/export`)
        .query({ format: 'pdf' })
        .set(t.auth)
        .expect(400);
      await api().get('/api/sessions/nope/export').set(t.auth).expect(404);
    });
  });

  describe('search', () => {
    beforeAll(async () => {
      await create({ id: 'search-title', title: 'Kubernetes upgrade plan' });
      await create({ id: 'search-body' });
      await seed('search-body', [
        { role: 'user', content: 'how do I drain a node?' },
        {
          role: 'assistant',
          content: 'Use kubectl drain, then upgrade the KUBERNETES node. 100% safe_ish',
        },
      ]);
    });

    it('matches titles and message content case-insensitively, with snippets and message ids', async () => {
      const res = await api()
        .get('/api/sessions/search')
        .query({ q: 'kubernetes' })
        .set(t.auth)
        .expect(200);
      const byId = new Map(
        res.body.hits.map((h: { session: { id: string } }) => [h.session.id, h]),
      );
      expect(byId.get('search-title')).toMatchObject({
        message_id: null,
        snippet: 'Kubernetes upgrade plan',
      });
      const bodyHit = byId.get('search-body') as { message_id: number; snippet: string };
      expect(bodyHit.snippet).toContain('KUBERNETES');
      const page = await api().get('/api/sessions/search-body/messages').set(t.auth).expect(200);
      expect(page.body.messages[1].id).toBe(bodyHit.message_id);
    });

    it('treats LIKE wildcards literally', async () => {
      const percent = await api()
        .get('/api/sessions/search')
        .query({ q: '100%' })
        .set(t.auth)
        .expect(200);
      expect(percent.body.hits.map((h: { session: { id: string } }) => h.session.id)).toEqual([
        'search-body',
      ]);
      const underscore = await api()
        .get('/api/sessions/search')
        .query({ q: 'e_i' })
        .set(t.auth)
        .expect(200);
      expect(underscore.body.hits.map((h: { session: { id: string } }) => h.session.id)).toEqual([
        'search-body',
      ]);
      const none = await api()
        .get('/api/sessions/search')
        .query({ q: 'zzz_' })
        .set(t.auth)
        .expect(200);
      expect(none.body.hits).toEqual([]);
    });

    it('requires q', async () => {
      const res = await api().get('/api/sessions/search').set(t.auth).expect(400);
      expect(res.body.message).toContain('q');
    });
  });

  describe('PATCH and DELETE', () => {
    it('updates title and workspace, and clears them with null', async () => {
      await create({ id: 'patchable', title: 'Old' });
      const res = await api()
        .patch('/api/sessions/patchable')
        .set(t.auth)
        .send({ title: 'New', workspace: '/w' })
        .expect(200);
      expect(res.body).toMatchObject({ title: 'New', workspace: '/w' });
      const cleared = await api()
        .patch('/api/sessions/patchable')
        .set(t.auth)
        .send({ title: null })
        .expect(200);
      expect(cleared.body).toMatchObject({ title: null, workspace: '/w' });
      await api().patch('/api/sessions/patchable').set(t.auth).send({ profile: 'x' }).expect(400);
      await api().patch('/api/sessions/nope').set(t.auth).send({ title: 'x' }).expect(404);
    });

    it('deletes a session with its messages', async () => {
      await create({ id: 'doomed' });
      const [stored] = await seed('doomed', [{ role: 'user', content: 'unique-doomed-text' }]);
      expect(stored).toBeGreaterThan(0);
      await api().delete('/api/sessions/doomed').set(t.auth).expect(204);
      await api().get('/api/sessions/doomed').set(t.auth).expect(404);
      await api().delete('/api/sessions/doomed').set(t.auth).expect(404);
      const search = await api()
        .get('/api/sessions/search')
        .query({ q: 'unique-doomed-text' })
        .set(t.auth)
        .expect(200);
      expect(search.body.hits).toEqual([]);
      // The cascade removed the message row itself, not only the session.
      const sql = t.app.get(SqlClient);
      const rows = await sql.all(
        sql.statement(`SELECT id FROM ${sql.table('messages')} WHERE id = ?`),
        [stored],
      );
      expect(rows).toEqual([]);
    });
  });
});
