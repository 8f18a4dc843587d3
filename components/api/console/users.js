// Synced users: search by name, sign-in name (UPN) or mail, filter by
// status, and a user's detail with its groups, its runs and why it is not
// synced (the engine says why; this page only shows it).

import { get, orgPath } from './api.js';
import { h, add, fill, pageTitle, loading, loadFailed, timeEl } from './ui.js';
import { searchableList } from './listing.js';

/** The listing's filters: API value and label. */
const FILTERS = [
  ['', 'All users'],
  ['synced', 'Synced'],
  ['not_synced', 'Not synced'],
  ['disabled', 'Disabled in Entra ID'],
  ['guest', 'Guests'],
];

const userHref = (id) => `#/users/${encodeURIComponent(id)}`;

/** Badges for what an admin scans for: synced or not, disabled, guest. */
function statusBadges(user) {
  return [
    user.synced ? h('span', { class: 'badge ok' }, 'Synced') : h('span', { class: 'badge warn' }, 'Not synced'),
    user.account_enabled ? null : h('span', { class: 'badge bad' }, 'Disabled'),
    user.guest ? h('span', { class: 'badge' }, 'Guest') : null,
  ].filter(Boolean).flatMap((badge, i) => (i ? [' ', badge] : [badge]));
}

function userRow(user) {
  return h(
    'tr',
    null,
    h(
      'th',
      { scope: 'row' },
      h('a', { href: userHref(user.id) }, user.display_name || user.user_principal_name),
      user.not_synced_reason ? h('span', { class: 'hint warning-text' }, user.not_synced_reason) : null,
    ),
    h('td', { 'data-label': 'Sign-in name' }, user.user_principal_name),
    h('td', { 'data-label': 'Mail' }, user.mail ?? '—'),
    h('td', { 'data-label': 'Status' }, statusBadges(user)),
  );
}

/** The Users page: a search box, a status filter and a paged table; `query` (the hash's) fills them. */
export async function renderUsers(main, query) {
  add(main, pageTitle('Users'));
  const filter = h('select', { name: 'filter' }, FILTERS.map(([value, label]) => h('option', { value }, label)));
  const users = searchableList({
    label: 'Search',
    hint: 'Name, sign-in name or mail',
    filters: [{ label: 'Show', select: filter }],
    path: (params) => orgPath(`/users?${params}`),
    row: userRow,
    columns: ['Name', 'Sign-in name', 'Mail', 'Status'],
    caption: 'Users',
    noun: 'user',
    route: '#/users',
    query,
  });
  const body = h('div', null, loading('Loading users'));
  add(main, users.form, body);
  try {
    await users.load();
  } catch (error) {
    fill(body, loadFailed(error, () => location.reload()));
    return users.stop;
  }
  fill(body, users.summary, users.table, users.more);
  return users.stop;
}

function fact(label, ...value) {
  return h('div', null, h('dt', null, label), h('dd', null, ...value));
}

/** "Run 3"; a dash when there is no run. */
const runLabel = (run) => (run == null ? '—' : `Run ${run}`);

function groupList(groups) {
  if (!groups.length) return h('p', { class: 'hint' }, 'Not a member of any synced group.');
  return h(
    'ul',
    { class: 'user-groups' },
    groups.map((g) =>
      h('li', null, h('a', { href: `#/groups/${encodeURIComponent(g.id)}` }, g.display_name || g.id), ' ', h('span', { class: 'hint' }, g.direct ? 'direct member' : 'through a nested group')),
    ),
  );
}

/** One user's detail: who, status (and why not synced), runs, groups. */
export async function renderUser(main, id) {
  add(main, h('p', null, h('a', { href: '#/users' }, '← All users')));
  const body = h('div', null, loading('Loading the user'));
  add(main, body);
  let detail;
  try {
    detail = (await get(orgPath(`/users/${encodeURIComponent(id)}`))).data;
  } catch (error) {
    main.prepend(pageTitle('User'));
    fill(body, loadFailed(error, () => location.reload()));
    return;
  }
  const { user, groups = [] } = detail;
  main.prepend(pageTitle(user.display_name || user.user_principal_name));
  fill(body,
    h('p', null, statusBadges(user)),
    user.not_synced_reason ? h('div', { class: 'notice warning', role: 'note' }, h('p', null, `Not synced: ${user.not_synced_reason}.`)) : null,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'user-facts' },
      h('h2', { id: 'user-facts' }, 'Account'),
      h(
        'dl',
        { class: 'facts user-facts' },
        fact('Sign-in name', user.user_principal_name),
        fact('Mail', user.mail ?? '—'),
        fact('Domain', user.domain || '—'),
        fact('Job title', user.job_title ?? '—'),
        fact('Department', user.department ?? '—'),
        fact('Created by', runLabel(user.created_run), ' · ', timeEl(user.created_at)),
        fact('Last changed by', runLabel(user.changed_run)),
        user.left_run != null ? fact('Left the scope in', runLabel(user.left_run)) : null,
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'user-groups' }, h('h2', { id: 'user-groups' }, `Groups (${groups.length})`), groupList(groups)),
  );
}
