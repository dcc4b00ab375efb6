// The gateway's browser console, in plain JavaScript so that it needs no build step. It speaks
// the /chat-run protocol directly (docs/socket-protocol.md) with the socket.io client the
// gateway serves, and follows the same replay rules as client/'s ChatRunClient: the last seq of
// each session is kept (here in localStorage, with the transcript as shown), a (re)connect or a
// page reload resumes with after_seq, events at or below it are dropped, and when the server
// cannot replay the transcript is rebuilt from the `resumed` snapshot. The token stays in
// sessionStorage (this tab only).
(() => {
  'use strict';

  const PREFIX = 'hermes-console:';
  const MAX_ENTRIES = 500;
  const MAX_EVENTS = 300;
  const $ = (id) => document.getElementById(id);

  /** The open session as shown: transcript entries, queue, and the last seq applied. */
  let view = null;
  let socket = null;
  /** Events before the resume's acknowledgement are a replay: the queue shown is already newer. */
  let replaying = false;
  /** The queue of the last `resumed`, taken once the replay is over. */
  let resumedQueue = [];

  // --- storage -------------------------------------------------------------------------------

  const storedView = (sessionId) => {
    try {
      const stored = JSON.parse(localStorage.getItem(`${PREFIX}session:${sessionId}`) ?? 'null');
      return stored && stored.sessionId === sessionId ? stored : null;
    } catch {
      return null; // an unreadable entry is as good as none: the snapshot rebuilds it
    }
  };

  const saveView = () => {
    if (!view) return;
    view.entries = view.entries.slice(-MAX_ENTRIES);
    localStorage.setItem(`${PREFIX}session:${view.sessionId}`, JSON.stringify(view));
    localStorage.setItem(`${PREFIX}current`, view.sessionId);
  };

  const newView = (sessionId) => ({
    sessionId,
    seq: null,
    entries: [],
    queue: [],
    queueLength: 0,
    working: false,
    aborting: false,
    tokens: null,
  });

  // --- connection ----------------------------------------------------------------------------

  const setConnection = (text, state) => {
    $('connection').textContent = text;
    $('connection').dataset.state = state;
  };

  const connect = (token, profile) => {
    socket?.disconnect();
    sessionStorage.setItem(`${PREFIX}token`, token);
    sessionStorage.setItem(`${PREFIX}profile`, profile);
    setConnection('connecting…', 'connecting');
    socket = io('/chat-run', {
      auth: { token },
      query: profile ? { profile } : {},
      transports: ['websocket'],
    });
    socket.on('connect', () => {
      setConnection('connected', 'connected');
      void loadSessions();
      if (view) resume();
    });
    socket.on('connect_error', (error) => {
      const state = socket.active ? 'connecting' : 'error';
      setConnection(`not connected: ${error.message}`, state);
    });
    socket.on('disconnect', (reason) => setConnection(`disconnected (${reason})`, 'connecting'));
    socket.onAny(receive);
  };

  const api = async (path) => {
    const token = sessionStorage.getItem(`${PREFIX}token`) ?? '';
    const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  };

  const loadSessions = async () => {
    const list = $('sessions');
    try {
      const page = await api('/api/sessions?limit=50');
      list.replaceChildren(
        ...page.items.map((session) => {
          const item = document.createElement('li');
          item.dataset.sessionId = session.id;
          item.textContent = session.title || session.preview || session.id;
          const details = document.createElement('small');
          details.textContent = `${session.id} · ${session.message_count} messages`;
          item.append(details);
          item.addEventListener('click', () => openSession(session.id));
          return item;
        }),
      );
      markCurrentSession();
    } catch (error) {
      list.replaceChildren(listItem(`Could not list sessions: ${error.message}`));
    }
  };

  // --- a session -----------------------------------------------------------------------------

  const openSession = (sessionId) => {
    view = storedView(sessionId) ?? newView(sessionId);
    saveView();
    $('resume-info').textContent = '';
    render();
    if (socket?.connected) resume();
  };

  const resume = () => {
    const { sessionId, seq } = view;
    replaying = true;
    const request =
      seq === null ? { session_id: sessionId } : { session_id: sessionId, after_seq: seq };
    socket.emit('resume', request, (ack) => {
      if (!view || view.sessionId !== sessionId) return;
      replaying = false;
      if (!ack.ok) return note(`resume failed: ${ack.error.code}: ${ack.error.message}`);
      view.queue = resumedQueue;
      view.queueLength = resumedQueue.length;
      const how =
        ack.replayed === true
          ? `replayed the events after seq ${seq}`
          : seq === null
            ? 'loaded the snapshot'
            : `seq ${seq} could not be replayed: rebuilt from the snapshot`;
      $('resume-info').textContent = `Resumed at seq ${ack.seq}: ${how}.`;
      saveView();
      render();
    });
  };

  const send = (input) => {
    const { sessionId } = view;
    const queueId = crypto.randomUUID();
    // Shown at once when it will start now; a run sent while one is active waits in the queue.
    const entry = { role: 'user', content: input, queueId };
    const shown = !view.working;
    if (shown) view.entries.push(entry);
    render();
    socket.emit('run', { session_id: sessionId, input, queue_id: queueId }, (ack) => {
      if (!view || view.sessionId !== sessionId) return;
      if (!ack.ok) {
        view.entries = view.entries.filter((e) => e !== entry);
        note(`not sent: ${ack.error.code}: ${ack.error.message}`);
      } else if (ack.status === 'queued') {
        // It joins the transcript when it starts (see startFromQueue).
        view.entries = view.entries.filter((e) => e !== entry);
        view.queue.push({ queue_id: ack.queue_id, input });
        view.queueLength = Math.max(view.queueLength, ack.queue_length);
      } else if (ack.status === 'started' && !shown) {
        view.entries.push(entry);
      }
      saveView();
      render();
    });
  };

  const cancelQueued = (queueId) => {
    const { sessionId } = view;
    socket.emit('cancel_queued_run', { session_id: sessionId, queue_id: queueId }, (ack) => {
      if (!view || view.sessionId !== sessionId) return;
      if (!ack.ok) return note(`cancel failed: ${ack.error.code}`);
      if (ack.removed) view.queue = view.queue.filter((item) => item.queue_id !== queueId);
      view.queueLength = ack.queue_length;
      saveView();
      render();
    });
  };

  // --- events --------------------------------------------------------------------------------

  const receive = (event, payload) => {
    if (!payload || typeof payload !== 'object') return;
    logEvent(event, payload);
    if (!view || payload.session_id !== view.sessionId) return;
    if (event === 'resumed') return onResumed(payload);
    if (typeof payload.seq === 'number') {
      if (view.seq !== null && payload.seq <= view.seq) return; // seen before
      view.seq = payload.seq;
    }
    apply(event, payload);
    saveView();
    render();
  };

  /** `resumed.seq` is the session's latest seq, not a number of this event. */
  const onResumed = (snapshot) => {
    resumedQueue = snapshot.queue.map(({ queue_id, input }) => ({ queue_id, input }));
    view.tokens = { input: snapshot.inputTokens, output: snapshot.outputTokens };
    if (snapshot.replayed !== true) {
      view.entries = snapshot.messages.map(entryOf);
      view.seq = snapshot.seq;
      view.working = snapshot.isWorking;
      view.aborting = snapshot.isAborting;
    }
    saveView();
    render();
  };

  const entryOf = (message) => ({
    role: message.role,
    content:
      message.role === 'tool'
        ? `${message.tool_name ?? 'tool'}: ${message.content}`
        : message.content,
    reasoning: message.reasoning ?? '',
  });

  const apply = (event, p) => {
    switch (event) {
      case 'run.queued':
        if (!replaying) view.queueLength = p.queue_length;
        break;
      case 'run.started':
        view.working = true;
        if (!replaying) startFromQueue(p.queue_length);
        break;
      case 'message.delta':
        currentReply(p.run_id).content += p.delta;
        break;
      case 'reasoning.delta':
      case 'thinking.delta':
        currentReply(p.run_id).reasoning += p.text ?? p.delta ?? '';
        break;
      case 'tool.started':
        view.entries.push({
          role: 'tool',
          content: `${p.tool}: ${p.preview ?? ''}`,
          toolCallId: p.tool_call_id,
        });
        break;
      case 'tool.completed':
        view.entries.push({ role: 'tool', content: `${p.tool} done${p.error ? ' (error)' : ''}` });
        break;
      case 'run.completed':
        if (typeof p.parsed_content === 'string') currentReply(p.run_id).content = p.parsed_content;
        endRun(p.queue_remaining);
        break;
      case 'run.failed':
        note(`run failed (${p.code}): ${p.error}`);
        endRun(p.queue_remaining);
        break;
      case 'abort.started':
        view.aborting = true;
        break;
      case 'abort.completed':
        if (p.ignored) break;
        note(p.synced ? 'aborted' : 'aborted (the upstream did not confirm in time)');
        endRun(p.queue_length ?? view.queueLength);
        break;
      case 'usage.updated':
        view.tokens = { input: p.inputTokens, output: p.outputTokens };
        break;
      case 'compression.started':
        note(`summarising ${p.message_count} older messages…`);
        break;
      case 'compression.completed':
        note(p.error ? `summarising failed: ${p.error}` : 'older messages summarised');
        break;
      default:
        break;
    }
  };

  /**
   * A run started while more runs are shown queued than the server holds: the oldest shown one
   * is it (its user message is stored now). A cancelled run leaves the list by its ack instead.
   */
  const startFromQueue = (length) => {
    if (view.queue.length > length) {
      const started = view.queue.shift();
      view.entries.push({ role: 'user', content: started.input, queueId: started.queue_id });
    }
    view.queueLength = length;
  };

  const currentReply = (runId) => {
    const last = view.entries[view.entries.length - 1];
    if (last?.role === 'assistant' && last.runId === runId && !last.done) return last;
    const reply = { role: 'assistant', content: '', reasoning: '', runId };
    view.entries.push(reply);
    return reply;
  };

  const endRun = (queued) => {
    for (const entry of view.entries) if (entry.role === 'assistant') entry.done = true;
    view.working = false;
    view.aborting = false;
    if (!replaying) view.queueLength = queued;
  };

  const note = (text) => {
    view.entries.push({ role: 'note', content: text });
    saveView();
    render();
  };

  const logEvent = (event, payload) => {
    const events = $('events');
    const seq = typeof payload.seq === 'number' ? `#${payload.seq}` : '–';
    const detail = event === 'message.delta' ? JSON.stringify(payload.delta) : '';
    events.append(listItem(`${seq} ${payload.session_id ?? ''} ${event} ${detail}`));
    while (events.children.length > MAX_EVENTS) events.firstElementChild.remove();
    events.scrollTop = events.scrollHeight;
  };

  // --- rendering -----------------------------------------------------------------------------

  const listItem = (text) => {
    const item = document.createElement('li');
    item.textContent = text;
    return item;
  };

  const markCurrentSession = () => {
    for (const item of $('sessions').children) {
      item.setAttribute('aria-current', String(item.dataset.sessionId === view?.sessionId));
    }
  };

  const setText = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };

  /** Rendering touches only what changed, so a button under the pointer stays put mid-stream. */
  const render = () => {
    $('session').hidden = !view;
    if (!view) return;
    markCurrentSession();
    setText($('session-title'), view.sessionId);
    setText($('session-state'), view.aborting ? 'aborting' : view.working ? 'working' : 'idle');
    setText($('session-seq'), String(view.seq ?? '–'));
    setText(
      $('session-tokens'),
      view.tokens ? `${view.tokens.input} in / ${view.tokens.output} out` : '–',
    );
    renderTranscript();
    renderQueue();
  };

  const renderTranscript = () => {
    const list = $('transcript');
    view.entries.forEach((entry, index) => {
      let item = list.children[index];
      if (!item) {
        item = document.createElement('li');
        const reasoning = document.createElement('span');
        reasoning.className = 'reasoning';
        item.append(reasoning, document.createElement('span'));
        list.append(item);
      }
      if (item.dataset.role !== entry.role) item.dataset.role = entry.role;
      setText(item.children[0], entry.reasoning ?? '');
      setText(item.children[1], entry.content);
    });
    while (list.children.length > view.entries.length) list.lastElementChild.remove();
  };

  let renderedQueue = '';
  const renderQueue = () => {
    const shown = JSON.stringify([view.sessionId, view.queue, view.queueLength]);
    if (shown === renderedQueue) return;
    renderedQueue = shown;
    setText($('queue-length'), String(view.queueLength));
    const unknown = view.queueLength - view.queue.length;
    $('queue').replaceChildren(
      ...view.queue.map((queued) => {
        const item = listItem(queued.input);
        item.dataset.queueId = queued.queue_id;
        const cancel = document.createElement('button');
        cancel.type = 'button';
        cancel.textContent = 'Cancel';
        cancel.addEventListener('click', () => cancelQueued(queued.queue_id));
        item.append(' ', cancel);
        return item;
      }),
      ...(unknown > 0 ? [listItem(`and ${unknown} queued by other clients`)] : []),
    );
  };

  // --- wiring --------------------------------------------------------------------------------

  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    connect($('token').value.trim(), $('profile').value.trim());
  });
  $('refresh').addEventListener('click', () => void loadSessions());
  $('open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    openSession($('open-id').value.trim());
  });
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('input').value;
    if (!view || !socket || input.trim() === '') return;
    $('input').value = '';
    send(input);
  });
  $('input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.ctrlKey) $('send-form').requestSubmit();
  });
  $('abort').addEventListener('click', () => {
    if (!view || !socket) return;
    socket.emit('abort', { session_id: view.sessionId }, (ack) => {
      if (!ack.ok) note(`abort failed: ${ack.error.code}`);
      else if (!ack.aborting) note('nothing to abort');
    });
  });

  // A reload picks up where the tab was: same token, same session, from its last seq.
  const token = sessionStorage.getItem(`${PREFIX}token`);
  $('profile').value = sessionStorage.getItem(`${PREFIX}profile`) ?? '';
  const current = localStorage.getItem(`${PREFIX}current`);
  if (current) openSession(current);
  if (token) {
    $('token').value = token;
    connect(token, $('profile').value);
  }
})();
