// Starting a sync: the confirmation (the preview of what will sync), the
// start itself, and automatic syncing on/off.

import { post, put, dirPath } from './api.js';
import { h, newId, setFlash, formError, showErrors } from './ui.js';

const STARTED_MESSAGE =
  'Sync started. Once a sync starts you can’t stop it. You can still edit the sync settings; your changes apply to the next sync.';

export async function setAutoSync(dir, enabled) {
  await put(dirPath(dir, '/auto-sync'), { enabled });
}

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

/** What changes since the previous completed sync. */
function changes(preview, hasSynced) {
  const c = preview.changes ?? {};
  const groupList = (refs) => refs.map((g) => g.display_name ?? g.id).join(', ');
  const lines = [];
  if (c.groups_added?.length) lines.push(`Groups added: ${groupList(c.groups_added)}`);
  if (c.groups_removed?.length) {
    lines.push(`Groups removed: ${groupList(c.groups_removed)}. Unless you keep previously synced groups, they lose product access.`);
  }
  if (c.domains_added?.length) lines.push(`Domains added: ${c.domains_added.join(', ')}`);
  if (c.domains_removed?.length) lines.push(`Domains removed: ${c.domains_removed.join(', ')}`);
  return section('Changes since the previous sync', lines, hasSynced ? 'No changes since the previous sync.' : 'This is your first sync.');
}

/**
 * Shows what a sync would do now and asks to confirm. Resolves `true` once
 * the run has started, `false` when the admin cancelled.
 */
export async function confirmAndSync(dir, { autoSync, hasSynced, returnFocus }) {
  let preview;
  try {
    ({ data: preview } = await post(dirPath(dir, '/sync/preview')));
  } catch (error) {
    // Said where the admin pressed Sync, by the caller: nothing has started.
    error.message = `The sync didn’t start: ${error.message}`;
    throw error;
  }
  const domains = (preview.domains ?? []).filter((d) => d.will_sync).map((d) => d.name);
  const groups = (preview.groups ?? []).map((g) =>
    [g.display_name ?? `${g.id} (not found in your tenant)`, g.kept_from_previous ? ' (previously synced, kept)' : ''].join(''),
  );
  const warnings = preview.warnings ?? [];

  const titleId = newId('confirm-title');
  const startButton = h('button', { type: 'submit', value: 'start', autofocus: true }, 'Start sync');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: titleId }, 'Start syncing your users?'),
    section('Domains to verify', domains, 'No verified domain: only external (guest) users will sync.'),
    preview.all_users_and_groups
      ? section('Users and groups to sync', ['All users and groups in your tenant'], '')
      : section('Groups to sync', groups, 'No group selected.'),
    changes(preview, hasSynced),
    warnings.length ? h('div', { class: 'notice warning' }, h('h3', null, 'Check before you sync'), h('ul', null, warnings.map((w) => h('li', null, w)))) : null,
    h('p', null, preview.send_email ? 'New users get an email about their account.' : 'New users don’t get an email.'),
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
        await post(dirPath(dir, '/sync'));
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
