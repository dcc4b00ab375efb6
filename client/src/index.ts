/** The wire types of the gateway's `/chat-run` namespace. */
export type * from './protocol';
