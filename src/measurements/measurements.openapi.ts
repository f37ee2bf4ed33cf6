import { int, list, mapOf, num, obj, orNull, str, time } from '../common/openapi';

export const INGEST_RESULT = obj({
  accepted: int({ description: 'samples stored' }),
  stale: int({ description: 'observed before the evidence window: dropped (georoute_measurements_stale_total)' }),
  rateLimited: int({ description: "over the source's per-minute budget (LATENCY_SOURCE_RATE_PER_MINUTE): dropped" }),
});
export const INGEST_RESULT_EXAMPLE = { accepted: 2, stale: 0, rateLimited: 0 };

export const MEASUREMENT = obj({
  client: str({ description: 'the client address or prefix (/24../32, /48../128); truncated to its /24 or /48 on arrival, never stored whole', example: '198.51.100.7' }),
  region: str({ example: 'eu-west-1' }),
  rttMs: num({ minimum: 0, exclusiveMinimum: true, maximum: 60000, example: 23.5 }),
  observedAt: time({ description: 'when the RTT was measured (default: now); at most 5 minutes ahead' }),
}, ['observedAt']);

export const MEASUREMENT_BATCH = obj({ measurements: list(MEASUREMENT, { minItems: 1, description: 'at most LATENCY_BATCH_MAX (default 500)' }) });
export const MEASUREMENT_BATCH_EXAMPLE = {
  measurements: [
    { client: '198.51.100.7', region: 'eu-west-1', rttMs: 23.5, observedAt: '2026-01-05T10:00:00Z' },
    { client: '198.51.100.0/24', region: 'us-east-1', rttMs: 91, observedAt: '2026-01-05T10:00:00Z' },
  ],
};

export const BEACON_RESULTS = obj({
  key: str({ description: "the service's public beacon key" }),
  results: list(obj({ region: str(), rttMs: num({ maximum: 60000 }) }), { minItems: 1 }),
});

export const BEACON_CONFIG = obj({
  service: str(),
  sampleRate: num({ description: 'share of page views that measure (0..1]' }),
  maxBatch: int(),
  targets: list(obj({ region: str(), url: str({ description: "the region's baseUrl + the key's probePath" }) })),
});
export const BEACON_CONFIG_EXAMPLE = {
  service: 'app.example.com', sampleRate: 0.1, maxBatch: 32,
  targets: [{ region: 'eu-west-1', url: 'https://eu-west-1.app.example.com/georoute-probe' }, { region: 'us-east-1', url: 'https://us-east-1.app.example.com/georoute-probe' }],
};

export const BEACON_KEY = obj({
  service: str(),
  key: str({ description: 'public: it goes into the page (data-key); it only lets browsers report RTTs to this service\'s regions' }),
  probePath: str(),
  sampleRate: num(),
  createdAt: time(),
});
export const BEACON_KEY_EXAMPLE = { service: 'app.example.com', key: 'bk_3u0mW1Pq3Xc2rYl9Zk1hN0aB', probePath: '/georoute-probe', sampleRate: 0.1, createdAt: '2026-01-05T10:00:00.000Z' };
export const BEACON_KEY_BODY = obj({
  service: str({ example: 'app.example.com' }),
  probePath: str({ description: "appended to each region's baseUrl; default /", example: '/georoute-probe' }),
  sampleRate: num({ description: 'default 1', example: 0.1 }),
}, ['probePath', 'sampleRate']);

export const SUMMARY = obj({
  service: str(),
  policy: str(),
  windowHours: num(),
  rules: obj({ minSamples: int(), minSources: int(), sourceCap: int(), halfLifeMinutes: num() }),
  compiledAt: orNull(time()),
  regions: list(obj({
    region: str(),
    samples: int({ description: 'samples in the window' }),
    sources: int({ description: 'distinct reporting sources' }),
    networks: int({ description: 'distinct client /24s and /48s' }),
    newest: orNull(time()),
    trusted: mapOf(int(), { description: 'per level (/24, /20, /16, /48, /40, /32, class, country): networks with trusted evidence for this region in the compiled table' }),
  })),
});
export const SUMMARY_EXAMPLE = {
  service: 'app.example.com', policy: 'latency', windowHours: 24,
  rules: { minSamples: 20, minSources: 3, sourceCap: 50, halfLifeMinutes: 360 }, compiledAt: '2026-01-05T10:01:00.000Z',
  regions: [
    { region: 'eu-west-1', samples: 1200, sources: 40, networks: 31, newest: '2026-01-05T10:00:58.000Z', trusted: { '/24': 12, '/20': 14, country: 3 } },
    { region: 'us-east-1', samples: 0, sources: 0, networks: 0, newest: null, trusted: {} },
  ],
};
