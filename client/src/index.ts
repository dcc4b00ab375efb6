/** The typed client of the gateway's `/chat-run` namespace, and the namespace's wire types. */
export type * from './protocol';
export { ChatRunClient } from './chat-run-client';
export type { ChatRunClientOptions, ResumeResult, RunOptions } from './chat-run-client';
export { ChatRunError } from './chat-run-error';
export { MemorySeqStore, SessionCursors } from './session-cursors';
export type { SeqStore } from './session-cursors';
