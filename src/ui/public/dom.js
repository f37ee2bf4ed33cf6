// Tiny DOM helpers. Everything from the API goes in as text (textContent / attributes), never as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('td', { class: 'num' }, '12 km') -> <td class="num">12 km</td> */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * "2026-12-06 02:45:26 +01:00": the browser's local date and time with its UTC offset, so a time
 * read aloud or pasted into a ticket is never ambiguous.
 */
export function formatTime(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`;
}

/** A <time> with the local date, time and UTC offset; the ISO instant (UTC) and the zone's name as its title. */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { class: 'muted' }, String(iso));
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return h('time', { datetime: d.toISOString(), title: `${d.toISOString()} (${zone})` }, formatTime(d));
}

/** A health status as a coloured pill with its word (colour is never the only signal). */
export function statusPill(status) {
  const known = ['healthy', 'unhealthy', 'unknown'].includes(status) ? status : 'unknown';
  return h('span', { class: `pill ${known}`, dataset: { status: known } }, status ?? 'unknown');
}

export function percent(share) {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;
}
