import type { AppConfig } from '../config/app-config';

/**
 * The line that says the gateway is up, and where everything an operator or a newcomer looks
 * for is: the API docs, the browser console and the metrics (and who may scrape them).
 *
 * ```
 * Listening on http://127.0.0.1:8648 (API docs http://127.0.0.1:8648/api/docs, console
 * http://127.0.0.1:8648/console/, metrics http://127.0.0.1:8648/metrics with the API token)
 * ```
 */
export function listeningLine(url: string, config: Pick<AppConfig, 'metrics'>): string {
  return `Listening on ${url} (API docs ${url}/api/docs, console ${url}/console/, ${metrics(url, config)})`;
}

function metrics(url: string, { metrics }: Pick<AppConfig, 'metrics'>): string {
  switch (metrics.access) {
    case 'off':
      return 'metrics off';
    case 'public':
      return `metrics ${url}/metrics, public`;
    case 'token':
      return `metrics ${url}/metrics with ${metrics.token ? 'METRICS_TOKEN' : 'the API token'}`;
  }
}
