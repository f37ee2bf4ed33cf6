#!/usr/bin/env node
// georoute command line: configuration as code over the REST admin API.
//   georoute export                      > georoute.yaml   (zones, regions, services; demo file format)
//   georoute apply FILE [--dry-run] [--prune [--allow-destroy]] [--output json]
//                                                          (one transaction, all or nothing; a dry run is the
//                                                          apply rolled back, so it fails exactly as the apply would)
//   georoute webhook REGION healthy|unhealthy [REASON]     (a signed health report, as a region sends it)
//   georoute import FILE --zone NAME [--dry-run] [--skip-invalid]   (a BIND master file into a zone)
//   georoute query NAME [--type T] [--client IP] [--server HOST:PORT]  (the DNS answer beside the explain API's)
// Server: GEOROUTE_URL (default http://127.0.0.1:8080). Token: GEOROUTE_TOKEN, else ADMIN_TOKEN,
// else the file DATA_DIR/admin-token (default ./data/admin-token) that `npm start` writes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const USAGE = `usage: georoute export
       georoute apply FILE [--dry-run] [--prune [--allow-destroy]] [--output json|text]
       georoute webhook REGION healthy|unhealthy [REASON]
       georoute import FILE --zone NAME [--dry-run] [--skip-invalid]
       georoute query NAME [--type A|AAAA|...] [--client IP] [--server HOST:PORT]
exit codes: 0 done (or would be done), 1 refused by the server or unreachable, 2 bad usage, 3 query: DNS and explain disagree
environment: GEOROUTE_DNS (query: default server, 127.0.0.1:5300), GEOROUTE_URL (default http://127.0.0.1:8080), GEOROUTE_TOKEN or ADMIN_TOKEN (default: DATA_DIR/admin-token),
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
async function call(method, route, body, contentType = 'application/json', json = false) {
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
    const errors = Array.isArray(parsed.errors) ? parsed.errors.map((e) => `\n  ${e.field}: ${e.message} [${e.rule}]`).join('') : '';
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

/** Bad usage: what is wrong, then the usage, on stderr; exit 2. */
function usageError(problem) {
  return fail(`${problem}\n${USAGE}`);
}

/** Names the options a command does not take (every one of them), or returns. */
function refuseUnknown(flags, known) {
  const unknown = flags.filter((f) => !known.includes(f));
  if (unknown.length > 0) usageError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
}

/** A YAML file's text as a document; a syntax error is reported as the YAML parser words it, with the file's name. */
function readYaml(file) {
  let text;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    return fail(`cannot read ${file}: ${err.message}`);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) return fail(`${file} is not valid YAML:\n${doc.errors.map((e) => `  ${e.message.split('\n')[0]}`).join('\n')}`);
  return doc.toJS() ?? {};
}

const COMMANDS = ['export', 'apply', 'webhook', 'import', 'query'];

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined) usageError('no command given');
  if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!COMMANDS.includes(command)) usageError(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  if (command === 'export') {
    refuseUnknown(rest.filter((a) => a.startsWith('-')), []);
    if (rest.length > 0) usageError(`export takes no arguments (got ${rest.join(' ')})`);
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
      if (output !== 'json' && output !== 'text') usageError(`--output must be json or text (got ${output === undefined ? 'nothing' : output})`);
    }
    const flags = args.filter((a) => a.startsWith('-') && a !== '-');
    const files = args.filter((a) => !a.startsWith('-') || a === '-');
    refuseUnknown(flags, ['--dry-run', '--prune', '--allow-destroy']);
    if (files.length !== 1) usageError(`apply takes one FILE (or - for stdin), got ${files.length}`);
    const doc = readYaml(files[0]);
    const dryRun = flags.includes('--dry-run');
    const prune = flags.includes('--prune');
    const allowDestroy = flags.includes('--allow-destroy');
    const result = await call('POST', `/v1/config/apply?dryRun=${dryRun}&prune=${prune}&allowDestroy=${allowDestroy}`, doc, 'application/json', output === 'json');
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
  if (command === 'import') {
    const zoneAt = rest.indexOf('--zone');
    const zone = zoneAt >= 0 ? rest[zoneAt + 1] : undefined;
    const others = rest.filter((a, i) => i !== zoneAt && i !== zoneAt + 1);
    const files = others.filter((a) => !a.startsWith('--'));
    refuseUnknown(others.filter((a) => a.startsWith('--')), ['--dry-run', '--skip-invalid']);
    if (!zone || zone.startsWith('--')) usageError('import needs --zone NAME');
    if (files.length !== 1) usageError(`import takes one FILE (or - for stdin), got ${files.length}`);
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
  if (command === 'query') return query(rest);
  if (command === 'webhook') {
    refuseUnknown(rest.filter((a) => a.startsWith('--')), []);
    const [region, status, ...reason] = rest;
    if (!region || (status !== 'healthy' && status !== 'unhealthy')) usageError('webhook needs REGION and healthy or unhealthy');
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
}

/** Options of the form --name value; the rest are positional. */
function options(args, names) {
  const out = { positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) out.positional.push(a);
    else if (!names.includes(a.slice(2))) usageError(`unknown option ${a}`);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) out[a.slice(2)] = args[++i];
    else usageError(`${a} needs a value`);
  }
  return out;
}

/** One question to a georoute DNS server through dns2, with ECS for the client: the reply, parsed by dns2. */
function askDns(server, name, type, clientIp) {
  const dgram = require('node:dgram');
  const net = require('node:net');
  const { Packet } = require('dns2');
  const at = server.lastIndexOf(':');
  const host = server.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(server.slice(at + 1));
  if (at < 0 || !host || !Number.isInteger(port) || port < 1 || port > 65535) fail(`--server must be HOST:PORT (got ${server})`);
  if (!(type in Packet.TYPE)) fail(`--type ${type} is not a type dns2 can ask (${Object.keys(Packet.TYPE).join(', ')})`);
  const family = net.isIP(clientIp);
  const query = new Packet();
  query.header.id = require('node:crypto').randomInt(0x10000);
  query.header.rd = 0;
  query.questions.push({ name, type: Packet.TYPE[type], class: Packet.CLASS.IN });
  // The whole address as the subnet (/32, /128): the DNS server and the explain API see the same client.
  const ecs = { ednsCode: Packet.EDNS_OPTION_CODE.ECS, family: family === 6 ? 2 : 1, sourcePrefixLength: family === 6 ? 128 : 32, scopePrefixLength: 0, ip: clientIp };
  query.additionals.push(Packet.Resource.EDNS([ecs]));
  const message = query.toBuffer();
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no reply from ${server} within 3 s`));
    }, 3000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      try {
        resolve(Packet.parse(reply));
      } catch (err) {
        reject(err);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(message, port, host);
  });
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function recordText(r) {
  const { Packet } = require('dns2');
  const type = Object.keys(Packet.TYPE).find((k) => Packet.TYPE[k] === r.type) || `TYPE${r.type}`;
  const data = r.address ?? r.domain ?? (r.exchange !== undefined ? `${r.priority} ${r.exchange}` : undefined) ?? (r.target !== undefined ? `${r.priority} ${r.weight} ${r.port} ${r.target}` : undefined) ?? r.data ?? JSON.stringify(r);
  return { type, line: `${r.name}.\t${r.ttl}\t${type}\t${Array.isArray(data) ? data.join('') : data}` };
}

/** georoute query: "a dig that says why". Exit 0 when DNS and explain agree (or explain does not apply), 3 when they disagree. */
async function query(args) {
  const o = options(args, ['type', 'client', 'server']);
  if (o.positional.length !== 1) usageError(`query takes one NAME, got ${o.positional.length}`);
  const name = o.positional[0].replace(/\.$/, '').toLowerCase();
  const type = (o.type || 'A').toUpperCase();
  const client = o.client || '127.0.0.1';
  if (require('node:net').isIP(client) === 0) fail(`--client must be an IP address (got ${client})`);
  const server = o.server || process.env.GEOROUTE_DNS || '127.0.0.1:5300';
  let reply;
  try {
    reply = await askDns(server, name, type, client);
  } catch (err) {
    return fail(`DNS ${server}: ${err.message}`, 1);
  }
  const rcode = RCODES[reply.header.rcode] || `RCODE${reply.header.rcode}`;
  const opt = (reply.additionals || []).find((r) => r.type === 41);
  const ecs = opt && Array.isArray(opt.rdata) ? opt.rdata.find((x) => x.ednsCode === 8) : undefined;
  const out = [`;; ${name} ${type} for client ${client}, asked at ${server} over UDP (dns2)`];
  out.push(`DNS:     ${rcode}${reply.header.aa ? ' aa' : ''}${ecs ? `, ECS scope /${ecs.scopePrefixLength}` : ''}`);
  const answers = reply.answers.map(recordText);
  for (const a of answers) out.push(`  ${a.line}`);
  const dnsAddresses = answers.filter((a) => a.type === type).map((a) => a.line.split('\t').pop()).sort();
  let agree = true;
  if (type === 'A' || type === 'AAAA') {
    // Follow a CNAME the server answered with: the routing decision is the target's.
    const cname = answers.find((a) => a.type === 'CNAME');
    const fqdn = cname ? cname.line.split('\t').pop().replace(/\.$/, '') : name;
    const base = (process.env.GEOROUTE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
    const res = await fetch(`${base}/v1/route?fqdn=${encodeURIComponent(fqdn)}&client=${encodeURIComponent(client)}&type=${type}`, { headers: { authorization: `Bearer ${token()}` } }).catch((err) =>
      fail(`cannot reach ${base}: ${err.cause?.code || err.message}`, 1),
    );
    const body = await res.json().catch(() => ({}));
    if (res.status === 404) {
      out.push(`explain: ${fqdn} is not a routed service (static data); nothing to compare`);
    } else if (!res.ok) {
      return fail(`explain: ${res.status} ${body.detail || ''}`, 1);
    } else {
      const e = body.answer;
      out.push(`explain: ${e.rcode}, ${e.region ? `region ${e.region}` : 'no region'} (${body.reason}): ${e.addresses.join(', ') || 'no addresses'}, ttl ${e.ttl}, scope /${e.ecsScope}`);
      out.push(`         client ${body.client.ip}: ${body.client.country || 'unknown country'}${body.client.jurisdiction ? ` (${body.client.jurisdiction})` : ''}; ${body.detail}`);
      const explained = [...e.addresses].sort();
      const problems = [];
      if (e.rcode !== rcode) problems.push(`rcode ${rcode} in DNS, ${e.rcode} in explain`);
      if (explained.join() !== dnsAddresses.join()) problems.push(`addresses ${dnsAddresses.join(', ') || '(none)'} in DNS, ${explained.join(', ') || '(none)'} in explain`);
      if (ecs && e.rcode === 'NOERROR' && explained.length > 0 && ecs.scopePrefixLength !== e.ecsScope) problems.push(`ECS scope /${ecs.scopePrefixLength} in DNS, /${e.ecsScope} in explain`);
      agree = problems.length === 0;
      out.push(agree ? 'agree:   yes' : `DISAGREE: ${problems.join('; ')}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  if (!agree) process.exit(3);
}

main(process.argv.slice(2)).catch((err) => fail(err.stack || String(err), 1));
