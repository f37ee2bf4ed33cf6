#!/usr/bin/env node
// georoute command line: configuration as code over the REST admin API.
//   georoute export                      > georoute.yaml   (zones, regions, services; demo file format)
//   georoute apply FILE [--dry-run] [--prune [--allow-destroy]] [--output json]
//                                                          (one transaction, all or nothing; a dry run is the
//                                                          apply rolled back, so it fails exactly as the apply would)
//   georoute webhook REGION healthy|unhealthy [REASON]     (a signed health report, as a region sends it)
// Server: GEOROUTE_URL (default http://127.0.0.1:8080). Token: GEOROUTE_TOKEN, else ADMIN_TOKEN,
// else the file DATA_DIR/admin-token (default ./data/admin-token) that `npm start` writes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const USAGE = `usage: georoute export
       georoute apply FILE [--dry-run] [--prune [--allow-destroy]] [--output json|text]
       georoute webhook REGION healthy|unhealthy [REASON]
exit codes: 0 done (or would be done), 1 refused by the server or unreachable, 2 bad usage
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

/** `json`: a refusal is printed to stdout as the server's problem document (for CI), not to stderr as text. */
async function call(method, route, body, json = false) {
  const base = (process.env.GEOROUTE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let res;
  try {
    res = await fetch(base + route, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    return fail(`cannot reach ${base}: ${err.cause?.code || err.message}`, 1);
  }
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { detail: text };
  }
  if (!res.ok) {
    if (json) {
      process.stdout.write(JSON.stringify({ status: res.status, ...parsed }, null, 2) + '\n');
      process.exit(1);
    }
    const errors = Array.isArray(parsed.errors) ? parsed.errors.map((e) => `\n  ${e.field}: ${e.message}`).join('') : '';
    return fail(`${res.status} ${parsed.title || ''}: ${parsed.detail || text}${errors}`, 1);
  }
  return parsed;
}

/** One change, then one line per field: before -> after ((none) for a create's before, a delete's after). */
function describe(change) {
  const sign = { create: '+', update: '~', delete: '-' }[change.action];
  const head = `${sign} ${change.kind} ${change.name}`;
  const show = (v) => (v === undefined ? '(none)' : JSON.stringify(v));
  const fields = change.fields
    || Object.entries(change.after || {}).map(([field, to]) => ({ field, from: undefined, to }))
      .concat(Object.entries(change.before || {}).map(([field, from]) => ({ field, from, to: undefined })));
  return head + fields.map((f) => `\n    ${f.field}: ${show(f.from)} -> ${show(f.to)}`).join('');
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
    const args = [...rest];
    let output = 'text';
    const at = args.indexOf('--output');
    if (at >= 0) {
      output = args[at + 1];
      args.splice(at, 2);
      if (output !== 'json' && output !== 'text') fail(USAGE);
    }
    const flags = args.filter((a) => a.startsWith('--'));
    const files = args.filter((a) => !a.startsWith('--'));
    const unknown = flags.filter((f) => !['--dry-run', '--prune', '--allow-destroy'].includes(f));
    if (files.length !== 1 || unknown.length > 0) fail(USAGE);
    let doc;
    try {
      doc = YAML.parse(fs.readFileSync(files[0] === '-' ? 0 : files[0], 'utf8')) ?? {};
    } catch (err) {
      fail(`cannot read ${files[0]}: ${err.message}`);
    }
    const dryRun = flags.includes('--dry-run');
    const prune = flags.includes('--prune');
    const allowDestroy = flags.includes('--allow-destroy');
    const result = await call('POST', `/v1/config/apply?dryRun=${dryRun}&prune=${prune}&allowDestroy=${allowDestroy}`, doc, output === 'json');
    if (output === 'json') {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return;
    }
    if (result.changes.length === 0) {
      process.stdout.write('no changes\n');
      return;
    }
    process.stdout.write(result.changes.map(describe).join('\n') + '\n');
    process.stdout.write(dryRun ? `${result.changes.length} change(s) would be made (dry run)\n` : `${result.changes.length} change(s) applied in one transaction\n`);
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
