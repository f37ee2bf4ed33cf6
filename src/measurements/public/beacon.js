/*
 * georoute RUM beacon (no dependencies). Embed:
 *   <script src="https://<georoute>/beacon.js" data-key="<beacon key>" async></script>
 * After the page has loaded it asks georoute for the service's regions (GET /v1/measurements/beacon),
 * and on a sampled share of page views times one small fetch to each region's baseUrl + probe path:
 * a first fetch warms the connection (DNS, TCP, TLS), the second is timed. With Timing-Allow-Origin
 * on the region's response the Resource Timing entry gives requestStart..responseStart (one round
 * trip plus the endpoint's own time); without it, the wall time of the warm fetch. Results go back in
 * one text/plain POST (sendBeacon when possible): no preflight, no cookies.
 * data-always: measure on every page view (tests, low-traffic pages).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !window.fetch || !window.performance) return;
  var key = script.getAttribute('data-key');
  if (!key) return;
  var api = new URL('/v1/measurements/beacon', script.src).href;
  var always = script.hasAttribute('data-always');

  function probe(url) {
    var sep = url.indexOf('?') < 0 ? '?' : '&';
    var warm = url + sep + 'georoute-warm=' + Math.random().toString(36).slice(2);
    var timed = url + sep + 'georoute=' + Math.random().toString(36).slice(2);
    var opts = { mode: 'no-cors', cache: 'no-store', credentials: 'omit' };
    return fetch(warm, opts).then(function () {
      var t0 = performance.now();
      return fetch(timed, opts).then(function () {
        var wall = performance.now() - t0;
        var entries = performance.getEntriesByName(timed);
        var e = entries[entries.length - 1];
        if (e && e.requestStart > 0 && e.responseStart >= e.requestStart) return e.responseStart - e.requestStart;
        return wall;
      });
    });
  }

  function send(results) {
    if (results.length === 0) return;
    var body = JSON.stringify({ key: key, results: results });
    var blob = new Blob([body], { type: 'text/plain' });
    if (navigator.sendBeacon && navigator.sendBeacon(api, blob)) return;
    fetch(api, { method: 'POST', body: body, headers: { 'Content-Type': 'text/plain' }, keepalive: true, credentials: 'omit' });
  }

  function start() {
    fetch(api + '?key=' + encodeURIComponent(key), { credentials: 'omit' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (config) {
        if (!config || (!always && Math.random() >= config.sampleRate)) return;
        var targets = config.targets.slice(0, config.maxBatch);
        var results = [];
        // One region at a time: parallel probes would share the page's bandwidth and skew each other.
        var chain = Promise.resolve();
        targets.forEach(function (t) {
          chain = chain.then(function () {
            return probe(t.url).then(
              function (ms) { if (ms > 0) results.push({ region: t.region, rttMs: Math.round(ms * 10) / 10 }); },
              function () { /* unreachable region: no sample */ }
            );
          });
        });
        return chain.then(function () { send(results); });
      })
      .catch(function () { /* a beacon never breaks the page */ });
  }

  if (document.readyState === 'complete') setTimeout(start, 0);
  else window.addEventListener('load', function () { setTimeout(start, 0); });
})();
