// The world map: an equirectangular projection (x = longitude, y = -latitude, K SVG units per
// degree) cropped to 84°N-58°S, a 30° graticule, the countries of Natural Earth (1:110m, from the
// world-atlas package, drawn with d3-geo after topojson-client unpacks them), one marker per
// region coloured by health (CSS, by data-status), and the last explained client's route.
// d3 and topojson are the packages' own UMD builds, loaded by index.html from /ui/.
import { s } from './dom.js';

const { d3, topojson } = globalThis;
const COUNTRIES_URL = '/ui/countries-110m.json';

const K = 4;
const NORTH = 84;
const SOUTH = -58;
const WIDTH = 360 * K;
const TOP = (90 - NORTH) * K;
const HEIGHT = (NORTH - SOUTH) * K;
const DOT_R = 7;
const LABEL_SIZE = 13; // keep in step with .region .label in style.css
const CHAR_W = 7.4;
/** Space kept between a label and the map's edge (the label's halo is 2 units wide). */
const EDGE = 2;

export function project(longitude, latitude) {
  return [(longitude + 180) * K, (90 - latitude) * K];
}

/** The same projection as project(), as d3-geo draws it, clipped to the map's frame. */
function geoProjection() {
  return d3.geoEquirectangular()
    .scale((K * 180) / Math.PI)
    .translate([180 * K, 90 * K])
    .clipExtent([[0, TOP], [WIDTH, TOP + HEIGHT]])
    .precision(0.5);
}

/** One <path class="country"> per Natural Earth country (name as its title), into `layer`. */
async function drawCountries(layer) {
  const res = await fetch(COUNTRIES_URL);
  if (!res.ok) throw new Error(`${COUNTRIES_URL}: ${res.status}`);
  const world = await res.json();
  const path = d3.geoPath(geoProjection());
  const countries = topojson.feature(world, world.objects.countries).features;
  const paths = [];
  for (const country of countries) {
    const d = path(country);
    if (!d) continue; // wholly outside the frame (Antarctica)
    const name = country.properties?.name ?? '';
    paths.push(s('path', { class: 'country', d, 'data-testid': 'country', 'data-name': name, 'data-id': country.id ?? '' }, s('title', {}, name)));
  }
  // Borders between countries, drawn once each (a mesh of shared arcs).
  const borders = path(topojson.mesh(world, world.objects.countries, (a, b) => a !== b));
  layer.replaceChildren(...paths, s('path', { class: 'borders', d: borders ?? '' }));
  layer.dataset.loaded = String(paths.length);
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

/** Moves a label choice horizontally and vertically until its box lies inside the frame. */
function clampInside(o) {
  const dx = o.box.x1 < EDGE ? EDGE - o.box.x1 : o.box.x2 > WIDTH - EDGE ? WIDTH - EDGE - o.box.x2 : 0;
  const dy = o.box.y1 < TOP + EDGE ? TOP + EDGE - o.box.y1 : o.box.y2 > TOP + HEIGHT - EDGE ? TOP + HEIGHT - EDGE - o.box.y2 : 0;
  return { ...o, x: o.x + dx, y: o.y + dy, box: { x1: o.box.x1 + dx, x2: o.box.x2 + dx, y1: o.box.y1 + dy, y2: o.box.y2 + dy } };
}

/**
 * Places labels greedily (west to east): right of the dot, else left, above, below; the first
 * place that lies inside the map and overlaps no dot and no earlier label wins. When none is
 * free, the first place inside the map; when none is inside, the first one moved inside. `p.w`
 * is the label's measured width (an estimate from its length when it cannot be measured).
 */
function placeLabels(points) {
  const boxes = points.map(({ x, y }) => ({ x1: x - DOT_R - 2, y1: y - DOT_R - 2, x2: x + DOT_R + 2, y2: y + DOT_R + 2 }));
  const overlaps = (b) => boxes.some((o) => b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2);
  const inside = (b) => b.x1 >= EDGE && b.x2 <= WIDTH - EDGE && b.y1 >= TOP + EDGE && b.y2 <= TOP + HEIGHT - EDGE;
  const order = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const placed = new Map();
  for (const p of order) {
    const w = p.w ?? p.text.length * CHAR_W;
    const gap = DOT_R + 4;
    const options = [
      { x: p.x + gap, y: p.y + 4.5, anchor: 'start', box: { x1: p.x + gap, x2: p.x + gap + w } },
      { x: p.x - gap, y: p.y + 4.5, anchor: 'end', box: { x1: p.x - gap - w, x2: p.x - gap } },
      { x: p.x, y: p.y - gap - 2, anchor: 'middle', box: { x1: p.x - w / 2, x2: p.x + w / 2 }, above: true },
      { x: p.x, y: p.y + gap + LABEL_SIZE - 1, anchor: 'middle', box: { x1: p.x - w / 2, x2: p.x + w / 2 } },
    ].map((o) => ({ ...o, box: { ...o.box, y1: o.y - LABEL_SIZE, y2: o.y + 4 } })); // ascent and descent of the font
    const choice = options.find((o) => inside(o.box) && !overlaps(o.box)) ?? options.find((o) => inside(o.box)) ?? clampInside(options[0]);
    boxes.push(choice.box);
    placed.set(p.key, choice);
  }
  return placed;
}

/**
 * Builds the map inside `container` and returns { update(regions), showRoute(client, region), clearRoute() }.
 * `onSelect(name)` runs when a region marker is clicked or activated with Enter/Space;
 * `onError(message)` when the countries cannot be loaded (the markers still work).
 */
export function createMap(container, { onSelect, onError } = {}) {
  const svg = s('svg', {
    class: 'world',
    viewBox: `0 ${TOP} ${WIDTH} ${HEIGHT}`,
    role: 'group',
    'aria-label': 'World map: one marker per region, coloured by health',
  });
  const land = s('g', { class: 'land', 'data-testid': 'countries', 'aria-hidden': 'true' });
  svg.append(s('rect', { class: 'ocean', x: 0, y: TOP, width: WIDTH, height: HEIGHT }), graticule(), land);
  drawCountries(land).catch((err) => {
    land.dataset.error = err.message;
    onError?.(`The world map could not be drawn: ${err.message}`);
  });
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
  function render(m, region) {
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
    if (previous !== undefined && previous !== status) {
      m.g.classList.remove('changed');
      void m.g.getBoundingClientRect(); // restart the highlight animation
      m.g.classList.add('changed');
    }
  }

  function update(regions) {
    const located = regions.filter((r) => r.location && Number.isFinite(r.location.latitude) && Number.isFinite(r.location.longitude));
    const seen = new Set();
    for (const region of located) {
      seen.add(region.name);
      let m = markers.get(region.name);
      if (!m) {
        m = createMarker(region.name);
        markers.set(region.name, m);
        render(m, region); // status first, so the dot does not fade in from grey
        regionLayer.append(m.g);
      } else render(m, region);
    }
    // Labels are measured in SVG units once they are in the document, so they can be kept inside.
    const labels = placeLabels(located.map((r) => {
      const [x, y] = project(r.location.longitude, r.location.latitude);
      const width = markers.get(r.name).label.getComputedTextLength?.() || undefined;
      return { key: r.name, x, y, text: r.name, w: width };
    }));
    for (const [name, label] of labels) {
      const m = markers.get(name);
      m.label.setAttribute('x', label.x);
      m.label.setAttribute('y', label.y);
      m.label.setAttribute('text-anchor', label.anchor);
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
