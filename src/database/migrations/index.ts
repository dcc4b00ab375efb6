import { SessionsAndMessages1764230000000 } from './1764230000000-sessions-and-messages';
import { HermesCleanup1795802879184 } from './1795802879184-hermes-cleanup';
import { Runs1764240000000 } from './1764240000000-runs';
import { EventLog1764250000000 } from './1764250000000-event-log';
import { CompressionAndUsage1795900000000 } from './1795900000000-compression-and-usage';
import { SessionLeases1796000000000 } from './1796000000000-session-leases';

/** Every migration, oldest first. Listed explicitly so that ts-node, jest and dist/ agree. */
export const MIGRATIONS = [
  SessionsAndMessages1764230000000,
  Runs1764240000000,
  EventLog1764250000000,
  HermesCleanup1795802879184,
  CompressionAndUsage1795900000000,
  SessionLeases1796000000000,
];
