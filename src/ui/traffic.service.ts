import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { answerKey, CounterReading, trafficRates, TrafficRates, windowStart } from './traffic-rates';

/** How often the counters are read, how long readings are kept, and the window a rate covers. */
export const TRAFFIC_SAMPLE_MS = 2_000;
export const TRAFFIC_WINDOW_MS = 10_000;
const KEEP_MS = 60_000;

/**
 * Reads this instance's own DNS counters (georoute_decisions_total with path "dns", and
 * georoute_dns_responses_total, the same figures /metrics exports) every 2 s and keeps a minute
 * of readings, so the dashboard can show queries per second without a Prometheus server.
 */
@Injectable()
export class TrafficService implements OnModuleInit, OnModuleDestroy {
  private readings: CounterReading[] = [];
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;

  constructor(private readonly metrics: MetricsService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sample(), TRAFFIC_SAMPLE_MS);
    this.timer.unref();
    void this.sample();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Rates over the last TRAFFIC_WINDOW_MS, measured against a reading taken now. */
  async rates(): Promise<TrafficRates & { at: string }> {
    await this.sample();
    const newest = this.readings[this.readings.length - 1];
    return { at: new Date(newest.at).toISOString(), ...trafficRates(windowStart(this.readings, TRAFFIC_WINDOW_MS), newest) };
  }

  /** One reading (concurrent calls share it). */
  private sample(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  private async read(): Promise<void> {
    this.metrics.collect(); // the DNS path counts in plain integers; this folds them into the counters
    const [decisions, replies] = await Promise.all([this.metrics.decisions.get(), this.metrics.dnsReplies.get()]);
    const answers = new Map<string, number>();
    for (const { labels, value } of decisions.values) {
      if (labels.path !== 'dns') continue;
      const key = answerKey(String(labels.service ?? ''), String(labels.region ?? ''));
      answers.set(key, (answers.get(key) ?? 0) + value);
    }
    const at = Date.now();
    const total = replies.values.reduce((sum, v) => sum + v.value, 0);
    this.readings.push({ at, answers, replies: total });
    while (this.readings.length > 2 && at - this.readings[0].at > KEEP_MS) this.readings.shift();
  }
}
