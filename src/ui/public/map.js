// The world map: an equirectangular projection (x = longitude, y = -latitude, K SVG units per
// degree) cropped to 84°N-58°S, a 30° graticule, the hand-drawn coastlines of world.js, one marker
// per region coloured by health (CSS, by data-status), and the last explained client's route.
import { s } from './dom.js';
import { LAND, WATER } from './world.js';

const K = 4;
const NORTH = 84;
const SOUTH = -58;
const WIDTH = 360 * K;
const TOP = (90 - NORTH) * K;
const HEIGHT = (NORTH - SOUTH) * K;
const DOT_R = 7;
const LABEL_SIZE = 13; // keep in step with .region .label in style.css
const CHAR_W = 7.4;

export function project(longitude, latitude) {
  return [(longitude + 180) * K, (90 - latitude) * K];
}

function ringsPath(items) {
  return items
    .map(({ ring }) => ring.map(([lon, lat], i) => {
      const [x, y] = project(lon, lat);
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
    }).join('') + 'Z')
    .join('');
}

function graticule() {
  const g = s('g', { class: 'graticule', 'aria-hidden': 'true' });
  for (let lon = -150; lon <= 150; lon += 30) {
    const [x] = project(lon, 0);
    g.append(s('line', { x1: x, y1: TOP, x2: x, y2: TOP + HEIGHT, class: lon === 0 ? 'meridian' : null }));
    g.append(s('text', { x: x + 3, y: TOP + HEIGHT - 5, class: 'grat-label' }, `${Math.abs(lon)}°${lon < 0 ? 'W' : lon > 0 ? 'E' : ''}`));
  }
  for (let lat = -30; lat <= 60; lat += 30) {
    const [, y] = project(0, lat);
    g.append(s('line', { x1: 0, y1: y, x2: WIDTH, y2: y, class: lat === 0 ? 'equator' : null }));
    g.append(s('text', { x: 4, y: y - 4, class: 'grat-label' }, `${Math.abs(lat)}°${lat < 0 ? 'S' : lat > 0 ? 'N' : ''}`));
  }
  return g;
}

/** Points along the great circle from a to b ([lon, lat] each), as path data split at the antimeridian. */
function greatCirclePath(a, b, steps = 64) {
  const rad = Math.PI / 180;
  const vec = ([lon, lat]) => [Math.cos(lat * rad) * Math.cos(lon * rad), Math.cos(lat * rad) * Math.sin(lon * rad), Math.sin(lat * rad)];
  const p = vec(a);
  const q = vec(b);
  const d = Math.acos(Math.min(1, Math.max(-1, p[0] * q[0] + p[1] * q[1] + p[2] * q[2])));
  const points = [];
  if (d < 1e-9) points.push(a, b);
  else {
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      const wa = Math.sin((1 - t) * d) / Math.sin(d);
      const wb = Math.sin(t * d) / Math.sin(d);
      const [x, y, z] = [0, 1, 2].map((k) => wa * p[k] + wb * q[k]);
      points.push([Math.atan2(y, x) / rad, Math.atan2(z, Math.hypot(x, y)) / rad]);
    }
  }
  let out = '';
  let prevLon = null;
  for (const [lon, lat] of points) {
    const [x, y] = project(lon, lat);
    out += `${prevLon === null || Math.abs(lon - prevLon) > 180 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
    prevLon = lon;
  }
  return out;
}

/**
 * Places labels greedily (west to east): right of the dot, else left, above, below; the first
 * place that overlaps no dot and no earlier label wins.
 */
function placeLabels(points) {
  const boxes = points.map(({ x, y }) => ({ x1: x - DOT_R - 2, y1: y - DOT_R - 2, x2: x + DOT_R + 2, y2: y + DOT_R + 2 }));
  const overlaps = (b) => boxes.some((o) => b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2);
  const inside = (b) => b.x1 >= 0 && b.x2 <= WIDTH && b.y1 >= TOP && b.y2 <= TOP + HEIGHT;
  const order = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const placed = new Map();
  for (const p of order) {
    const w = p.text.length * CHAR_W;
    const gap = DOT_R + 4;
    const options = [
      { x: p.x + gap, y: p.y + 4.5, anchor: 'start', box: { x1: p.x + gap, x2: p.x + gap + w } },
      { x: p.x - gap, y: p.y + 4.5, anchor: 'end', box: { x1: p.x - gap - w, x2: p.x - gap } },
      { x: p.x, y: p.y - gap - 2, anchor: 'middle', box: { x1: p.x - w / 2, x2: p.x + w / 2 }, above: true },
      { x: p.x, y: p.y + gap + LABEL_SIZE - 1, anchor: 'middle', box: { x1: p.x - w / 2, x2: p.x + w / 2 } },
    ].map((o) => ({ ...o, box: { ...o.box, y1: o.y - LABEL_SIZE + 2, y2: o.y + 3 } }));
    const choice = options.find((o) => inside(o.box) && !overlaps(o.box)) ?? options.find((o) => inside(o.box)) ?? options[0];
    boxes.push(choice.box);
    placed.set(p.key, choice);
  }
  return placed;
}

/**
 * Builds the map inside `container` and returns { update(regions), showRoute(client, region), clearRoute() }.
 * `onSelect(name)` runs when a region marker is clicked or activated with Enter/Space.
 */
export function createMap(container, { onSelect } = {}) {
  const svg = s('svg', {
    class: 'world',
    viewBox: `0 ${TOP} ${WIDTH} ${HEIGHT}`,
    role: 'group',
    'aria-label': 'World map: one marker per region, coloured by health',
  });
  svg.append(
    s('rect', { class: 'ocean', x: 0, y: TOP, width: WIDTH, height: HEIGHT }),
    graticule(),
    s('path', { class: 'land', d: ringsPath(LAND), 'aria-hidden': 'true' }),
    s('path', { class: 'water', d: ringsPath(WATER), 'aria-hidden': 'true' }),
  );
  const routeLayer = s('g', { class: 'route-layer', 'aria-hidden': 'true' });
  const regionLayer = s('g', { class: 'region-layer' });
  svg.append(routeLayer, regionLayer);
  container.replaceChildren(svg);

  const markers = new Map(); // region name -> { g, title, halo, dot, glyph, label }
  let byName = new Map();
  let lastRoute = null;

  function createMarker(name) {
    const g = s('g', { class: 'region', 'data-testid': 'map-region', 'data-region': name, tabindex: 0, role: 'button' });
    const m = {
      g,
      title: s('title'),
      halo: s('circle', { class: 'halo', r: DOT_R + 6 }),
      dot: s('circle', { class: 'dot', r: DOT_R }),
      glyph: s('path', { class: 'glyph' }),
      label: s('text', { class: 'label' }, name),
    };
    g.append(m.title, m.halo, m.dot, m.glyph, m.label);
    const select = () => onSelect?.(name);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    g.addEventListener('animationend', () => g.classList.remove('changed'));
    return m;
  }

  /** Updates one marker in place (so focus and a running highlight survive a refresh). */
  function render(m, region, label) {
    const [x, y] = project(region.location.longitude, region.location.latitude);
    const status = region.health?.status ?? 'unknown';
    const previous = m.g.dataset.status;
    m.g.dataset.status = status;
    m.g.dataset.drained = region.drained ? 'true' : 'false';
    m.g.setAttribute('aria-label', `${[region.name, status, region.drained ? 'drained' : null].filter(Boolean).join(', ')}. Show details`);
    const reason = region.health?.reason ? `: ${region.health.reason}` : '';
    m.title.textContent = `${region.name} (${region.countryCode}, ${region.jurisdiction}) — ${status}${reason}${region.drained ? ' — drained' : ''}`;
    for (const c of [m.halo, m.dot]) {
      c.setAttribute('cx', x);
      c.setAttribute('cy', y);
    }
    m.glyph.setAttribute('d', `M${x - 3} ${y - 3}L${x + 3} ${y + 3}M${x + 3} ${y - 3}L${x - 3} ${y + 3}`);
    m.label.setAttribute('x', label.x);
    m.label.setAttribute('y', label.y);
    m.label.setAttribute('text-anchor', label.anchor);
    if (previous !== undefined && previous !== status) {
      m.g.classList.remove('changed');
      void m.g.getBoundingClientRect(); // restart the highlight animation
      m.g.classList.add('changed');
    }
  }

  function update(regions) {
    const located = regions.filter((r) => r.location && Number.isFinite(r.location.latitude) && Number.isFinite(r.location.longitude));
    const labels = placeLabels(located.map((r) => {
      const [x, y] = project(r.location.longitude, r.location.latitude);
      return { key: r.name, x, y, text: r.name };
    }));
    const seen = new Set();
    for (const region of located) {
      seen.add(region.name);
      let m = markers.get(region.name);
      if (!m) {
        m = createMarker(region.name);
        markers.set(region.name, m);
        regionLayer.append(m.g);
      }
      render(m, region, labels.get(region.name));
    }
    for (const [name, m] of markers) {
      if (!seen.has(name)) {
        m.g.remove();
        markers.delete(name);
      }
    }
    byName = new Map(located.map((r) => [r.name, r]));
    if (lastRoute) drawRoute(lastRoute.client, lastRoute.region);
  }

  function drawRoute(client, regionName) {
    routeLayer.replaceChildren();
    if (!client || !Number.isFinite(client.latitude) || !Number.isFinite(client.longitude)) return;
    const [cx, cy] = project(client.longitude, client.latitude);
    const target = regionName ? byName.get(regionName) : null;
    if (target) {
      const d = greatCirclePath([client.longitude, client.latitude], [target.location.longitude, target.location.latitude]);
      routeLayer.append(s('path', { class: 'route', d }));
    }
    routeLayer.append(
      s('path', { class: 'client', 'data-testid': 'map-client', d: `M${cx} ${cy - 7}L${cx + 7} ${cy}L${cx} ${cy + 7}L${cx - 7} ${cy}Z` }),
    );
  }

  return {
    update,
    showRoute(client, regionName) {
      lastRoute = { client, region: regionName };
      drawRoute(client, regionName);
    },
    clearRoute() {
      lastRoute = null;
      routeLayer.replaceChildren();
    },
  };
}
