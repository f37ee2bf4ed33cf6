import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { query } from './support/dns-client';

describe('metrics at /metrics', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', TRUSTED_PROXIES: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('exposes DNS, decision, residency, health, webhook and snapshot figures in Prometheus text, without auth', async () => {
    await app.api('post', '/v1/services', { fqdn: 'us-only.example.com', regions: ['us-east-1'], residency: 'gdpr' });
    await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' });
    await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' });
    await query(app.dnsPort, 'nope.example.com', 'A', { tcp: true });
    await query(app.dnsPort, 'us-only.example.com', 'A', { subnet: '80.12.0.0/24' });
    await app.http.get('/r/cdn.example.com/').set('X-Forwarded-For', '8.8.8.8');
    await app.http.post('/v1/health/webhook').set('content-type', 'application/json').send('{"region":"eu-west-1","status":"healthy"}');

    const res = await app.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.text;
    expect(text).toMatch(/georoute_dns_responses_total\{rcode="NOERROR",transport="udp"\} [1-9]/);
    expect(text).toMatch(/georoute_dns_responses_total\{rcode="NXDOMAIN",transport="tcp"\} 1/);
    expect(text).toMatch(/georoute_dns_responses_total\{rcode="SERVFAIL",transport="udp"\} 1/);
    // Three A queries over UDP (two identical), one over TCP; no AAAA yet; rate limiting off for loopback.
    expect(text).toMatch(/georoute_dns_queries_by_type_total\{qtype="A",transport="udp"\} 3\n/);
    expect(text).toMatch(/georoute_dns_queries_by_type_total\{qtype="A",transport="tcp"\} 1\n/);
    expect(text).toMatch(/georoute_dns_queries_by_type_total\{qtype="AAAA",transport="udp"\} 0\n/);
    expect(text).toMatch(/georoute_dns_rate_limited_total\{action="drop"\} 0\n/);
    // Every DNS answer for a service name is counted, refusals too (no answer cache skips them).
    expect(text).toMatch(/georoute_dns_tables\{table="routed_answers"\} 3\n/);
    expect(text).toMatch(/georoute_dns_tables\{table="location_classes"\} [1-9]/);
    expect(text).toMatch(/georoute_decisions_total\{service="app.example.com",region="ap-northeast-1",reason="nearest-healthy",path="dns"\} 2/);
    expect(text).toMatch(/georoute_decisions_total\{service="cdn.example.com",region="us-west-2",reason="nearest-healthy",path="redirect"\} 1/);
    expect(text).toMatch(/georoute_residency_refusals_total\{service="us-only.example.com",path="dns"\} 1/);
    expect(text).toMatch(/georoute_decision_seconds_count\{path="redirect"\} [1-9]/);
    expect(text).toMatch(/georoute_region_health\{region="eu-west-1",status="unknown"\} 1/);
    expect(text).toMatch(/georoute_webhooks_total\{outcome="missing-headers"\} 1/);
    expect(text).toMatch(/georoute_snapshot_version [1-9]/);
    expect(text).toMatch(/georoute_snapshot_age_seconds \d/);
    expect(text).toMatch(/georoute_process_resident_memory_bytes \d/);
  });
});
