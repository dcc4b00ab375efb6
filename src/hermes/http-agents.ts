import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/**
 * The connections to the upstreams, kept alive and shared by every request and event stream: a
 * run's `POST /v1/runs` leaves its connection in the pool, and the run's event stream picks it up
 * right after, so a run start costs one TCP (and TLS) handshake instead of two. No limit on open
 * connections: each live stream holds one for as long as its run lasts.
 */
export const upstreamAgents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: Infinity }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: Infinity }),
};

export function agentFor(url: URL): HttpAgent {
  return url.protocol === 'https:' ? upstreamAgents['https:'] : upstreamAgents['http:'];
}
