#!/usr/bin/env node
// georoute command line: configuration as code over the REST admin API.
//   georoute export                      > georoute.yaml   (zones, regions, services; demo file format)
//   georoute apply FILE [--dry-run] [--prune]              (one transaction, all or nothing)
//   georoute webhook REGION healthy|unhealthy [REASON]     (a signed health report, as a region sends it)
//   georoute import FILE --zone NAME [--dry-run] [--skip-invalid]   (a BIND master file into a zone)
// Server: GEOROUTE_URL (default http://127.0.0.1:8080). Token: GEOROUTE_TOKEN, else ADMIN_TOKEN,
// else the file DATA_DIR/admin-token (default ./data/admin-token) that `npm start` writes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const USAGE = `usage: georoute export
       georoute apply FILE [--dry-run] [--prune]
       georoute webhook REGION healthy|unhealthy [REASON]
       georoute import FILE --zone NAME [--dry-run] [--skip-invalid]
environment: GEOROUTE_URL (default http://127.0.0.1:8080), GEOROUTE_TOKEN or ADMIN_TOKEN (default: DATA_DIR/admin-token),
             GEOROUTE_WEBHOOK_SECRET (webhook: the region's webhookSecret or the server's WEBHOOK_SECRET)`;

function fail(message, code = 2) {
  process.stderr.write(`georoute: ${message}\n`);
  process.exit(code);
}

function token() {
  const t = process.env.GEOROUTE_TOKEN || process.env.ADMIN_TOKEN;
  if (t) return t.trim();
  const file = path.resolve(process.env.DATA_DIR || 'data', 'admin-token');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fail(`no admin token: set GEOROUTE_TOKEN or ADMIN_TOKEN (or run where ${file} exists)`);
  }
}

async function call(method, route, body, contentType = 'application/json') {
  const base = (process.env.GEOROUTE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let res;
  try {
    res = await fetch(base + route, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch (err) {
    return fail(`cannot reach ${base}: ${err.cause?.code || err.message}`, 1);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { detail: text };
  }
  if (!res.ok) {
    const errors = Array.isArray(json.errors) ? json.errors.map((e) => `\n  ${e.field}: ${e.message} [${e.rule}]`).join('') : '';
    return fail(`${res.status} ${json.title || ''}: ${json.detail || text}${errors}`, 1);
  }
  return json;
}

function describe(change) {
  const sign = { create: '+', update: '~', delete: '-' }[change.action];
  const head = `${sign} ${change.kind} ${change.name}`;
  const fields = (change.fields || []).map((f) => `\n    ${f.field}: ${JSON.stringify(f.from)} -> ${JSON.stringify(f.to)}`).join('');
  return head + fields;
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === 'export') {
    if (rest.length > 0) fail(USAGE);
    const doc = await call('GET', '/v1/config/export');
    process.stdout.write(`# georoute configuration, exported ${new Date().toISOString()}\n# Region webhook secrets are write-only and never exported.\n`);
    process.stdout.write(YAML.stringify(doc, { lineWidth: 0 }));
    return;
  }
  if (command === 'apply') {
    const flags = rest.filter((a) => a.startsWith('--'));
    const files = rest.filter((a) => !a.startsWith('--'));
    const unknown = flags.filter((f) => f !== '--dry-run' && f !== '--prune');
    if (files.length !== 1 || unknown.length > 0) fail(USAGE);
    let doc;
    try {
      doc = YAML.parse(fs.readFileSync(files[0] === '-' ? 0 : files[0], 'utf8')) ?? {};
    } catch (err) {
      fail(`cannot read ${files[0]}: ${err.message}`);
    }
    const dryRun = flags.includes('--dry-run');
    const prune = flags.includes('--prune');
    const result = await call('POST', `/v1/config/apply?dryRun=${dryRun}&prune=${prune}`, doc);
    if (result.changes.length === 0) {
      process.stdout.write('no changes\n');
      return;
    }
    process.stdout.write(result.changes.map(describe).join('\n') + '\n');
    process.stdout.write(dryRun ? `${result.changes.length} change(s) would be made (dry run)\n` : `${result.changes.length} change(s) applied in one transaction\n`);
    return;
  }
  if (command === 'import') {
    const zoneAt = rest.indexOf('--zone');
    const zone = zoneAt >= 0 ? rest[zoneAt + 1] : undefined;
    const others = rest.filter((a, i) => i !== zoneAt && i !== zoneAt + 1);
    const files = others.filter((a) => !a.startsWith('--'));
    const unknown = others.filter((a) => a.startsWith('--') && a !== '--dry-run' && a !== '--skip-invalid');
    if (!zone || zone.startsWith('--') || files.length !== 1 || unknown.length > 0) fail(USAGE);
    let text;
    try {
      text = fs.readFileSync(files[0] === '-' ? 0 : files[0], 'utf8');
    } catch (err) {
      fail(`cannot read ${files[0]}: ${err.message}`);
    }
    const dryRun = rest.includes('--dry-run');
    const skipInvalid = rest.includes('--skip-invalid');
    const r = await call('POST', `/v1/zones/${encodeURIComponent(zone)}/import?dryRun=${dryRun}&skipInvalid=${skipInvalid}`, text, 'text/dns');
    for (const s of r.skipped) process.stdout.write(`skipped line ${s.line}: ${s.message} [${s.rule}]\n`);
    const c = r.records;
    const what = `zone ${r.zone}${r.zoneCreated ? ' (new)' : r.zoneChanged ? ' (SOA/NS changed)' : ''}: ${c.created} record set(s) created, ${c.updated} updated, ${c.deleted} deleted, ${c.unchanged} unchanged`;
    process.stdout.write(dryRun ? `${what} (dry run, nothing written)\n` : `${what}; serial ${r.serial}\n`);
    return;
  }
  if (command === 'webhook') {
    const [region, status, ...reason] = rest;
    if (!region || (status !== 'healthy' && status !== 'unhealthy')) fail(USAGE);
    const secret = process.env.GEOROUTE_WEBHOOK_SECRET;
    if (!secret) fail('set GEOROUTE_WEBHOOK_SECRET to the region webhookSecret (whsec_<base64> or a raw secret)');
    const { Webhook } = require('standardwebhooks');
    // whsec_<base64> is the Standard Webhooks form; any other string is a raw secret (its UTF-8 bytes).
    const key = secret.startsWith('whsec_') ? secret.slice(6) : Buffer.from(secret, 'utf8').toString('base64');
    const body = JSON.stringify({ region, status, ...(reason.length ? { reason: reason.join(' ') } : {}) });
    const id = `msg_${require('node:crypto').randomUUID()}`;
    const now = new Date();
    const signature = new Webhook(key).sign(id, now, body);
    const base = (process.env.GEOROUTE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
    const res = await fetch(`${base}/v1/health/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
      body,
    }).catch((err) => fail(`cannot reach ${base}: ${err.cause?.code || err.message}`, 1));
    const json = await res.json().catch(() => ({}));
    if (!res.ok) fail(`${res.status}: ${json.detail || res.statusText}`, 1);
    process.stdout.write(`${json.region}: ${json.status} (${json.reason || 'no reason'})\n`);
    return;
  }
  fail(USAGE);
}

main(process.argv.slice(2)).catch((err) => fail(err.stack || String(err), 1));
