import { foldEvent, initialTranscript } from '../transcript/transcript.reducer';
import { closeDrafts } from './run-ending';
import { outcomeOfTerminalEvent, verdictOfFollowed, verdictOfStatus } from './upstream-verdicts';

const RUN = 'run_1';
const at = 1_800_000_000;

/** A run that streamed "partial" into one still-open assistant message. */
function streamed() {
  return foldEvent(initialTranscript(RUN), {
    type: 'message.delta',
    payload: { event: 'message.delta', run_id: RUN, timestamp: at, delta: 'partial' },
  });
}

describe('upstream verdicts', () => {
  describe('outcomeOfTerminalEvent', () => {
    const completed = {
      type: 'run.completed' as const,
      payload: { event: 'run.completed' as const, run_id: RUN, timestamp: at, output: 'hi' },
    };

    it('keeps a completed run’s payload', () => {
      expect(outcomeOfTerminalEvent(completed, false)).toEqual({
        kind: 'completed',
        payload: completed.payload,
      });
    });

    it('reports the upstream’s failure text as upstream_error', () => {
      const event = {
        type: 'run.failed' as const,
        payload: { event: 'run.failed' as const, run_id: RUN, timestamp: at, error: 'boom' },
      };
      expect(outcomeOfTerminalEvent(event, false)).toEqual({
        kind: 'failed',
        code: 'upstream_error',
        error: 'boom',
      });
    });

    it('ends any run being aborted as a synced abort', () => {
      expect(outcomeOfTerminalEvent(completed, true)).toEqual({ kind: 'aborted', synced: true });
    });
  });

  describe('verdictOfStatus', () => {
    it('completes the partial text with the final output of a completed run', () => {
      const verdict = verdictOfStatus(
        { run_id: RUN, status: 'completed', output: 'the whole answer', updated_at: at },
        false,
        streamed(),
      );
      expect(verdict.outcome).toMatchObject({
        kind: 'completed',
        payload: { run_id: RUN, output: 'the whole answer', timestamp: at },
      });
      expect(verdict.transcript.messages).toHaveLength(1);
      expect(verdict.transcript.messages[0].content).toBe('the whole answer');
      expect(verdict.transcript.status).not.toBe('running');
    });

    it.each([
      ['cancelled', 'upstream_error'],
      ['interrupted', 'interrupted'],
      ['failed', 'upstream_error'],
    ] as const)('a %s run fails with %s', (status, code) => {
      const verdict = verdictOfStatus({ run_id: RUN, status }, false, streamed());
      expect(verdict.outcome).toMatchObject({ kind: 'failed', code });
      expect(verdict.transcript.messages[0].content).toBe('partial');
    });

    it('keeps the upstream’s own error text', () => {
      const verdict = verdictOfStatus(
        { run_id: RUN, status: 'failed', error: 'model overloaded' },
        false,
        streamed(),
      );
      expect(verdict.outcome).toEqual({
        kind: 'failed',
        code: 'upstream_error',
        error: 'model overloaded',
      });
    });

    it('ends an aborting run as aborted, still keeping a completed output', () => {
      const verdict = verdictOfStatus(
        { run_id: RUN, status: 'completed', output: 'done anyway' },
        true,
        streamed(),
      );
      expect(verdict.outcome).toEqual({ kind: 'aborted', synced: true });
      expect(verdict.transcript.messages[0].content).toBe('done anyway');
    });
  });

  describe('verdictOfFollowed', () => {
    it.each([
      [{ kind: 'unknown' } as const, 'interrupted'],
      [{ kind: 'unreachable', reason: 'ECONNREFUSED' } as const, 'upstream_unavailable'],
      [{ kind: 'timeout' } as const, 'stream_lost'],
    ])('%o fails the run with %s, keeping what streamed', (found, code) => {
      const before = streamed();
      const verdict = verdictOfFollowed(found, false, before);
      expect(verdict.outcome).toMatchObject({ kind: 'failed', code });
      expect(verdict.transcript).toBe(before);
    });

    it('names the reason the upstream is unreachable', () => {
      const verdict = verdictOfFollowed(
        { kind: 'unreachable', reason: 'ECONNREFUSED' },
        false,
        streamed(),
      );
      expect(verdict.outcome).toMatchObject({ error: expect.stringContaining('ECONNREFUSED') });
    });

    it('a follower told to stop leaves the run detached', () => {
      expect(verdictOfFollowed({ kind: 'stopped' }, false, streamed()).outcome).toEqual({
        kind: 'detached',
      });
    });
  });

  describe('closeDrafts', () => {
    it('closes an open draft as cancelled on an abort, keeping its text', () => {
      const closed = closeDrafts(streamed(), { kind: 'aborted', synced: false });
      expect(closed.status).not.toBe('running');
      expect(closed.messages[0]).toMatchObject({ content: 'partial', open: false });
    });

    it('closes an open draft on a failure', () => {
      const closed = closeDrafts(streamed(), {
        kind: 'failed',
        code: 'run_timeout',
        error: 'too long',
      });
      expect(closed.status).not.toBe('running');
      expect(closed.messages[0].open).toBe(false);
    });

    it('leaves a completed run as it is', () => {
      const done = streamed();
      const outcome = {
        kind: 'completed' as const,
        payload: { event: 'run.completed' as const, run_id: RUN, timestamp: at },
      };
      expect(closeDrafts(done, outcome)).toBe(done);
    });
  });
});
