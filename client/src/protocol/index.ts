/** The wire protocol of `/chat-run`: types only, shared by the gateway and its clients. */
export type * from './errors';
export type * from './messages';
export type * from './server-events';
export type * from './client-requests';
