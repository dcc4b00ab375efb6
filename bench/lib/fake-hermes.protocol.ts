/** IPC messages between the harness and its fake Hermes child. */

export interface FakeChildOptions {
  defaultScenario?: string;
  keepaliveMs?: number;
}

export type FakeRequest =
  { id: number; type: 'runs' } | { id: number; type: 'reset' } | { id: number; type: 'stop' };

/** A run as the fake holds it; times are unix seconds with millisecond resolution. */
export interface FakeRunInfo {
  id: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  input: string;
  instructions: string | null;
  historyLength: number;
  /** Size of the `POST /v1/runs` body as JSON. */
  bodyBytes: number;
}

export type FakeReply =
  | { id: number; type: 'ready'; url: string }
  | { id: number; type: 'ok' }
  | { id: number; type: 'runs'; runs: FakeRunInfo[] };
