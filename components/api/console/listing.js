// A searchable, cursor-paged table (users, a group's members): a search box
// that searches as the admin types, optional filters, and "Load more".

import { get, listOf } from './api.js';
import { h, fill, announce, plural, newId } from './ui.js';

/** Waits this long after the last keystroke before searching. */
const SEARCH_DELAY_MS = 250;

/**
 * A request reads a bounded part of a large directory, so a search that
 * matches little answers short (even empty) pages with a cursor. One load
 * goes on asking until it has this many rows, or has asked MAX_ASKS times.
 */
const ROWS_PER_LOAD = 25;
const MAX_ASKS = 20;

/**
 * Builds the parts of a searchable listing. `path(params)` is the API path
 * for the query (`URLSearchParams` with `search`, the filters and `cursor`);
 * `filters` are `<select>`s whose `name` is the query parameter; `row(item)`
 * builds a `<tr>`; `columns` are the header labels; `noun` counts the items.
 * `route` is the page's hash (`#/users`) and `query` the `URLSearchParams`
 * after its `?`: the search and filters start from it, and each search
 * rewrites it in place (no history entry per keystroke), so a search can be
 * bookmarked and shared.
 * Returns `{ form, summary, table, more, load, stop }`: `load()` reads the
 * first page, `stop()` cancels a pending search.
 */
export function searchableList({ label, hint, filters = [], path, row, columns, caption, noun, route, query = new URLSearchParams() }) {
  const searchId = newId('search');
  const search = h('input', { type: 'search', id: searchId, name: 'search', autocomplete: 'off', spellcheck: 'false', value: query.get('search') ?? '' });
  for (const { select } of filters) select.value = query.get(select.name) ?? '';
  const form = h(
    'form',
    { class: 'card filters', role: 'search', 'aria-label': caption },
    h('div', { class: 'field' }, h('label', { for: searchId }, label), h('p', { class: 'hint' }, hint), search),
    filters.map(({ label: filterLabel, select }) => {
      select.id ||= newId(select.name);
      return h('div', { class: 'field' }, h('label', { for: select.id }, filterLabel), select);
    }),
  );
  const tbody = h('tbody');
  const summary = h('p', { class: 'hint', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, `Load more ${noun}s`);
  const table = h(
    'table',
    { class: 'data' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );

  let cursor = null;
  let shown = 0;
  let seq = 0;
  /** The search and filters as a query (what the hash keeps). */
  const criteria = () => {
    const p = new URLSearchParams();
    if (search.value.trim()) p.set('search', search.value.trim());
    for (const { select } of filters) if (select.value) p.set(select.name, select.value);
    return p;
  };
  const params = () => {
    const p = criteria();
    if (cursor) p.set('cursor', cursor);
    return p;
  };
  /** Keeps the hash on what is shown, replacing the entry rather than adding one. */
  const keepInHash = () => {
    const q = criteria().toString();
    history.replaceState(history.state, '', `${route}${q ? `?${q}` : ''}`);
  };
  /**
   * Reads the first rows (`fresh`) or the next ones, asking again while the
   * answers are short and say there is more; the count of rows added, or
   * `null` when a newer search overtook it.
   */
  const loadPage = async (fresh) => {
    const mine = ++seq;
    if (fresh) cursor = null;
    let added = 0;
    for (let asks = 0; asks < MAX_ASKS; asks += 1) {
      const { data } = await get(path(params()));
      if (mine !== seq) return null;
      const items = listOf(data);
      if (fresh && asks === 0) {
        fill(tbody);
        shown = 0;
      }
      tbody.append(...items.map(row));
      added += items.length;
      cursor = data?.next_cursor ?? null;
      if (!cursor || added >= ROWS_PER_LOAD) break;
    }
    shown += added;
    more.hidden = !cursor;
    summary.textContent = shown
      ? `${plural(shown, noun)} shown${cursor ? ', more to load' : ''}.`
      : cursor
        ? `No ${noun} matches yet: part of the directory is still to search.`
        : `No ${noun} matches.`;
    table.hidden = !shown;
    return added;
  };
  const reload = () => {
    keepInHash();
    return loadPage(true).catch((error) => {
      summary.textContent = error.message;
    });
  };
  let timer = null;
  const stop = () => clearTimeout(timer);
  search.addEventListener('input', () => {
    stop();
    timer = setTimeout(reload, SEARCH_DELAY_MS);
  });
  for (const { select } of filters) select.addEventListener('change', reload);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    stop();
    reload();
  });
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const added = await loadPage(false);
      if (added != null) announce(`${plural(added, `more ${noun}`)} loaded.`);
    } catch (error) {
      announce(error.message);
    } finally {
      more.disabled = false;
    }
  });
  return { form, summary, table, more, load: () => loadPage(true), stop };
}
