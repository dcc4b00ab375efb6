export * from '../../content/content-blocks';
export * from '../../content/conversation-history';
export * from './transcript.reducer';
