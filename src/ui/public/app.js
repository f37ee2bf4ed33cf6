// georoute dashboard: asks for the admin token, then shows regions on a map (with their recent
// probe results, queries per second and, for a token with the scope write, drain/undrain),
// services, DNS queries per second per answer, recent health events, anycast catchments and a
// "where does this client go" box, kept current by live.js. Everything shown comes from the
// admin API of the server that serves this page.
import { api, ApiError, token } from './api.js';
import { byId, formatTime, h, percent, statusPill, timeEl } from './dom.js';
import { createMap } from './map.js';
import { startLive } from './live.js';

/** Probe results shown per region, newest last. */
const PROBES_SHOWN = 10;
const TRAFFIC_EVERY_MS = 2000;
/** Probe results change without an event (only transitions are announced): re-read them this often. */
const PROBES_EVERY_MS = 4000;

const state = { regions: [], services: [], events: [], probes: new Map(), traffic: null, session: null };
let map = null;
let stopLive = null;
let trafficTimer = null;
let probesTimer = null;
let refreshing = null;
let refreshAgain = false;

// ---------------------------------------------------------------- sign-in and errors

function showLogin(message = '') {
  stopLive?.();
  stopLive = null;
  clearInterval(trafficTimer);
  clearInterval(probesTimer);
  trafficTimer = null;
  probesTimer = null;
  state.session = null;
  byId('who').textContent = '';
  byId('dashboard').hidden = true;
  byId('forget-token').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message;
  byId('token').value = '';
  byId('token').focus();
  setMode('off');
}

function unauthorized() {
  token.clear();
  showLogin('The server refused this token (401 Unauthorized). Enter an API token with the scope read, or the admin token (ADMIN_TOKEN, or data/admin-token), again.');
}

function showBanner(message) {
  const banner = byId('error-banner');
  banner.textContent = message;
  banner.hidden = !message;
}

/** 401 sends the user back to the token form; anything else goes to the banner. */
function report(err) {
  if (err instanceof ApiError && err.status === 401) unauthorized();
  else showBanner(`Could not read the API: ${err.message}`);
}

function setMode(mode) {
  const el = document.querySelector('[data-testid="live-status"]');
  el.dataset.mode = mode;
  el.textContent = { stream: 'live (event stream)', polling: 'live (polling every 2 s)', off: 'not connected' }[mode] ?? mode;
}

async function signIn(value) {
  token.set(value);
  try {
    await api('/v1/regions?limit=1');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      showLogin('This token was refused (401 Unauthorized): unknown, revoked or expired. Use an API token with the scope read, or ADMIN_TOKEN (data/admin-token when it was generated).');
    } else if (err instanceof ApiError && err.status === 403) {
      token.clear();
      showLogin('This token lacks the scope read (403 Forbidden), which the dashboard needs.');
    } else {
      showLogin(`Cannot check the token: ${err.message}`);
      token.clear();
    }
    return;
  }
  openDashboard();
}

/** Whether the signed-in token may change regions (the scope write, or admin). */
function canWrite() {
  return state.session?.grants?.includes('write') === true;
}

async function loadSession() {
  state.session = await api('/v1/dashboard/session');
  const scopes = state.session.scopes.join(', ');
  byId('who').textContent = `signed in as ${state.session.name} (${scopes})`;
  byId('actions-head').hidden = !canWrite();
}

function openDashboard() {
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  byId('forget-token').hidden = false;
  if (!map) map = createMap(byId('map'), { onSelect: selectRegion, onError: showBanner });
  loadSession().then(() => refresh(), report);
  refreshTraffic();
  trafficTimer = setInterval(refreshTraffic, TRAFFIC_EVERY_MS);
  probesTimer = setInterval(() => {
    if (state.regions.some((r) => r.healthCheck)) refreshProbes().then(renderRegions, report);
  }, PROBES_EVERY_MS);
  stopLive = startLive({
    onEvent: onLiveEvent,
    refresh: () => refresh(),
    onMode: setMode,
    onUnauthorized: unauthorized,
  });
}

// ---------------------------------------------------------------- data

/** Re-reads everything; calls made while one runs coalesce into one more run. */
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [regions, services, events] = await Promise.all([
        api('/v1/regions?limit=500'),
        api('/v1/services?limit=500'),
        api('/v1/health/events?limit=20'),
      ]);
      state.regions = regions.items;
      state.services = services.items;
      state.events = events.items;
      await refreshProbes();
      showBanner('');
      renderRegions();
      renderServices();
      renderEvents();
      await refreshAnycast();
    } catch (err) {
      report(err);
    } finally {
      refreshing = null;
      if (refreshAgain) {
        refreshAgain = false;
        refresh();
      }
    }
  })();
  return refreshing;
}

let followUp = null;
function onLiveEvent(name, data) {
  if (name === 'health' && data?.region) {
    // Show the new status at once; the refresh below brings the reason and the event list.
    const region = state.regions.find((r) => r.name === data.region);
    if (region) {
      region.health = { ...region.health, status: data.to, since: new Date().toISOString() };
      renderRegions();
    }
  }
  if (name === 'health' || name === 'registry') {
    refresh();
    // Transitions are stored just after they are announced: read the event list once more.
    clearTimeout(followUp);
    followUp = setTimeout(refresh, 1000);
  }
}

// ---------------------------------------------------------------- regions

function selectRegion(name) {
  const row = document.querySelector(`#regions-body tr[data-region="${CSS.escape(name)}"]`);
  if (!row) return;
  document.querySelectorAll('#regions-body tr.selected').forEach((r) => r.classList.remove('selected'));
  row.classList.add('selected');
  row.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function renderRegions() {
  map.update(state.regions);
  const rows = state.regions.map((r) => {
    const status = r.health?.status ?? 'unknown';
    return h('tr', { dataset: { region: r.name, status }, 'data-testid': 'region-row' },
      h('th', { scope: 'row' }, r.name),
      h('td', {}, r.countryCode, r.jurisdiction && r.jurisdiction !== r.countryCode ? h('span', { class: 'muted' }, ` (${r.jurisdiction})`) : null),
      h('td', {}, statusPill(status), r.drained ? h('span', { class: 'tag' }, 'drained') : null),
      h('td', {}, timeEl(r.health?.since)),
      h('td', { class: 'reason' }, r.health?.reason ?? ''),
      h('td', {}, probeStrip(r)),
      h('td', { class: 'num', 'data-testid': 'region-qps' }, regionQps(r.name)),
      h('td', { class: 'num' }, r.weight ?? ''),
      h('td', {}, r.anycast ? `AS${r.anycast.originAsn}` : h('span', { class: 'muted' }, '—')),
      canWrite() ? h('td', {}, h('button', {
        type: 'button',
        class: r.drained ? 'quiet small' : 'danger small',
        'data-testid': 'drain-button',
        dataset: { region: r.name, action: r.drained ? 'undrain' : 'drain' },
        onclick: () => askDrain(r),
      }, r.drained ? 'Undrain' : 'Drain')) : null,
    );
  });
  const selected = document.querySelector('#regions-body tr.selected')?.dataset.region;
  byId('regions-body').replaceChildren(...rows);
  if (selected) document.querySelector(`#regions-body tr[data-region="${CSS.escape(selected)}"]`)?.classList.add('selected');
}

// ---------------------------------------------------------------- probe history

/** Reads each region's health detail for its recent probe results (this instance's probes). */
async function refreshProbes() {
  const withProbe = state.regions.filter((r) => r.healthCheck);
  const details = await Promise.all(withProbe.map((r) => api(`/v1/regions/${encodeURIComponent(r.name)}/health`).catch((err) => {
    if (err instanceof ApiError && err.status === 404) return null; // removed meanwhile
    throw err;
  })));
  state.probes = new Map(withProbe.map((r, i) => [r.name, details[i]?.sources?.probe?.recent ?? []]));
}

function probeStrip(region) {
  if (!region.healthCheck) return h('span', { class: 'muted' }, 'no probe');
  const recent = (state.probes.get(region.name) ?? []).slice(0, PROBES_SHOWN).reverse(); // oldest first
  if (recent.length === 0) return h('span', { class: 'muted', 'data-testid': 'probes-waiting' }, `${region.healthCheck.type}: no result yet`);
  const last = recent[recent.length - 1];
  const describe = (o) => `${formatTime(new Date(o.at))}: ${o.ok ? 'ok' : 'failed'}${o.latencyMs !== undefined ? `, ${o.latencyMs} ms` : ''}${o.reason ? ` (${o.reason})` : ''}`;
  return h('span', { class: 'probes', 'data-testid': 'probes', dataset: { region: region.name } },
    h('span', { class: 'probe-strip', role: 'img', 'aria-label': `last ${recent.length} ${region.healthCheck.type} probes: ${recent.filter((o) => o.ok).length} ok` },
      ...recent.map((o) => h('span', { class: `probe ${o.ok ? 'ok' : 'fail'}`, 'data-testid': 'probe', dataset: { ok: String(o.ok), at: o.at }, title: describe(o) }))),
    h('span', { class: 'muted probe-last' }, ` ${last.ok ? 'ok' : 'failed'}${last.latencyMs !== undefined ? ` ${last.latencyMs} ms` : ''}`),
  );
}

// ---------------------------------------------------------------- traffic

function qpsText(qps) {
  return qps >= 100 ? Math.round(qps).toLocaleString() : qps.toFixed(qps >= 10 ? 1 : 2);
}

function regionQps(name) {
  const r = state.traffic?.regions?.find((x) => x.region === name);
  return r ? qpsText(r.qps) : '0.00';
}

async function refreshTraffic() {
  try {
    state.traffic = await api('/v1/dashboard/traffic');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return unauthorized();
    byId('traffic-summary').textContent = `Could not read the counters: ${err.message}`;
    return;
  }
  renderTraffic();
}

function renderTraffic() {
  const t = state.traffic;
  byId('traffic-summary').replaceChildren(
    h('strong', { 'data-testid': 'replies-qps' }, qpsText(t.repliesPerSecond)), ' DNS replies/s on this server, over the last ',
    `${t.windowSeconds} s (at `, timeEl(t.at), ').');
  const rows = t.answers.map((a) => h('tr', { 'data-testid': 'answer-row', dataset: { service: a.service, region: a.region, qps: String(a.qps), total: String(a.total) } },
    h('th', { scope: 'row' }, a.service),
    h('td', {}, a.region || h('span', { class: 'muted' }, 'no region (refused)')),
    h('td', { class: 'num', 'data-testid': 'answer-qps' }, qpsText(a.qps)),
    h('td', { class: 'num' }, a.total.toLocaleString()),
  ));
  byId('answers-body').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No DNS answers for a service yet.'))]));
  for (const cell of document.querySelectorAll('#regions-body tr[data-region]')) {
    const qps = cell.querySelector('[data-testid="region-qps"]');
    if (qps) qps.textContent = regionQps(cell.dataset.region);
  }
}

// ---------------------------------------------------------------- drain / undrain

let drainTarget = null;

/** Opens the confirmation; nothing changes until the user confirms. */
function askDrain(region) {
  drainTarget = { name: region.name, drain: !region.drained };
  const dialog = byId('drain-dialog');
  byId('drain-title').textContent = drainTarget.drain ? `Drain ${region.name}?` : `Undrain ${region.name}?`;
  byId('drain-text').textContent = drainTarget.drain
    ? `New DNS answers and redirects stop going to ${region.name} at once; clients that cached an answer keep it until its TTL ends. Health checks go on.`
    : `${region.name} receives traffic again as soon as it is healthy (or unknown).`;
  byId('drain-confirm').textContent = drainTarget.drain ? 'Drain' : 'Undrain';
  byId('drain-confirm').className = drainTarget.drain ? 'danger' : '';
  byId('drain-error').textContent = '';
  dialog.showModal();
  byId('drain-confirm').blur();
}

async function confirmDrain() {
  const target = drainTarget;
  if (!target) return;
  const dialog = byId('drain-dialog');
  byId('drain-confirm').disabled = true;
  try {
    await api(`/v1/regions/${encodeURIComponent(target.name)}`, { method: 'PATCH', body: { drained: target.drain } });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      dialog.close();
      return unauthorized();
    }
    byId('drain-error').textContent = err.message;
    return;
  } finally {
    byId('drain-confirm').disabled = false;
  }
  drainTarget = null;
  dialog.close();
  await refresh();
}

// ---------------------------------------------------------------- services

function renderServices() {
  const health = new Map(state.regions.map((r) => [r.name, r.health?.status ?? 'unknown']));
  byId('services-body').replaceChildren(...state.services.map((svc) => h('tr', { dataset: { fqdn: svc.fqdn }, 'data-testid': 'service-row' },
    h('th', { scope: 'row' }, svc.fqdn),
    h('td', {}, svc.policy, svc.answerCount > 1 ? h('span', { class: 'muted' }, ` ×${svc.answerCount}`) : null),
    h('td', {}, svc.residency === 'gdpr' ? h('span', { class: 'tag gdpr', title: 'EU clients are answered from EU regions only' }, 'GDPR') : svc.residency),
    h('td', { class: 'num' }, `${svc.ttl} s`),
    h('td', {}, h('ol', { class: 'chips' }, ...(svc.regions ?? []).map((name) =>
      h('li', { class: `chip ${health.get(name) ?? 'unknown'}`, title: `${name}: ${health.get(name) ?? 'unknown'}` }, name)))),
  )));

  // Keep the client box's service list in step, keeping the user's choice.
  const select = byId('route-fqdn');
  const chosen = select.value;
  const names = state.services.map((svc) => svc.fqdn);
  if (names.join('\n') !== [...select.options].map((o) => o.value).join('\n')) {
    select.replaceChildren(...names.map((name) => h('option', { value: name }, name)));
    if (names.includes(chosen)) select.value = chosen;
  }
}

// ---------------------------------------------------------------- health events

function renderEvents() {
  const list = byId('events');
  if (state.events.length === 0) {
    list.replaceChildren(h('li', { class: 'muted empty' }, 'No health transitions yet.'));
    return;
  }
  list.replaceChildren(...state.events.map((e) => h('li', { 'data-testid': 'event', dataset: { region: e.region, to: e.to } },
    h('span', { class: 'when' }, timeEl(e.at)),
    h('strong', {}, e.region),
    h('span', { class: 'change' }, statusPill(e.from), h('span', { class: 'arrow' }, '→'), statusPill(e.to)),
    h('span', { class: 'source tag' }, e.source),
    e.reason ? h('span', { class: 'reason' }, e.reason) : null,
  )));
}

// ---------------------------------------------------------------- anycast

async function refreshAnycast() {
  const box = byId('anycast');
  let topology;
  try {
    topology = await api('/v1/anycast/topology');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      box.replaceChildren(h('p', { class: 'muted', 'data-testid': 'anycast-empty' }, 'Anycast simulation is not available on this server.'));
      return;
    }
    throw err;
  }
  if (!topology?.loaded) {
    box.replaceChildren(h('p', { class: 'muted', 'data-testid': 'anycast-empty' },
      'No topology loaded. Load an AS-level topology with ', h('code', {}, 'PUT /v1/anycast/topology'), ' to see which region each network reaches.'));
    return;
  }
  if (!state.regions.some((r) => r.anycast)) {
    box.replaceChildren(topologySummary(topology), h('p', { class: 'muted', 'data-testid': 'anycast-empty' },
      'No region announces the anycast prefix yet: give regions ', h('code', {}, 'anycast: { originAsn, upstreams }'), '.'));
    return;
  }
  let sim;
  try {
    sim = await api('/v1/anycast/simulate', { method: 'POST', body: { useHealth: true } });
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) {
      box.replaceChildren(topologySummary(topology), h('p', { class: 'muted' }, `No simulation: ${err.message}`));
      return;
    }
    throw err;
  }
  const sites = sim.sites ?? [];
  const bars = sites.map((site) => {
    const c = sim.catchments?.[site.region] ?? { ases: 0, share: 0 };
    const fill = h('span', { class: 'fill' });
    fill.style.width = `${Math.max(0, Math.min(1, c.share)) * 100}%`; // CSSOM, allowed by the CSP
    return h('li', { 'data-testid': 'catchment', dataset: { region: site.region, announced: String(site.announced) } },
      h('span', { class: 'name' }, site.region),
      h('span', { class: `bar${site.announced ? '' : ' withdrawn'}`, role: 'img', 'aria-label': `${percent(c.share)} of reached networks` }, fill),
      h('span', { class: 'num' }, site.announced ? `${percent(c.share)} · ${c.ases.toLocaleString()} AS` : 'withdrawn'),
    );
  });
  const eff = sim.efficiency ?? {};
  box.replaceChildren(
    topologySummary(topology),
    h('ol', { class: 'catchments' }, ...bars),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Unreachable'), h('dd', {}, `${(sim.unreachable ?? 0).toLocaleString()} AS`),
      h('dt', {}, 'Not at the nearest site'), h('dd', {}, eff.locatedAses ? `${percent(eff.nonNearestShare)} of ${eff.locatedAses.toLocaleString()} located AS, +${Math.round(eff.meanExtraKm)} km on average` : '—'),
      h('dt', {}, 'Agrees with GeoDNS'), h('dd', {}, typeof sim.geoDnsAgreement === 'number' ? percent(sim.geoDnsAgreement) : '—'),
    ),
  );
}

function topologySummary(topology) {
  const sum = topology.summary ?? {};
  return h('p', { class: 'muted' }, `Topology: ${(sum.ases ?? 0).toLocaleString()} AS, ${(sum.links ?? 0).toLocaleString()} links`,
    sum.tier1?.length ? `, tier-1: ${sum.tier1.slice(0, 6).map((a) => `AS${a}`).join(', ')}${sum.tier1.length > 6 ? '…' : ''}` : '');
}

// ---------------------------------------------------------------- where does this client go?

async function explain(event) {
  event.preventDefault();
  const out = byId('route-result');
  const params = new URLSearchParams({ fqdn: byId('route-fqdn').value, client: byId('route-client').value.trim(), type: byId('route-type').value });
  out.replaceChildren(h('p', { class: 'muted' }, 'Asking…'));
  let r;
  try {
    r = await api(`/v1/route?${params}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return unauthorized();
    map.clearRoute();
    out.replaceChildren(h('p', { class: 'field-error', role: 'alert', 'data-testid': 'route-error' }, err.message));
    return;
  }
  const a = r.answer ?? {};
  const c = r.client ?? {};
  map.showRoute(c, a.region);
  out.replaceChildren(
    h('p', { class: 'verdict' },
      a.region ? h('span', {}, '→ ', h('strong', { 'data-testid': 'route-region' }, a.region)) : h('strong', { 'data-testid': 'route-region' }, `no region (${a.rcode})`),
      ' ', h('code', { class: 'reason-code', 'data-testid': 'route-reason' }, r.reason)),
    r.detail ? h('p', { 'data-testid': 'route-detail' }, r.detail) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Client'), h('dd', {}, [c.ip, c.country, c.continent && `(continent ${c.continent})`, c.jurisdiction ? `jurisdiction ${c.jurisdiction}` : null].filter(Boolean).join(' '), c.source ? h('span', { class: 'muted' }, ` (location source: ${c.source})`) : null),
      h('dt', {}, 'Answer'), h('dd', {}, `${a.rcode ?? ''} ${(a.addresses ?? []).join(', ')}`.trim() || '—', a.ttl !== undefined ? h('span', { class: 'muted' }, ` TTL ${a.ttl} s, ECS scope /${a.ecsScope ?? 0}`) : null),
    ),
    candidatesTable(r.candidates ?? []),
  );
}

function yesNo(value) {
  return h('span', { class: value ? 'yes' : 'no' }, value ? 'yes' : 'no');
}

function candidatesTable(candidates) {
  // Latency services: each candidate's measured RTT and where the evidence came from (or the distance fallback).
  const measured = candidates.some((cand) => cand.latency !== undefined);
  const heads = ['Region', 'Distance', ...(measured ? ['Measured RTT'] : []), 'Allowed', 'Healthy', 'Excluded because'];
  return h('div', { class: 'table-scroll' }, h('table', { class: 'compact candidates', 'data-testid': 'candidates' },
    h('caption', {}, measured ? 'Candidates, fastest measured first, then nearest' : 'Candidates, nearest first'),
    h('thead', {}, h('tr', {}, ...heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...candidates.map((cand) => h('tr', { class: cand.chosen ? 'chosen' : null, dataset: { region: cand.region }, 'data-testid': 'candidate' },
      h('th', { scope: 'row' }, cand.region, cand.chosen ? h('span', { class: 'tag chosen-tag' }, 'chosen') : null),
      h('td', { class: 'num' }, Number.isFinite(cand.distanceKm) ? `${Math.round(cand.distanceKm).toLocaleString()} km` : '—'),
      measured ? h('td', { 'data-testid': 'candidate-latency' }, latencyText(cand.latency)) : null,
      h('td', {}, yesNo(cand.allowed)),
      h('td', {}, yesNo(cand.healthy)),
      h('td', { class: 'reason' }, cand.excludedBecause ?? ''),
    ))),
  ));
}

function latencyText(latency) {
  if (!latency) return '—';
  if (latency.level === 'distance-fallback') return h('span', { class: 'muted' }, 'distance fallback');
  const level = latency.level === 'class' ? 'location class' : latency.level;
  return h('span', {}, `${latency.rttMs} ms`, h('span', { class: 'muted' }, ` · ${latency.samples} samples, ${latency.sources} sources · ${level}`));
}

// ---------------------------------------------------------------- start

byId('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = byId('token').value.trim();
  if (value) signIn(value);
});
byId('forget-token').addEventListener('click', () => {
  token.clear();
  map?.clearRoute();
  byId('route-result').replaceChildren();
  showBanner('');
  showLogin('Token forgotten.');
});
byId('route-form').addEventListener('submit', explain);
byId('drain-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (e.submitter?.value === 'confirm') confirmDrain();
  else {
    drainTarget = null;
    byId('drain-dialog').close();
  }
});
byId('drain-dialog').addEventListener('close', () => {
  drainTarget = null;
});

if (token.get()) openDashboard();
else showLogin();
