import { SessionsAndMessages1764230000000 } from './1764230000000-sessions-and-messages';

/** Every migration, oldest first. Listed explicitly so that ts-node, jest and dist/ agree. */
export const MIGRATIONS = [SessionsAndMessages1764230000000];
