import { configFor } from '../config/testing/config-for';
import { listeningLine } from './listening-line';

describe('listeningLine', () => {
  const url = 'http://127.0.0.1:8648';

  it('says where the API docs, the console and the metrics are', () => {
    expect(listeningLine(url, configFor({}))).toBe(
      'Listening on http://127.0.0.1:8648 (API docs http://127.0.0.1:8648/api/docs, ' +
        'console http://127.0.0.1:8648/console/, ' +
        'metrics http://127.0.0.1:8648/metrics with the API token)',
    );
  });

  it('says who may scrape the metrics', () => {
    expect(listeningLine(url, configFor({ METRICS: 'off' }))).toMatch(/, metrics off\)$/);
    expect(listeningLine(url, configFor({ METRICS: 'public' }))).toMatch(/\/metrics, public\)$/);
    const scraper = configFor({ METRICS_TOKEN: 'scraper-token-0123456789' });
    expect(listeningLine(url, scraper)).toMatch(/\/metrics with METRICS_TOKEN\)$/);
    expect(listeningLine(url, scraper)).not.toContain('scraper-token');
  });
});
