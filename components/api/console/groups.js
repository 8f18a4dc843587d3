// Synced groups with their product access, and the billable user count that
// follows from it.

import { get, put, orgPath, listOf, nameGroups } from './api.js';
import { h, add, fill, pageTitle, loading, loadFailed, announce, plural, newId } from './ui.js';
import { searchableList } from './listing.js';

async function billing() {
  return (await get(orgPath('/billing'))).data;
}

function groupRow(group, onToggled) {
  const id = newId('access');
  const errorId = `${id}-error`;
  const name = group.display_name;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const toggle = h('input', {
    type: 'checkbox',
    role: 'switch',
    id,
    checked: Boolean(group.product_access),
    'aria-describedby': errorId,
  });
  toggle.addEventListener('change', async () => {
    const enabled = toggle.checked;
    toggle.disabled = true;
    error.hidden = true;
    toggle.removeAttribute('aria-invalid');
    try {
      await put(orgPath(`/groups/${encodeURIComponent(group.id)}/product-access`), { enabled });
      group.product_access = enabled;
      await onToggled(name, enabled);
    } catch (err) {
      toggle.checked = !enabled;
      error.textContent = err.message;
      error.hidden = false;
      toggle.setAttribute('aria-invalid', 'true');
    } finally {
      toggle.disabled = false;
      toggle.focus();
    }
  });
  const parents = group.parents ?? [];
  return h(
    'tr',
    null,
    h(
      'th',
      { scope: 'row' },
      h('a', { class: 'group-name', href: `#/groups/${encodeURIComponent(group.id)}` }, name),
      group.description ? h('span', { class: 'hint' }, group.description) : null,
      parents.length ? h('span', { class: 'hint' }, 'Nested in ', parents.map((id, i) => [i ? ', ' : '', h('span', { 'data-group-id': id }, id)])) : null,
      group.synced === false
        ? h('span', { class: 'hint warning-text' }, group.not_synced_reason ? `Not synced: ${group.not_synced_reason}` : 'Not in the latest sync')
        : null,
    ),
    h('td', { 'data-label': 'Synced users' }, Number(group.member_count ?? 0).toLocaleString()),
    h('td', { 'data-label': 'In Entra ID' }, Number(group.entra_member_count ?? 0).toLocaleString()),
    h(
      'td',
      { 'data-label': 'Product access' },
      h('div', { class: 'switch' }, toggle, h('label', { for: id }, h('span', { class: 'visually-hidden' }, `Product access for ${name}`), h('span', { 'aria-hidden': 'true' }, group.product_access ? 'On' : 'Off'))),
      error,
    ),
  );
}

export async function renderGroups(main) {
  add(main, pageTitle('Groups & billing'));
  const billable = h('output', { class: 'big-number', 'aria-live': 'polite', id: 'billable-count' }, '…');
  const syncedUsers = h('span');
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more groups');
  const body = h('div', null, loading('Loading groups'));
  add(main, 
    h(
      'section',
      { class: 'card billing', 'aria-labelledby': 'billable-title' },
      h('h2', { id: 'billable-title' }, 'Billable users'),
      billable,
      h('p', { class: 'hint' }, 'Synced users count toward your bill when they belong to at least one group with product access. ', syncedUsers),
    ),
    body,
  );

  const refreshBillable = async () => {
    const { billable_users: n, synced_users: synced } = await billing();
    billable.textContent = n.toLocaleString();
    syncedUsers.textContent = `${plural(synced, 'synced user')} in all.`;
    return n;
  };
  const onToggled = async (name, enabled) => {
    const n = await refreshBillable();
    for (const label of tbody.querySelectorAll('.switch')) {
      label.querySelector('[aria-hidden]').textContent = label.querySelector('input').checked ? 'On' : 'Off';
    }
    announce(`Product access ${enabled ? 'granted to' : 'removed from'} ${name}. ${plural(n, 'billable user')}.`);
  };

  let cursor = null;
  const loadPage = async () => {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const { data } = await get(orgPath(`/groups${query}`));
    const groups = listOf(data);
    tbody.append(...groups.map((g) => groupRow(g, onToggled)));
    nameGroups(tbody);
    cursor = data?.next_cursor ?? null;
    more.hidden = !cursor;
    return groups.length;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const added = await loadPage();
      announce(`${plural(added, 'more group')} loaded.`);
    } catch (error) {
      announce(error.message);
    } finally {
      more.disabled = false;
    }
  });

  try {
    const [, count] = await Promise.all([refreshBillable(), loadPage()]);
    if (!count) {
      fill(body,
        h('p', null, 'No group has been synced yet. Groups appear here after a sync; grant them product access so their users can use your products.'),
        h('a', { class: 'button', href: '#/directories' }, 'Go to identity providers'),
      );
      return;
    }
  } catch (error) {
    fill(body, loadFailed(error, () => location.reload()));
    return;
  }
  fill(body,
    h('p', null, 'Grant product access to a group so its users can use your products. A group that didn’t exist before a sync has no product access until you grant it.'),
    h(
      'table',
      { class: 'groups data' },
      h('caption', { class: 'visually-hidden' }, 'Synced groups and their product access'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Group'), h('th', { scope: 'col' }, 'Synced users'), h('th', { scope: 'col', title: 'Users in the group in Entra ID, synced or not' }, 'In Entra ID'), h('th', { scope: 'col' }, 'Product access'))),
      tbody,
    ),
    more,
  );
}

function memberRow(member) {
  return h(
    'tr',
    null,
    h('th', { scope: 'row' }, h('a', { href: `#/users/${encodeURIComponent(member.user_id)}` }, member.display_name || member.user_principal_name)),
    h('td', { 'data-label': 'Sign-in name' }, member.user_principal_name),
    h('td', { 'data-label': 'Membership' }, member.direct ? 'Direct' : 'Through a nested group'),
  );
}

/** One group: its counts and its members, searchable by name, sign-in name or mail; `query` (the hash's) fills the search. */
export async function renderGroup(main, id, query) {
  add(main, h('p', null, h('a', { href: '#/groups' }, '← All groups')));
  const body = h('div', null, loading('Loading the group'));
  add(main, body);
  let group;
  try {
    group = (await get(orgPath(`/groups/${encodeURIComponent(id)}`))).data.group;
  } catch (error) {
    main.prepend(pageTitle('Group'));
    fill(body, loadFailed(error, () => location.reload()));
    return null;
  }
  main.prepend(pageTitle(group.display_name));
  const members = searchableList({
    label: 'Search members',
    hint: 'Name, sign-in name or mail',
    path: (params) => orgPath(`/groups/${encodeURIComponent(id)}/members?${params}`),
    row: memberRow,
    columns: ['Name', 'Sign-in name', 'Membership'],
    caption: `Members of ${group.display_name}`,
    noun: 'member',
    route: `#/groups/${encodeURIComponent(id)}`,
    query,
  });
  fill(body,
    h(
      'dl',
      { class: 'facts' },
      h('div', null, h('dt', null, 'Synced users'), h('dd', null, Number(group.member_count ?? 0).toLocaleString())),
      h('div', null, h('dt', null, 'In Entra ID'), h('dd', null, Number(group.entra_member_count ?? 0).toLocaleString())),
      h('div', null, h('dt', null, 'Product access'), h('dd', null, group.product_access ? 'On' : 'Off')),
    ),
    group.synced === false ? h('p', { class: 'notice warning' }, group.not_synced_reason ? `Not synced: ${group.not_synced_reason}` : 'Not in the latest sync') : null,
    members.form,
    members.summary,
    members.table,
    members.more,
  );
  try {
    await members.load();
  } catch (error) {
    members.summary.textContent = error.message;
  }
  return members.stop;
}
