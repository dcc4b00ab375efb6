import request from 'supertest';
import { GroupCommit } from '../../src/database/sql/group-commit';
import { appendMessages } from '../../src/sessions/testing/append-messages';
import { TranscriptStore } from '../../src/sessions/transcript.store';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient } from './support/chat-client';
import {
  batchDeleteResult,
  contextLength,
  hermesMessage,
  messagesPage,
  okResponse,
  searchResponse,
  sessionDetailResponse,
  sessionList,
  sessionsUsage,
  sessionSummary,
  type SessionSummary,
  sessionUsage,
  usageStats,
} from './support/reference-client-types';
import { expectShape, shapeProblems } from './support/shape';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/**
 * The session routes of the hermes-studio web client under `/api/hermes/...`, on a real app over
 * HTTP, each answer checked against the client's own declared interfaces
 * (`support/reference-client-types.ts`) and against what the gateway stored.
 */
describe('hermes-studio session routes (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  const api = () => request(t.url);

  /** A session with a real run: tool call, tool result, reply and the upstream's usage. */
  const CHAT = 'ref-chat';
  /** A session made over REST with a title, a workspace and a seeded transcript. */
  const NOTES = 'ref-notes';

  const runChat = async (sessionId: string, input: string): Promise<void> => {
    const client = await ChatClient.connect(t.url, { token: t.token });
    try {
      hermes.setNextScenario({
        deltas: 2,
        deltaText: 'reply{i} ',
        toolsAfterDeltas: 1,
        tools: [{ name: 'terminal', preview: 'ls', toolCallId: 'call_up_1', output: 'a b' }],
        usage: {
          input_tokens: 110,
          output_tokens: 70,
          cache_read_tokens: 30,
          cache_write_tokens: 5,
          reasoning_tokens: 9,
        },
      });
      await client.request('run', { session_id: sessionId, input, model: 'hermes-4' });
      await client.waitFor('run.completed', (e) => e.session_id === sessionId);
    } finally {
      client.close();
    }
  };

  const storedMessages = async (sessionId: string) => {
    const res = await api().get(`/api/sessions/${sessionId}/messages`).set(t.auth).expect(200);
    return res.body.messages as { id: number; role: string; content: string }[];
  };

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    t = await startTestApp({
      env: { HERMES_URL: await hermes.start(), HERMES_CONTEXT_LENGTH: '64000' },
    });
    await runChat(CHAT, 'List the files please');
    await api()
      .post('/api/sessions')
      .set(t.auth)
      .send({ id: NOTES, title: 'Garden notes', workspace: '/srv/garden' })
      .expect(201);
    await appendMessages(t.app.get(TranscriptStore), t.app.get(GroupCommit), NOTES, [
      { role: 'user', content: 'When do tomatoes ripen?' },
      { role: 'assistant', content: 'Tomatoes ripen in late summer, about 60 days in.' },
    ]);
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  describe('the shape checker', () => {
    it('reports a missing field, a wrong type and a field the interface lacks', () => {
      const problems = shapeProblems(
        { id: 'a', source: 'x', model: 3, surprise: true },
        sessionSummary,
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          '$.surprise: not in the interface',
          '$.model: expected string, got 3',
          '$.started_at: missing',
        ]),
      );
      expect(shapeProblems({ id: 1.5 }, hermesMessage)).toContain(
        '$.id: expected an integer, got 1.5',
      );
      expect(() => expectShape({ sessions: [{}] }, sessionList)).toThrow(/\$\.sessions\[0\]\.id/);
    });
  });

  describe('auth', () => {
    const routes: [method: 'get' | 'post' | 'delete', path: string][] = [
      ['get', '/api/hermes/sessions'],
      ['get', '/api/hermes/sessions/hermes'],
      ['get', `/api/hermes/sessions/hermes/${CHAT}`],
      ['get', `/api/hermes/sessions/${CHAT}`],
      ['get', `/api/hermes/sessions/conversations/${CHAT}/messages/paginated`],
      ['delete', `/api/hermes/sessions/${CHAT}`],
      ['post', '/api/hermes/sessions/batch-delete'],
      ['post', `/api/hermes/sessions/${CHAT}/rename`],
      ['post', `/api/hermes/sessions/${CHAT}/workspace`],
      ['get', '/api/hermes/search/sessions?q=x'],
      ['get', `/api/hermes/sessions/${CHAT}/export`],
      ['get', '/api/hermes/sessions/usage?ids=a'],
      ['get', `/api/hermes/sessions/${CHAT}/usage`],
      ['get', '/api/hermes/sessions/context-length'],
      ['get', '/api/hermes/usage/stats'],
    ];

    it.each(routes)('%s %s needs the bearer token', async (method, path) => {
      const res = await api()[method](path).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, code: 'unauthorized' });
      await api()[method](path).set({ Authorization: 'Bearer wrong-token' }).expect(401);
    });

    it('takes ?token= on the export route only', async () => {
      await api().get(`/api/hermes/sessions/${CHAT}/export`).query({ token: t.token }).expect(200);
      await api().get(`/api/hermes/sessions/${CHAT}/export`).query({ token: 'wrong' }).expect(401);
      await api().get('/api/hermes/sessions').query({ token: t.token }).expect(401);
      await api().get(`/api/hermes/sessions/${CHAT}`).query({ token: t.token }).expect(401);
    });
  });

  describe('GET /api/hermes/sessions', () => {
    it('lists the sessions in the client’s shape, most recently active first', async () => {
      const res = await api().get('/api/hermes/sessions').set(t.auth).expect(200);
      const { sessions } = expectShape(res.body, sessionList);
      expect(sessions.map((s) => s.id)).toEqual([NOTES, CHAT]);
      const native = await api().get(`/api/sessions/${CHAT}`).set(t.auth).expect(200);
      expect(sessions[1]).toEqual({
        id: CHAT,
        source: 'api_server',
        model: 'hermes-4',
        title: 'List the files please',
        preview: 'List the files please',
        started_at: native.body.created_at,
        ended_at: null,
        last_active: native.body.last_active,
        message_count: native.body.message_count,
        tool_call_count: 0,
        input_tokens: 110,
        output_tokens: 70,
        cache_read_tokens: 30,
        cache_write_tokens: 5,
        reasoning_tokens: 9,
        billing_provider: null,
        estimated_cost_usd: 0,
        actual_cost_usd: null,
        cost_status: '',
        workspace: null,
      });
      expect(sessions[0]).toMatchObject({ title: 'Garden notes', workspace: '/srv/garden' });
    });

    it('honours limit and source', async () => {
      const one = await api().get('/api/hermes/sessions').query({ limit: 1 }).set(t.auth);
      expect(expectShape(one.body, sessionList).sessions.map((s) => s.id)).toEqual([NOTES]);
      const ours = await api()
        .get('/api/hermes/sessions')
        .query({ source: 'api_server' })
        .set(t.auth)
        .expect(200);
      expect(ours.body.sessions).toHaveLength(2);
      const other = await api()
        .get('/api/hermes/sessions')
        .query({ source: 'telegram' })
        .set(t.auth)
        .expect(200);
      expect(expectShape(other.body, sessionList)).toEqual({ sessions: [] });
    });

    it('honours profile, and ignores what it does not declare, as the client’s server did', async () => {
      // What newer versions of the client send along.
      const own = await api()
        .get('/api/hermes/sessions')
        .query({ profile: 'default', includeArchived: 'true', cursor: 'x' })
        .set(t.auth)
        .expect(200);
      expect(expectShape(own.body, sessionList).sessions.map((s) => s.id)).toEqual([NOTES, CHAT]);
      const other = await api()
        .get('/api/hermes/sessions')
        .query({ profile: 'research' })
        .set(t.auth)
        .expect(200);
      expect(other.body).toEqual({ sessions: [] });
      // The gateway's own routes still refuse a parameter they do not know.
      const native = await api().get('/api/sessions').query({ cursr: 'x' }).set(t.auth).expect(400);
      expect(native.body).toMatchObject({ code: 'invalid_payload' });
      expect(native.body.message).toContain('cursr');
    });

    it.each([
      [{ limit: 0 }],
      [{ limit: 'lots' }],
      [{ source: 'no spaces' }],
      [{ profile: '../x' }],
    ])('refuses %j naming the parameter', async (query) => {
      const res = await api().get('/api/hermes/sessions').query(query).set(t.auth).expect(400);
      expect(res.body.code).toBe('invalid_payload');
      expect(res.body.message).toContain(Object.keys(query)[0]);
    });
  });

  describe('the upstream history (/api/hermes/sessions/hermes)', () => {
    it('lists no session: the gateway keeps no upstream history', async () => {
      const res = await api()
        .get('/api/hermes/sessions/hermes')
        .query({ limit: 5 })
        .set(t.auth)
        .expect(200);
      expect(expectShape(res.body, sessionList)).toEqual({ sessions: [] });
    });

    it('has no session to show, not even one of the gateway', async () => {
      const res = await api().get(`/api/hermes/sessions/hermes/${CHAT}`).set(t.auth).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'unknown_session' });
    });
  });

  describe('GET /api/hermes/sessions/:id', () => {
    it('gives the session with its whole transcript, ids as stored', async () => {
      const res = await api().get(`/api/hermes/sessions/${CHAT}`).set(t.auth).expect(200);
      const { session } = expectShape(res.body, sessionDetailResponse);
      const stored = await storedMessages(CHAT);
      expect(session.messages.map((m) => m.id)).toEqual(stored.map((m) => m.id));
      expect(session.message_count).toBe(stored.length);
      expect(session.messages.map((m) => m.role)).toEqual([
        'user',
        'assistant',
        'tool',
        'assistant',
      ]);
      const [user, call, result, reply] = session.messages;
      expect(user).toMatchObject({ session_id: CHAT, content: 'List the files please' });
      expect(user.token_count).toBeGreaterThan(0);
      expect(call.tool_calls).toEqual([
        {
          id: 'call_up_1',
          type: 'function',
          function: expect.objectContaining({ name: 'terminal' }),
        },
      ]);
      expect(result).toMatchObject({
        tool_call_id: 'call_up_1',
        tool_name: 'terminal',
        content: 'a b',
      });
      expect(reply).toMatchObject({ content: 'reply1 ', finish_reason: 'stop', tool_calls: null });

      // The ids are the store's: the same on every read.
      const again = await api().get(`/api/hermes/sessions/${CHAT}`).set(t.auth).expect(200);
      expect(again.body.session.messages).toEqual(session.messages);
    });

    it('answers 404 unknown_session for a session that does not exist', async () => {
      const res = await api().get('/api/hermes/sessions/nope').set(t.auth).expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'unknown_session' });
      await api().get('/api/hermes/sessions/bad%20id').set(t.auth).expect(400);
    });
  });

  describe('GET /api/hermes/sessions/conversations/:id/messages/paginated', () => {
    const page = (id: string, query: Record<string, unknown>) =>
      api()
        .get(`/api/hermes/sessions/conversations/${id}/messages/paginated`)
        .query(query)
        .set(t.auth);

    it('pages from the newest message, each page chronological', async () => {
      const stored = await storedMessages(CHAT);
      const ids = stored.map((m) => m.id);
      const detail = await api().get(`/api/hermes/sessions/${CHAT}`).set(t.auth).expect(200);
      const { messages: _all, ...session } = detail.body.session;

      const newest = expectShape(
        (await page(CHAT, { offset: 0, limit: 3 }).expect(200)).body,
        messagesPage,
      );
      expect(newest).toEqual({
        session,
        messages: detail.body.session.messages.slice(1),
        total: 4,
        offset: 0,
        limit: 3,
        hasMore: true,
      });
      const older = (await page(CHAT, { offset: 3, limit: 3 }).expect(200)).body;
      expect(older).toMatchObject({ total: 4, offset: 3, limit: 3, hasMore: false });
      expect(older.messages.map((m: { id: number }) => m.id)).toEqual(ids.slice(0, 1));
      const past = (await page(CHAT, { offset: 9, limit: 3 }).expect(200)).body;
      expect(past).toMatchObject({ messages: [], total: 4, hasMore: false });
    });

    it('loads what resume left out, as the client does when its user scrolls up', async () => {
      const LONG = 'ref-long';
      await api().post('/api/sessions').set(t.auth).send({ id: LONG }).expect(201);
      try {
        const turns = Array.from({ length: 230 }, (_, i) => ({
          role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
          content: `turn ${i}`,
        }));
        await appendMessages(t.app.get(TranscriptStore), t.app.get(GroupCommit), LONG, turns);
        // The client resumes a chat without an ack, and shows the page `resumed` carries.
        const client = await ChatClient.connect(t.url, { token: t.token });
        client.socket.emit('resume', { session_id: LONG });
        const resumed = await client.waitFor('resumed').finally(() => client.close());
        const shown = resumed.messages as { id: number; content: string }[];
        expect(resumed).toMatchObject({ hasMoreBefore: true, messageTotal: 230 });
        expect(shown.length).toBeLessThan(230);
        // The client's first offset: the stored messages `resumed` gave.
        expect(resumed.messageLoadedCount).toBe(shown.length);
        const offset = resumed.messageLoadedCount as number;

        const rest = expectShape(
          (await page(LONG, { offset, limit: 300 }).expect(200)).body,
          messagesPage,
        );
        expect(rest).toMatchObject({ total: 230, offset, hasMore: false });
        const whole = [...rest.messages, ...shown].map((m) => m.content);
        expect(whole).toEqual(turns.map((turn) => turn.content));
      } finally {
        await api().delete(`/api/hermes/sessions/${LONG}`).set(t.auth).expect(200);
      }
    });

    it('answers 404 for an unknown session and 400 for a bad offset or limit', async () => {
      const unknown = await page('nope', {}).expect(404);
      expect(unknown.body).toMatchObject({ code: 'unknown_session' });
      for (const query of [{ offset: -1 }, { limit: 0 }, { limit: 1001 }, { offset: 'x' }]) {
        const res = await page(CHAT, query).expect(400);
        expect(res.body.code).toBe('invalid_payload');
        expect(res.body.message).toContain(Object.keys(query)[0]);
      }
    });
  });

  describe('GET /api/hermes/search/sessions', () => {
    it('finds message content with the matched message, a snippet and a rank', async () => {
      const res = await api()
        .get('/api/hermes/search/sessions')
        .query({ q: 'late SUMMER' })
        .set(t.auth)
        .expect(200);
      const { results } = expectShape(res.body, searchResponse);
      const reply = (await storedMessages(NOTES)).find((m) => m.role === 'assistant');
      expect(results).toEqual([
        expect.objectContaining({
          id: NOTES,
          matched_message_id: reply?.id,
          rank: 0,
          cost_status: '',
        }),
      ]);
      expect(results[0].snippet.toLowerCase()).toContain('late summer');
    });

    it('finds titles without a matched message, and honours source and limit', async () => {
      const res = await api()
        .get('/api/hermes/search/sessions')
        .query({ q: 'garden', source: 'api_server', limit: 5 })
        .set(t.auth)
        .expect(200);
      expect(expectShape(res.body, searchResponse).results).toEqual([
        expect.objectContaining({ id: NOTES, matched_message_id: null, snippet: 'Garden notes' }),
      ]);
      const other = await api()
        .get('/api/hermes/search/sessions')
        .query({ q: 'garden', source: 'cli' })
        .set(t.auth)
        .expect(200);
      expect(expectShape(other.body, searchResponse)).toEqual({ results: [] });
    });

    it('needs q', async () => {
      const res = await api().get('/api/hermes/search/sessions').set(t.auth).expect(400);
      expect(res.body).toMatchObject({
        code: 'invalid_payload',
        message: expect.stringContaining('q'),
      });
    });
  });

  describe('POST /api/hermes/sessions/:id/rename', () => {
    it('renames, trimming the title', async () => {
      const res = await api()
        .post(`/api/hermes/sessions/${NOTES}/rename`)
        .set(t.auth)
        .send({ title: '  Kitchen garden  ' })
        .expect(200);
      expect(expectShape(res.body, okResponse)).toEqual({ ok: true });
      const native = await api().get(`/api/sessions/${NOTES}`).set(t.auth).expect(200);
      expect(native.body.title).toBe('Kitchen garden');
    });

    it('answers 404 for an unknown session and 400 for a blank or missing title', async () => {
      const missing = await api()
        .post('/api/hermes/sessions/nope/rename')
        .set(t.auth)
        .send({ title: 'x' })
        .expect(404);
      expect(missing.body.code).toBe('unknown_session');
      for (const body of [{ title: '   ' }, {}, { title: 7 }]) {
        const res = await api()
          .post(`/api/hermes/sessions/${NOTES}/rename`)
          .set(t.auth)
          .send(body)
          .expect(400);
        expect(res.body).toMatchObject({
          code: 'invalid_payload',
          message: expect.stringContaining('title'),
        });
      }
    });
  });

  describe('POST /api/hermes/sessions/:id/workspace', () => {
    const workspaceOf = async (id: string) =>
      (await api().get(`/api/sessions/${id}`).set(t.auth).expect(200)).body.workspace as
        string | null;

    it('sets the workspace, and an empty one clears it', async () => {
      const set = await api()
        .post(`/api/hermes/sessions/${NOTES}/workspace`)
        .set(t.auth)
        .send({ workspace: '/srv/kitchen' })
        .expect(200);
      expect(expectShape(set.body, okResponse)).toEqual({ ok: true });
      expect(await workspaceOf(NOTES)).toBe('/srv/kitchen');
      await api()
        .post(`/api/hermes/sessions/${NOTES}/workspace`)
        .set(t.auth)
        .send({ workspace: '' })
        .expect(200);
      expect(await workspaceOf(NOTES)).toBeNull();
    });

    it('gives a chat not run yet its workspace (and stores nothing to clear one)', async () => {
      await api()
        .post('/api/hermes/sessions/ref-new-chat/workspace')
        .set(t.auth)
        .send({ workspace: '/srv/new' })
        .expect(200);
      expect(await workspaceOf('ref-new-chat')).toBe('/srv/new');
      await api()
        .post('/api/hermes/sessions/ref-never/workspace')
        .set(t.auth)
        .send({ workspace: '' })
        .expect(200);
      await api().get('/api/sessions/ref-never').set(t.auth).expect(404);
    });

    it('leaves such a chat to be titled by its first message, as a chat started by a run is', async () => {
      const id = 'ref-titled-later';
      const titleOf = async () => {
        const res = await api().get(`/api/hermes/sessions/${id}`).set(t.auth).expect(200);
        return (res.body as { session: SessionSummary }).session.title;
      };
      try {
        await api()
          .post(`/api/hermes/sessions/${id}/workspace`)
          .set(t.auth)
          .send({ workspace: '/srv/beds' })
          .expect(200);
        expect(await titleOf()).toBeNull();
        await runChat(id, 'Plan the raised garden beds');
        expect(await titleOf()).toBe('Plan the raised garden beds');
        // Only the first message titles it; a title given by the user stays.
        await runChat(id, 'And the paths between them');
        expect(await titleOf()).toBe('Plan the raised garden beds');
        await api()
          .post(`/api/hermes/sessions/${id}/rename`)
          .set(t.auth)
          .send({ title: 'Beds' })
          .expect(200);
        await runChat(id, 'One more thing');
        expect(await titleOf()).toBe('Beds');
      } finally {
        await api().delete(`/api/hermes/sessions/${id}`).set(t.auth).expect(200);
      }
    });

    it('needs a string', async () => {
      for (const body of [{}, { workspace: null }, { workspace: 3 }]) {
        const res = await api()
          .post(`/api/hermes/sessions/${NOTES}/workspace`)
          .set(t.auth)
          .send(body)
          .expect(400);
        expect(res.body.message).toContain('workspace');
      }
    });
  });

  describe('GET /api/hermes/sessions/:id/export', () => {
    /** The file name as the client takes it from `Content-Disposition`. */
    const fileName = (header: string | undefined) => {
      const match = /filename\*?=(?:UTF-8'')?([^;\n]+)/i.exec(header ?? '');
      return match ? decodeURIComponent(match[1].replace(/"/g, '')) : null;
    };

    it('downloads the session as JSON', async () => {
      const res = await api()
        .get(`/api/hermes/sessions/${CHAT}/export`)
        .query({ mode: 'full', ext: 'json', token: t.token })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(fileName(res.headers['content-disposition'])).toBe(`session-${CHAT}.json`);
      const body = JSON.parse(res.text);
      expect(body.session.id).toBe(CHAT);
      expect(body.messages.map((m: { id: number }) => m.id)).toEqual(
        (await storedMessages(CHAT)).map((m) => m.id),
      );
    });

    it('downloads the session as text', async () => {
      const res = await api()
        .get(`/api/hermes/sessions/${CHAT}/export`)
        .query({ mode: 'full', ext: 'txt' })
        .set(t.auth)
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(fileName(res.headers['content-disposition'])).toBe(`session-${CHAT}.txt`);
      expect(res.text).toContain('List the files please');
      expect(res.text).toContain('reply0');
    });

    it('gives the full transcript in compressed mode, as text unless asked otherwise', async () => {
      const res = await api()
        .get(`/api/hermes/sessions/${CHAT}/export`)
        .query({ mode: 'compressed', token: t.token })
        .expect(200);
      expect(fileName(res.headers['content-disposition'])).toBe(`session-${CHAT}.txt`);
      expect(res.text).toContain('List the files please');
    });

    it('answers 404 for an unknown session and 400 for a bad mode or extension', async () => {
      await api().get('/api/hermes/sessions/nope/export').query({ token: t.token }).expect(404);
      for (const query of [{ mode: 'tiny' }, { ext: 'pdf' }]) {
        const res = await api()
          .get(`/api/hermes/sessions/${CHAT}/export`)
          .query({ ...query, token: t.token })
          .expect(400);
        expect(res.body.message).toContain(Object.keys(query)[0]);
      }
    });
  });

  describe('usage', () => {
    it('GET /api/hermes/sessions/usage gives the token totals of the sessions asked for', async () => {
      const res = await api()
        .get('/api/hermes/sessions/usage')
        .query({ ids: `${CHAT},${NOTES},nope` })
        .set(t.auth)
        .expect(200);
      expect(expectShape(res.body, sessionsUsage)).toEqual({
        [CHAT]: { input_tokens: 110, output_tokens: 70 },
        [NOTES]: { input_tokens: 0, output_tokens: 0 },
      });
      const none = await api().get('/api/hermes/sessions/usage').set(t.auth).expect(200);
      expect(none.body).toEqual({});
      const bad = await api()
        .get('/api/hermes/sessions/usage')
        .query({ ids: 'ok,not ok' })
        .set(t.auth)
        .expect(400);
      expect(bad.body.message).toContain('ids');
    });

    it('GET /api/hermes/sessions/:id/usage gives one session’s, zeros for a chat never run', async () => {
      const res = await api().get(`/api/hermes/sessions/${CHAT}/usage`).set(t.auth).expect(200);
      expect(expectShape(res.body, sessionUsage)).toEqual({ input_tokens: 110, output_tokens: 70 });
      const fresh = await api()
        .get('/api/hermes/sessions/not-run-yet/usage')
        .set(t.auth)
        .expect(200);
      expect(expectShape(fresh.body, sessionUsage)).toEqual({ input_tokens: 0, output_tokens: 0 });
    });

    it('GET /api/hermes/sessions/context-length gives the profile’s context length', async () => {
      const res = await api().get('/api/hermes/sessions/context-length').set(t.auth).expect(200);
      expect(expectShape(res.body, contextLength)).toEqual({ context_length: 64000 });
      const named = await api()
        .get('/api/hermes/sessions/context-length')
        .query({ profile: 'default' })
        .set(t.auth)
        .expect(200);
      expect(named.body).toEqual({ context_length: 64000 });
      // Newer versions of the client name the provider and model too: ignored.
      const withModel = await api()
        .get('/api/hermes/sessions/context-length')
        .query({ profile: 'default', provider: 'nous', model: 'hermes-4' })
        .set(t.auth)
        .expect(200);
      expect(withModel.body).toEqual({ context_length: 64000 });
      const unknown = await api()
        .get('/api/hermes/sessions/context-length')
        .query({ profile: 'nope' })
        .set(t.auth)
        .expect(404);
      expect(unknown.body).toMatchObject({ code: 'unknown_profile' });
      await api()
        .get('/api/hermes/sessions/context-length')
        .query({ profile: '../x' })
        .set(t.auth)
        .expect(400);
    });

    it('GET /api/hermes/usage/stats adds up the period, every day listed', async () => {
      const res = await api()
        .get('/api/hermes/usage/stats')
        .query({ days: 7 })
        .set(t.auth)
        .expect(200);
      const stats = expectShape(res.body, usageStats);
      expect(stats).toMatchObject({
        total_input_tokens: 110,
        total_output_tokens: 70,
        total_cache_read_tokens: 30,
        total_cache_write_tokens: 5,
        total_reasoning_tokens: 9,
        total_sessions: 1,
        total_cost: 0,
        period_days: 7,
      });
      expect(stats.model_usage).toEqual([
        {
          model: 'hermes-4',
          input_tokens: 110,
          output_tokens: 70,
          cache_read_tokens: 30,
          cache_write_tokens: 5,
          reasoning_tokens: 9,
          sessions: 1,
        },
      ]);
      expect(stats.daily_usage).toHaveLength(7);
      expect(stats.daily_usage.at(-1)).toEqual({
        date: new Date().toISOString().slice(0, 10),
        input_tokens: 110,
        output_tokens: 70,
        cache_read_tokens: 30,
        cache_write_tokens: 5,
        sessions: 1,
        errors: 0,
        cost: 0,
      });
      for (const day of stats.daily_usage.slice(0, -1))
        expect(day).toMatchObject({ sessions: 0, input_tokens: 0 });

      const month = await api().get('/api/hermes/usage/stats').set(t.auth).expect(200);
      expect(expectShape(month.body, usageStats).daily_usage).toHaveLength(30);
      for (const days of [0, 400, 'week']) {
        const bad = await api()
          .get('/api/hermes/usage/stats')
          .query({ days })
          .set(t.auth)
          .expect(400);
        expect(bad.body.message).toContain('days');
      }
    });
  });

  describe('deleting', () => {
    it('DELETE removes the session, and a session that does not exist is no error', async () => {
      await runChat('ref-doomed', 'short-lived');
      const res = await api().delete('/api/hermes/sessions/ref-doomed').set(t.auth).expect(200);
      expect(expectShape(res.body, okResponse)).toEqual({ ok: true, deleted: true });
      await api().get('/api/hermes/sessions/ref-doomed').set(t.auth).expect(404);
      const again = await api().delete('/api/hermes/sessions/ref-doomed').set(t.auth).expect(200);
      expect(again.body).toEqual({ ok: true, deleted: false });
    });

    it('POST batch-delete deletes each session it can and reports the others', async () => {
      for (const id of ['ref-batch-1', 'ref-batch-2']) {
        await api().post('/api/sessions').set(t.auth).send({ id }).expect(201);
      }
      const res = await api()
        .post('/api/hermes/sessions/batch-delete')
        .set(t.auth)
        // `sessions` is what newer versions of the client send along: ignored.
        .send({
          ids: ['ref-batch-1', 'ref-missing', 'ref-batch-2'],
          sessions: [{ id: 'ref-batch-1', profile: 'default' }],
        })
        .expect(200);
      expect(expectShape(res.body, batchDeleteResult)).toEqual({
        deleted: 2,
        failed: 1,
        errors: [{ id: 'ref-missing', error: "Session 'ref-missing' does not exist" }],
      });
      for (const id of ['ref-batch-1', 'ref-batch-2']) {
        await api().get(`/api/sessions/${id}`).set(t.auth).expect(404);
      }
      for (const body of [{ ids: [] }, {}, { ids: ['bad id'] }, { ids: 'ref-batch-1' }]) {
        const bad = await api()
          .post('/api/hermes/sessions/batch-delete')
          .set(t.auth)
          .send(body)
          .expect(400);
        expect(bad.body).toMatchObject({
          code: 'invalid_payload',
          message: expect.stringContaining('ids'),
        });
      }
    });
  });

  it('documents every route under its own Swagger tag', async () => {
    const docs = await api().get('/api/docs-json').expect(200);
    const tag = 'hermes-studio compatible';
    expect(docs.body.tags).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: tag,
          description: expect.stringContaining('hermes-studio'),
        }),
      ]),
    );
    const tagged = Object.entries(
      docs.body.paths as Record<string, Record<string, { tags?: string[] }>>,
    )
      .flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, op]) => [method, path, op.tags ?? []] as const),
      )
      .filter(([, path]) => path.startsWith('/api/hermes/'));
    expect(tagged.map(([method, path]) => `${method} ${path}`).sort()).toEqual(
      [
        'get /api/hermes/sessions',
        'get /api/hermes/sessions/hermes',
        'get /api/hermes/sessions/hermes/{id}',
        'get /api/hermes/search/sessions',
        'post /api/hermes/sessions/batch-delete',
        'get /api/hermes/sessions/{id}',
        'get /api/hermes/sessions/conversations/{id}/messages/paginated',
        'delete /api/hermes/sessions/{id}',
        'post /api/hermes/sessions/{id}/rename',
        'post /api/hermes/sessions/{id}/workspace',
        'get /api/hermes/sessions/{id}/export',
        'get /api/hermes/sessions/usage',
        'get /api/hermes/sessions/context-length',
        'get /api/hermes/sessions/{id}/usage',
        'get /api/hermes/usage/stats',
      ].sort(),
    );
    for (const [, , tags] of tagged) expect(tags).toEqual([tag]);
    const parameters = (path: string) =>
      (docs.body.paths[path].get.parameters as { name: string }[]).map((p) => p.name).sort();
    expect(parameters('/api/hermes/sessions/{id}/export')).toEqual(['ext', 'id', 'mode', 'token']);
    expect(parameters('/api/hermes/search/sessions')).toEqual(['limit', 'q', 'source']);
    expect(parameters('/api/hermes/usage/stats')).toEqual(['days']);
    expect(parameters('/api/hermes/sessions')).toEqual(['limit', 'profile', 'source']);
    expect(parameters('/api/hermes/sessions/conversations/{id}/messages/paginated')).toEqual([
      'id',
      'limit',
      'offset',
    ]);
    expect(docs.body.components.schemas.ReferenceSessionDto.properties).toHaveProperty(
      'cost_status',
    );
  });
});
