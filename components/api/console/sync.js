// Starting a sync: the confirmation (the preview of what will sync), the
// start itself, and automatic syncing on/off.

import { post, put, dirPath, listOf } from './api.js';
import { h, newId, plural, setFlash, formError, showErrors } from './ui.js';

export const STARTED_MESSAGE =
  'Sync started. Once a sync starts you can’t stop it. You can still edit the sync settings; your changes apply to the next sync.';

export async function setAutoSync(dir, enabled) {
  await put(dirPath(dir, '/auto-sync'), { enabled });
}

const names = (items) => (items ?? []).map((x) => (typeof x === 'string' ? x : x.display_name ?? x.name ?? x.id));

/** A titled list, or `empty` when there is nothing in it. */
function section(title, items, empty) {
  const id = newId('preview');
  return h(
    'section',
    { class: 'preview-section', 'aria-labelledby': id },
    h('h3', { id }, title),
    items.length ? h('ul', null, items.map((x) => h('li', null, x))) : h('p', null, empty),
  );
}

/** What the preview says will change since the previous completed sync. */
function changes(preview) {
  const c = preview.changes ?? {};
  const lines = [];
  const add = (list, text) => {
    const n = names(list);
    if (n.length) lines.push(`${text}: ${n.join(', ')}`);
  };
  add(c.groups_added, 'Groups added');
  add(c.groups_removed, 'Groups removed (they lose product access)');
  add(c.domains_added, 'Domains added');
  add(c.domains_removed, 'Domains removed');
  if (c.scope_changed) lines.push(`Users to sync changed to ${preview.scope === 'all' ? 'all users and groups' : 'specific groups'}`);
  const first = preview.first_sync ?? c.first_sync;
  return section('Changes since the previous sync', lines, first ? 'This is your first sync.' : 'No changes since the previous sync.');
}

/**
 * Shows what a sync would do now and asks to confirm. Resolves `true` once
 * the run has started, `false` when the admin cancelled.
 */
export async function confirmAndSync(dir, { autoSync, returnFocus }) {
  const { data: preview } = await post(dirPath(dir, '/sync/preview'), {});
  const groups = names(listOf(preview.groups, 'groups'));
  const domains = names(listOf(preview.domains, 'domains'));
  const allScope = preview.scope === 'all' || preview.scope?.mode === 'all';

  const titleId = newId('confirm-title');
  const startButton = h('button', { type: 'submit', value: 'start', autofocus: true }, 'Start sync');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: titleId }, 'Start syncing your users?'),
    section('Domains to verify', domains, 'No verified domain: only external (guest) users will sync.'),
    allScope
      ? section('Users and groups to sync', ['All users and groups in your tenant'], '')
      : section('Groups to sync', groups, 'No group selected.'),
    changes(preview),
    h(
      'p',
      { class: 'notice warning' },
      'Once you start the sync, you won’t be able to stop it. You can edit the sync settings, but your changes apply to the next sync.',
    ),
    h('p', null, autoSync ? 'Automatic syncing will be on: we sync your users every 4 hours.' : 'Automatic syncing stays off: you sync manually.'),
    formError(),
    h(
      'div',
      { class: 'actions' },
      startButton,
      h('button', { type: 'button', class: 'secondary', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
    ),
  );
  const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': titleId }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      startButton.disabled = true;
      try {
        await post(dirPath(dir, '/sync'), {});
        // Sync turns automatic syncing on; an admin who chose manual syncing keeps it off.
        if (!autoSync) await setAutoSync(dir, false);
        setFlash(STARTED_MESSAGE);
        dialog.close('started');
      } catch (error) {
        showErrors(form, error);
        startButton.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      returnFocus?.focus();
      resolve(dialog.returnValue === 'started');
    });
    dialog.showModal();
  });
}
