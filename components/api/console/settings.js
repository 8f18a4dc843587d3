// The sync settings form: automatic syncing, domains, users and groups,
// emails to new users, previously synced groups and the removal guard; Sync
// and Save and sync later.

import { get, put, dirPath, listOf, groupName } from './api.js';
import { h, fill, newId, formError, showErrors, clearErrors, announce, plural, textField } from './ui.js';

// The removal guard's limits: the API's defaults and ranges.
const GUARD_MAX_USERS = { fallback: 500, min: 1, max: 1_000_000 };
const GUARD_MAX_PERCENT = { fallback: 20, min: 1, max: 100 };
import { confirmAndSync, setAutoSync } from './sync.js';

// The settings as the API sends them <-> the form's state. Only these two
// functions and the `data-field` paths below know the wire shape.
function fromApi(data) {
  const s = data?.settings ?? {};
  return {
    autoSync: Boolean(s.auto_sync),
    domainsMode: s.domains?.mode === 'only' ? 'only' : 'all',
    domainNames: s.domains?.names ?? [],
    scopeMode: s.scope?.mode === 'groups' ? 'groups' : 'all_users_and_groups',
    groups: (s.scope?.group_ids ?? []).map((id) => ({ id })),
    sendEmail: Boolean(s.send_email),
    keepPrevious: Boolean(s.keep_previous_groups),
    // Absent means the default: on, 500 users, 20 %.
    guardEnabled: s.removal_guard?.enabled !== false,
    guardMaxUsers: String(s.removal_guard?.max_users ?? GUARD_MAX_USERS.fallback),
    guardMaxPercent: String(s.removal_guard?.max_percent ?? GUARD_MAX_PERCENT.fallback),
  };
}

/** A whole number typed in a limit's input, or the text as typed (so the API names the field). */
const typedNumber = (text) => (/^\s*\d+\s*$/.test(text) ? Number(text) : text);
const inRange = (value, { min, max }) => Number.isInteger(value) && value >= min && value <= max;

// While the guard is on its limits go as typed (the API says what is wrong
// with them, next to them); while it is off they are hidden, so only valid
// ones are kept for when it is turned back on.
function guardToApi(state) {
  const maxUsers = typedNumber(state.guardMaxUsers);
  const maxPercent = typedNumber(state.guardMaxPercent);
  if (state.guardEnabled) return { enabled: true, max_users: maxUsers, max_percent: maxPercent };
  return {
    enabled: false,
    ...(inRange(maxUsers, GUARD_MAX_USERS) ? { max_users: maxUsers } : {}),
    ...(inRange(maxPercent, GUARD_MAX_PERCENT) ? { max_percent: maxPercent } : {}),
  };
}

// `auto_sync` is not sent: only Sync and the automatic-syncing switch change it.
function toApi(state) {
  return {
    domains: state.domainsMode === 'only' ? { mode: 'only', names: state.domainNames } : { mode: 'all' },
    scope:
      state.scopeMode === 'groups'
        ? { mode: 'groups', group_ids: state.groups.map((g) => g.id) }
        : { mode: 'all_users_and_groups' },
    send_email: state.sendEmail,
    keep_previous_groups: state.keepPrevious,
    removal_guard: guardToApi(state),
  };
}

/** A radio button with its label and an optional hint, inside a `.choice`. */
function radio(name, value, checked, label, hint) {
  const id = newId(name);
  const hintId = hint ? `${id}-hint` : null;
  return h(
    'div',
    { class: 'choice' },
    h('input', { type: 'radio', id, name, value, checked, 'aria-describedby': hintId }),
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
  );
}

/** A checkbox with its label and an optional hint, inside a `.choice` that is also a `.field`. */
function checkbox(name, field, checked, label, hint) {
  const id = newId(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  return h(
    'div',
    { class: 'choice field', 'data-field': field },
    h('input', { type: 'checkbox', id, name, checked, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') }),
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/** A fieldset whose legend names it and whose error slot takes the API's messages for `field`. */
function group(legend, field, ...children) {
  return h(
    'fieldset',
    { class: 'field', 'data-field': field },
    h('legend', null, legend),
    h('p', { class: 'field-error', hidden: true }),
    ...children,
  );
}

/** The domain picker: the tenant's domains, unverified ones shown but not selectable. */
function domainPicker(dir, state) {
  const list = h('ul', { class: 'options' });
  const picker = h(
    'div',
    { class: 'picker field', 'data-field': 'domains.names' },
    h('p', { class: 'picker-title', id: newId('domains-title') }, 'Domains in your tenant'),
    h('p', { class: 'field-error', hidden: true }),
    list,
  );
  list.append(h('li', { class: 'loading', role: 'status' }, 'Loading your tenant’s domains…'));

  const isSelected = (name) => state.domainNames.some((n) => n.toLowerCase() === name.toLowerCase());
  const option = (name, verified, note) => {
    const id = newId('domain');
    const noteId = note ? `${id}-note` : null;
    return h(
      'li',
      { class: verified ? null : 'unavailable' },
      h('input', {
        type: 'checkbox',
        id,
        name: 'domain',
        value: name,
        checked: verified && isSelected(name),
        disabled: !verified,
        'aria-describedby': noteId,
        onchange: (event) => {
          state.domainNames = state.domainNames.filter((n) => n.toLowerCase() !== name.toLowerCase());
          if (event.target.checked) state.domainNames.push(name);
        },
      }),
      h('label', { for: id }, name),
      note ? h('p', { class: 'hint', id: noteId }, note) : null,
    );
  };

  get(dirPath(dir, '/tenant/domains'))
    .then(({ data }) => {
      const domains = listOf(data, 'domains');
      const known = new Set(domains.map((d) => d.id.toLowerCase()));
      const items = domains.map((d) =>
        d.is_verified
          ? option(d.id, true)
          : option(d.id, false, 'Not verified in Azure AD, so it can’t be selected. Verify it in Azure AD first.'),
      );
      // A saved domain the tenant no longer has stays visible so it can be removed.
      for (const name of state.domainNames.filter((n) => !known.has(n.toLowerCase()))) {
        items.push(option(name, true, 'No longer found in your tenant.'));
      }
      fill(list, ...(items.length ? items : [h('li', null, 'Your tenant has no domains.')]));
    })
    .catch((error) => {
      fill(list, h('li', { class: 'form-error', role: 'alert' }, `Couldn’t read your tenant’s domains: ${error.message}`));
    });
  return picker;
}

/** The group picker: a search over the tenant's groups and the list of selected ones. */
function groupPicker(dir, state) {
  const searchId = newId('group-search');
  const resultsId = newId('group-results');
  const search = h('input', { type: 'search', id: searchId, name: 'group-search', autocomplete: 'off', 'aria-controls': resultsId });
  const results = h('ul', { class: 'options', id: resultsId, 'aria-label': 'Groups found' });
  const resultsStatus = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const selectedList = h('ul', { class: 'selected-groups' });
  const selectedTitle = h('p', { class: 'picker-title' });

  const isSelected = (id) => state.groups.some((g) => g.id === id);
  const renderSelected = () => {
    selectedTitle.textContent = state.groups.length ? `Selected: ${plural(state.groups.length, 'group')}` : 'No group selected yet.';
    fill(selectedList,
      ...state.groups.map((g) =>
        h(
          'li',
          null,
          h('span', null, g.display_name ?? g.id),
          h(
            'button',
            {
              type: 'button',
              class: 'link-button',
              'aria-label': `Remove ${g.display_name ?? g.id}`,
              onclick: () => {
                state.groups = state.groups.filter((x) => x.id !== g.id);
                renderSelected();
                for (const box of results.querySelectorAll('input')) box.checked = isSelected(box.value);
                announce(`${g.display_name ?? g.id} removed.`);
                search.focus();
              },
            },
            'Remove',
          ),
        ),
      ),
    );
  };

  let seq = 0;
  const runSearch = async () => {
    const mine = ++seq;
    const query = search.value.trim();
    resultsStatus.textContent = 'Searching…';
    try {
      const { data } = await get(dirPath(dir, `/tenant/groups?search=${encodeURIComponent(query)}`));
      if (mine !== seq) return;
      const groups = listOf(data, 'groups');
      // Saved groups come back as ids only; names learned here label them.
      for (const g of groups) {
        const saved = state.groups.find((x) => x.id === g.id);
        if (saved && !saved.display_name) saved.display_name = g.display_name;
      }
      renderSelected();
      fill(results,
        ...groups.map((g) => {
          const id = newId('group');
          return h(
            'li',
            null,
            h('input', {
              type: 'checkbox',
              id,
              value: g.id,
              checked: isSelected(g.id),
              onchange: (event) => {
                state.groups = state.groups.filter((x) => x.id !== g.id);
                if (event.target.checked) state.groups.push({ id: g.id, display_name: g.display_name });
                renderSelected();
              },
            }),
            h('label', { for: id }, g.display_name),
            g.description ? h('p', { class: 'hint' }, g.description) : null,
          );
        }),
      );
      const more = data?.next_cursor ? ' Refine the search to see more.' : '';
      resultsStatus.textContent = groups.length
        ? `${plural(groups.length, 'group')} found.${more}`
        : `No group matches “${query}”.`;
    } catch (error) {
      if (mine !== seq) return;
      fill(results);
      resultsStatus.textContent = `Couldn’t search your tenant’s groups: ${error.message}`;
    }
  };
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, 250);
  });
  // Enter searches at once instead of submitting the settings form.
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      runSearch();
    }
  });

  renderSelected();
  runSearch();
  // Selected groups are saved as ids; synced ones have names to show (the search may teach them first).
  Promise.all(
    state.groups.map(async (g) => {
      const name = await groupName(g.id);
      if (name && !g.display_name) g.display_name = name;
    }),
  ).then(renderSelected);
  return h(
    'div',
    { class: 'picker field', 'data-field': 'scope.group_ids' },
    h('label', { for: searchId, class: 'picker-title' }, 'Search your tenant’s groups'),
    h('p', { class: 'field-error', hidden: true }),
    search,
    resultsStatus,
    results,
    selectedTitle,
    selectedList,
  );
}

/**
 * Renders the settings form for directory `dir` into `container`.
 * `hasSynced`: a run has started before; `running`: one is in progress now;
 * `autoSyncOn`: automatic syncing as the sync status reports it.
 */
export async function renderSettings(container, dir, { hasSynced, running, autoSyncOn }) {
  let state;
  let etag;
  try {
    const response = await get(dirPath(dir, '/settings'));
    state = fromApi(response.data);
    etag = response.etag;
  } catch (error) {
    fill(container, h('div', { class: 'notice error', role: 'alert' }, error.message));
    return;
  }
  state.autoSync = autoSyncOn ?? state.autoSync;

  const domains = domainPicker(dir, state);
  const groups = groupPicker(dir, state);
  domains.hidden = state.domainsMode !== 'only';
  groups.hidden = state.scopeMode !== 'groups';
  const guardLimits = h(
    'div',
    { class: 'guard-limits' },
    textField({
      label: 'Ask when more than this many synced users would leave',
      name: 'removal_guard_max_users',
      field: 'removal_guard.max_users',
      type: 'number',
      value: state.guardMaxUsers,
      hint: `From ${GUARD_MAX_USERS.min} to ${GUARD_MAX_USERS.max.toLocaleString()}; ${GUARD_MAX_USERS.fallback} unless you change it.`,
      min: String(GUARD_MAX_USERS.min),
      max: String(GUARD_MAX_USERS.max),
      step: '1',
      inputmode: 'numeric',
    }),
    textField({
      label: 'Ask when more than this percentage of synced users would leave',
      name: 'removal_guard_max_percent',
      field: 'removal_guard.max_percent',
      type: 'number',
      value: state.guardMaxPercent,
      hint: `From ${GUARD_MAX_PERCENT.min} to ${GUARD_MAX_PERCENT.max} %; ${GUARD_MAX_PERCENT.fallback} % unless you change it. The lower of the two limits applies.`,
      min: String(GUARD_MAX_PERCENT.min),
      max: String(GUARD_MAX_PERCENT.max),
      step: '1',
      inputmode: 'numeric',
    }),
  );
  guardLimits.hidden = !state.guardEnabled;

  const saved = h('div', { class: 'notice success', hidden: true });
  const form = h(
    'form',
    { class: 'settings', novalidate: true, 'aria-label': 'Sync settings' },
    running
      ? h('div', { class: 'notice warning' }, 'A sync is in progress and can’t be stopped. Changes you save here apply to the next sync.')
      : null,
    group(
      'Automatic syncing',
      'auto_sync',
      radio('auto_sync', 'on', state.autoSync, 'Enable automatic syncing', 'After you select Sync, we sync your users every 4 hours.'),
      radio('auto_sync', 'off', !state.autoSync, 'Disable automatic syncing', 'You need to sync manually.'),
    ),
    group(
      'Domains to verify',
      'domains',
      h('p', { class: 'hint' }, 'We verify your domains from Azure AD and claim the accounts under them. Only users from verified domains sync; external (guest) users always sync, whatever their domain. A domain must have the Verified status in Azure AD.'),
      radio('domains_mode', 'all', state.domainsMode === 'all', 'Verify all available domains', 'Every domain that is verified in Azure AD.'),
      radio('domains_mode', 'only', state.domainsMode === 'only', 'Verify only specific domains'),
      domains,
    ),
    group(
      'Users to sync',
      'scope',
      radio('scope_mode', 'all_users_and_groups', state.scopeMode === 'all_users_and_groups', 'Sync all users and groups', 'New users and groups you create in Azure AD are included in the next sync.'),
      radio('scope_mode', 'groups', state.scopeMode === 'groups', 'Sync specific groups and their users', 'We sync the groups you select with their users and nested groups. Nested groups are flattened and keep their memberships.'),
      groups,
      h('p', { class: 'note' }, 'You can sync up to 10,000 users to a group at a time. Split a larger group into groups of at most 10,000 users.'),
    ),
    group(
      'Emails and previously synced groups',
      'options',
      checkbox('send_email', 'send_email', state.sendEmail, 'Send an email to new users about their accounts'),
      checkbox(
        'keep_previous_groups',
        'keep_previous_groups',
        state.keepPrevious,
        'Keep syncing all previously synced groups',
        'Groups you synced before stay in the sync, so you don’t need to grant them product access again.',
      ),
    ),
    group(
      'Removal guard',
      'removal_guard',
      h('p', { class: 'hint' }, 'A sync that would take many users out of the sync, or product access from any group, stops before it removes anything and waits for you to confirm or reject on the Sync status page.'),
      checkbox(
        'removal_guard_enabled',
        'removal_guard.enabled',
        state.guardEnabled,
        'Ask before removing many users or any product access',
        'Turned off, every sync removes what it must without asking.',
      ),
      guardLimits,
    ),
    formError(),
    saved,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', name: 'sync', value: 'sync' }, 'Sync'),
      h('button', { type: 'submit', name: 'later', value: 'later', class: 'secondary' }, 'Save and sync later'),
      hasSynced ? h('a', { class: 'button secondary', href: `#/directories/${encodeURIComponent(dir)}/status` }, 'Cancel') : null,
    ),
  );

  form.addEventListener('change', (event) => {
    const { name, value } = event.target;
    if (name === 'auto_sync') state.autoSync = value === 'on';
    if (name === 'domains_mode') {
      state.domainsMode = value;
      domains.hidden = value !== 'only';
    }
    if (name === 'scope_mode') {
      state.scopeMode = value;
      groups.hidden = value !== 'groups';
    }
    if (name === 'send_email') state.sendEmail = event.target.checked;
    if (name === 'keep_previous_groups') state.keepPrevious = event.target.checked;
    if (name === 'removal_guard_enabled') {
      state.guardEnabled = event.target.checked;
      guardLimits.hidden = !state.guardEnabled;
    }
  });
  // Typed limits are kept as they are typed, so Enter in one saves what it shows.
  form.addEventListener('input', (event) => {
    const { name, value } = event.target;
    if (name === 'removal_guard_max_users') state.guardMaxUsers = value;
    if (name === 'removal_guard_max_percent') state.guardMaxPercent = value;
  });

  const save = async () => {
    clearErrors(form);
    saved.hidden = true;
    try {
      const response = await put(dirPath(dir, '/settings'), toApi(state), { ifMatch: etag });
      etag = response.etag ?? etag;
      return true;
    } catch (error) {
      if (error.status === 412) {
        error.message = 'Someone else changed these settings since you opened them. Reload the page to see their version.';
      }
      showErrors(form, error);
      return false;
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = event.submitter?.value ?? 'later';
    const buttons = [...form.querySelectorAll('.actions button')];
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (!(await save())) return;
      if (action === 'sync') {
        const started = await confirmAndSync(dir, { autoSync: state.autoSync, hasSynced, returnFocus: event.submitter });
        if (started) {
          location.hash = `#/directories/${encodeURIComponent(dir)}/status`;
        } else {
          showSaved('Settings saved. The sync did not start.');
        }
        return;
      }
      // Save and sync later: automatic syncing is only turned on by Sync, but turning it off applies now.
      if (!state.autoSync && autoSyncOn) await setAutoSync(dir, false);
      showSaved(
        state.autoSync && !autoSyncOn
          ? 'Settings saved. Select Sync to start syncing and turn on automatic syncing.'
          : 'Settings saved. They apply to the next sync.',
      );
    } catch (error) {
      showErrors(form, error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  function showSaved(message) {
    saved.textContent = message;
    saved.hidden = false;
    announce(message);
  }

  fill(container, form);
}

