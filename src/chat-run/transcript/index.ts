export * from './content-blocks';
export * from './conversation-history';
export * from './transcript.reducer';
