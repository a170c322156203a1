/** Deployment metrics in words. */
import type { MetricsResponse } from './backend';
import { percent, perSecond, seconds } from './format';

/** The metrics answer as rows: rates and latencies when the engine reports them. */
export function metricRows(m: MetricsResponse): { name: string; value: string }[] {
  const s = m.summary;
  const r = m.rates;
  const rows: { name: string; value: string }[] = [];
  if (r) {
    rows.push({ name: 'Requests', value: perSecond(r.requestsPerSecond, 'req') });
    rows.push({ name: 'Generated tokens', value: perSecond(r.generationTokensPerSecond, 'tok') });
  }
  if (s) {
    if (s.runningRequests !== undefined && s.runningRequests !== null)
      rows.push({ name: 'Running requests', value: String(s.runningRequests) });
    if (s.waitingRequests !== undefined && s.waitingRequests !== null)
      rows.push({ name: 'Waiting requests', value: String(s.waitingRequests) });
    if (s.kvCacheUsage !== undefined && s.kvCacheUsage !== null)
      rows.push({ name: 'KV cache usage', value: percent(s.kvCacheUsage) });
    if (s.timeToFirstToken)
      rows.push({ name: 'Time to first token (p50)', value: seconds(s.timeToFirstToken.p50) });
    if (s.e2eLatency)
      rows.push({ name: 'Request latency (p50)', value: seconds(s.e2eLatency.p50) });
  }
  rows.push({ name: 'Samples', value: String(m.metrics.length) });
  return rows;
}
