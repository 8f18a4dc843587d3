// One identity-provider directory: its sync settings and its sync status.
// As in the seed, a directory that has never synced opens on its settings,
// otherwise on its status (with Edit settings).

import { get, dirPath } from './api.js';
import { h, add, pageTitle, loading, loadFailed } from './ui.js';
import { renderSettings } from './settings.js';
import { renderStatus, normalizeStatus } from './status.js';

export async function renderDirectory(main, dir, tab) {
  const placeholder = loading('Loading directory');
  add(main, placeholder);
  let directory;
  let status;
  try {
    const [d, s] = await Promise.all([get(dirPath(dir)), get(dirPath(dir, '/sync'))]);
    directory = d.data.directory;
    status = normalizeStatus(s.data);
  } catch (error) {
    placeholder.replaceWith(loadFailed(error, () => location.reload()));
    return undefined;
  }
  const hasSynced = Boolean(status.current || status.last);
  const active = tab === 'settings' || tab === 'status' ? tab : hasSynced ? 'status' : 'settings';
  const { name } = directory;

  const tabLink = (key, label) =>
    h('a', { href: `#/directories/${encodeURIComponent(dir)}/${key}`, 'aria-current': key === active ? 'page' : null }, label);
  const title = pageTitle(active === 'settings' ? 'Sync settings' : 'Sync status');
  document.title = `${title.textContent} · ${name} · idp-sync`;
  const body = h('div', { class: 'tab-body' });
  placeholder.replaceWith(
    h(
      'div',
      { class: 'page-head' },
      h(
        'p',
        { class: 'eyebrow' },
        h('span', null, `Identity providers / ${name}`),
        h('a', { href: '#/directories/new' }, 'Connect another tenant'),
      ),
      title,
      h('p', { class: 'hint' }, 'Microsoft Entra ID tenant ', h('span', { class: 'mono' }, directory.tenant_id)),
      h('nav', { class: 'tabs', 'aria-label': 'Directory' }, tabLink('status', 'Sync status'), tabLink('settings', 'Sync settings')),
    ),
    body,
  );
  if (active === 'settings') {
    await renderSettings(body, dir, { hasSynced, running: Boolean(status.current), autoSyncOn: status.autoSync });
    return undefined;
  }
  return renderStatus(body, dir, status);
}
