import { Webhook } from 'standardwebhooks';
import { decodeWebhookSecret } from '../common/webhook-secret';
import {
  signWebhook,
  verifyWebhook,
  WEBHOOK_MAX_BODY_BYTES,
  type WebhookHeaders,
} from './webhook-verifier';

const NOW = 1_750_000_000_000; // ms epoch
const NOW_S = NOW / 1000;
/** A Standard Webhooks secret (32 random bytes, base64). */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=';
const OTHER_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const RAW_SECRET = 'region-eu-west-1-secret-0123456789';
const BODY = '{"region":"eu-west-1","status":"unhealthy","reason":"db down"}';
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

function headersFor(body: string | Buffer, secret = SECRET, timestamp = NOW_S, id = ID): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, id, timestamp, body),
  };
}

describe('verifyWebhook', () => {
  it('accepts a valid delivery and returns the payload, id, timestamp and secret index (W1)', () => {
    expect(verifyWebhook(BODY, headersFor(BODY), [SECRET], NOW)).toEqual({
      ok: true,
      payload: { region: 'eu-west-1', status: 'unhealthy', reason: 'db down' },
      webhookId: ID,
      timestamp: NOW_S,
      secretIndex: 0,
    });
  });

  it('accepts the raw body as a Buffer, with non-ASCII text', () => {
    const body = Buffer.from('{"region":"eu-west-1","status":"healthy","reason":"Zürich ✓"}', 'utf8');
    const result = verifyWebhook(body, headersFor(body), [SECRET], NOW);
    expect(result).toMatchObject({ ok: true, payload: { reason: 'Zürich ✓' } });
  });

  it('reads header names case-insensitively and Node header records', () => {
    const h = headersFor(BODY);
    const headers: WebhookHeaders = {
      'Webhook-Id': h['webhook-id'],
      'WEBHOOK-TIMESTAMP': h['webhook-timestamp'],
      'webhook-signature': h['webhook-signature'],
      'content-type': 'application/json',
      'set-cookie': ['a=b'],
    };
    expect(verifyWebhook(BODY, headers, [SECRET], NOW).ok).toBe(true);
  });

  it('uses whichever configured secret matches', () => {
    expect(verifyWebhook(BODY, headersFor(BODY, OTHER_SECRET), [SECRET, OTHER_SECRET], NOW)).toMatchObject({
      ok: true,
      secretIndex: 1,
    });
  });

  it.each([
    ['one byte changed', BODY.replace('unhealthy', 'unhealthz')],
    ['one byte appended', BODY + ' '],
    ['JSON re-serialised by a body parser (W3)', JSON.stringify(JSON.parse(BODY), null, 1)],
  ])('rejects a body with %s', (_name, tampered) => {
    expect(verifyWebhook(tampered, headersFor(BODY), [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
      detail: 'no signature matches',
      webhookId: ID,
    });
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyWebhook(BODY, headersFor(BODY, OTHER_SECRET), [SECRET], NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it.each([
    [-301, false, 'timestamp is 301 s old (tolerance 300 s)'],
    [301, false, 'timestamp is 301 s in the future (tolerance 300 s)'],
    [-300, true, ''],
    [300, true, ''],
  ])('timestamp now %+d s: ok=%s (W4)', (offset, ok, detail) => {
    const result = verifyWebhook(BODY, headersFor(BODY, SECRET, NOW_S + offset), [SECRET], NOW);
    if (ok) expect(result).toMatchObject({ ok: true, timestamp: NOW_S + offset });
    else expect(result).toEqual({ ok: false, reason: 'stale-timestamp', detail, webhookId: ID });
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('rejects a delivery without %s (W2)', (name) => {
    const headers = headersFor(BODY);
    const without = { ...headers, [name]: undefined };
    expect(verifyWebhook(BODY, without, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'missing-headers',
      detail: `${name} header is missing`,
      webhookId: null,
    });
    expect(verifyWebhook(BODY, { ...headers, [name]: '' }, [SECRET], NOW)).toMatchObject({ reason: 'missing-headers' });
  });

  it('rejects a delivery with no headers at all', () => {
    expect(verifyWebhook(BODY, {}, [SECRET], NOW)).toMatchObject({ ok: false, reason: 'missing-headers' });
  });

  it('accepts any one valid signature among several (key rotation, W6)', () => {
    const oldSignature = signWebhook(OTHER_SECRET, ID, NOW_S, BODY);
    const newSignature = signWebhook(SECRET, ID, NOW_S, BODY);
    const headers = { ...headersFor(BODY), 'webhook-signature': `${oldSignature} ${newSignature}` };
    expect(verifyWebhook(BODY, headers, [SECRET], NOW)).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verifyWebhook(BODY, headers, [OTHER_SECRET], NOW)).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verifyWebhook(BODY, headers, ['whsec_' + Buffer.alloc(32, 9).toString('base64')], NOW)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('ignores other signature versions and malformed entries without throwing (W9)', () => {
    const valid = signWebhook(SECRET, ID, NOW_S, BODY);
    const b64 = valid.slice(3);
    const cases: [string, boolean][] = [
      [`v2,${b64} ${valid}`, true],
      [`v1a,${b64}`, false],
      [`v2,${b64}`, false],
      ['v1,', false],
      ['v1', false],
      ['v1,not base64!!', false],
      [`v1,${b64},extra`, false],
      [`   ${valid}   `, true],
      [`V1,${b64}`, false],
    ];
    for (const [signature, ok] of cases) {
      const result = verifyWebhook(BODY, { ...headersFor(BODY), 'webhook-signature': signature }, [SECRET], NOW);
      expect({ signature, ok: result.ok }).toEqual({ signature, ok });
      if (!result.ok) expect(result.reason).toBe('bad-signature');
    }
  });

  it.each([
    ['a webhook-id containing "." (W11)', { 'webhook-id': 'msg.1' }, 'webhook-id must be 1-256 printable characters without "."'],
    ['a webhook-id with spaces', { 'webhook-id': 'msg 1' }, 'webhook-id must be 1-256 printable characters without "."'],
    ['a webhook-id of 257 characters', { 'webhook-id': 'x'.repeat(257) }, 'webhook-id must be 1-256 printable characters without "."'],
    ['a non-numeric timestamp', { 'webhook-timestamp': '2025-06-15T12:00:00Z' }, 'webhook-timestamp must be whole seconds since the epoch'],
    ['a fractional timestamp', { 'webhook-timestamp': `${NOW_S}.5` }, 'webhook-timestamp must be whole seconds since the epoch'],
    ['a 10 KB signature header (W9)', { 'webhook-signature': 'v1,' + 'A'.repeat(10_000) }, 'webhook-signature is longer than 8192 bytes'],
  ])('rejects %s as malformed', (_name, override, detail) => {
    const result = verifyWebhook(BODY, { ...headersFor(BODY), ...override }, [SECRET], NOW);
    expect(result).toMatchObject({ ok: false, reason: 'malformed-headers', detail });
  });

  it('rejects a repeated header', () => {
    const headers = headersFor(BODY);
    const result = verifyWebhook(BODY, { ...headers, 'webhook-signature': [headers['webhook-signature'], headers['webhook-signature']] }, [SECRET], NOW);
    expect(result).toMatchObject({ ok: false, reason: 'malformed-headers', detail: 'webhook-signature header is repeated' });
  });

  it('rejects a body over 64 KiB before computing any HMAC (W10)', () => {
    const big = Buffer.alloc(WEBHOOK_MAX_BODY_BYTES + 1, 0x20);
    expect(verifyWebhook(big, headersFor(BODY), [SECRET], NOW)).toMatchObject({
      ok: false,
      reason: 'body-too-large',
      detail: `body is ${WEBHOOK_MAX_BODY_BYTES + 1} bytes, limit ${WEBHOOK_MAX_BODY_BYTES}`,
    });
  });

  it('rejects a body that is not UTF-8', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(verifyWebhook(body, headersFor(body), [SECRET], NOW)).toMatchObject({ ok: false, reason: 'invalid-body', detail: 'body is not valid UTF-8' });
  });

  it('keeps a byte-order mark as part of the signed body', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)]);
    const withoutBom = verifyWebhook(body, headersFor(BODY), [SECRET], NOW);
    expect(withoutBom).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a correctly signed body that is not JSON', () => {
    const body = 'region=eu-west-1&status=healthy';
    expect(verifyWebhook(body, headersFor(body), [SECRET], NOW)).toMatchObject({ ok: false, reason: 'invalid-body', detail: 'body is not JSON' });
  });

  it('reports no-secret when no usable secret is configured', () => {
    expect(verifyWebhook(BODY, headersFor(BODY), [], NOW)).toMatchObject({ ok: false, reason: 'no-secret' });
    expect(verifyWebhook(BODY, headersFor(BODY), ['short'], NOW)).toMatchObject({ ok: false, reason: 'no-secret' });
  });

  it('never throws on garbage input', () => {
    const garbage = verifyWebhook(undefined as unknown as string, null as unknown as WebhookHeaders, [SECRET], NOW);
    expect(garbage.ok).toBe(false);
    expect(verifyWebhook(BODY, headersFor(BODY), [undefined as unknown as string], NOW)).toMatchObject({ ok: false, reason: 'no-secret' });
  });
});

describe('webhook secrets', () => {
  it('treats a raw secret as its UTF-8 bytes: the same key as whsec_ + base64(bytes)', () => {
    const standardForm = 'whsec_' + Buffer.from(RAW_SECRET, 'utf8').toString('base64');
    expect(Buffer.from(decodeWebhookSecret(RAW_SECRET))).toEqual(Buffer.from(decodeWebhookSecret(standardForm)));
    const headers = headersFor(BODY, RAW_SECRET);
    expect(verifyWebhook(BODY, headers, [standardForm], NOW).ok).toBe(true);
    expect(verifyWebhook(BODY, headersFor(BODY, standardForm), [RAW_SECRET], NOW).ok).toBe(true);
  });

  it('interoperates with the standardwebhooks library both ways', () => {
    const now = Date.now();
    const timestamp = Math.floor(now / 1000);
    const library = new Webhook(SECRET);
    const signature = library.sign(ID, new Date(timestamp * 1000), BODY);
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    expect(verifyWebhook(BODY, headers, [SECRET], now).ok).toBe(true);
    expect(library.verify(BODY, headersFor(BODY, SECRET, timestamp))).toEqual(JSON.parse(BODY));
  });
});
