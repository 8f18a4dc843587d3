// Identity providers: the org's directories, and connecting a new tenant.

import { get, post, orgPath, listOf } from './api.js';
import { h, add, fill, textField, formError, showErrors, clearErrors, pageTitle, loading, loadFailed, timeEl } from './ui.js';

/** Lists the directories; with exactly one, opens it (the admin has nothing to choose). */
export async function renderDirectories(main) {
  add(main, pageTitle('Identity providers'));
  const body = h('div', null, loading('Loading directories'));
  add(main, body);
  let directories;
  try {
    directories = listOf((await get(orgPath('/directories'))).data);
  } catch (error) {
    fill(body, loadFailed(error, () => location.reload()));
    return;
  }
  if (directories.length === 1) {
    location.replace(`#/directories/${encodeURIComponent(directories[0].id)}`);
    return;
  }
  const connect = h('a', { class: 'button', href: '#/directories/new' }, directories.length ? 'Connect another tenant' : 'Connect a Microsoft Entra ID tenant');
  if (!directories.length) {
    fill(body,
      h('p', null, 'No identity provider is connected yet. Connect your Microsoft Entra ID (Azure AD) tenant to sync its users and groups.'),
      connect,
    );
    return;
  }
  fill(body,
    h('p', null, 'Select your identity provider directory.'),
    h(
      'ul',
      { class: 'directory-list' },
      directories.map((dir) =>
        h(
          'li',
          { class: 'card' },
          h('a', { class: 'directory-link', href: `#/directories/${encodeURIComponent(dir.id)}` }, dir.name),
          h(
            'dl',
            { class: 'facts' },
            h('dt', null, 'Tenant ID'),
            h('dd', { class: 'mono' }, dir.tenant_id),
            h('dt', null, 'Connected'),
            h('dd', null, timeEl(dir.created_at)),
          ),
        ),
      ),
    ),
    connect,
  );
}

/** The form that connects an Entra ID tenant through an app registration. */
export function renderConnect(main) {
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    textField({ label: 'Directory name', name: 'name', hint: 'A name for you to recognise this directory, e.g. "Contoso Entra ID".' }),
    textField({ label: 'Tenant ID', name: 'tenant_id', hint: 'Directory (tenant) ID from the app registration overview in the Entra admin center.' }),
    textField({ label: 'Client ID', name: 'client_id', hint: 'Application (client) ID of the app registration.' }),
    textField({
      label: 'Client secret',
      name: 'client_secret',
      type: 'password',
      autocomplete: 'new-password',
      hint: 'A client secret value of the app registration. It is stored encrypted and never shown again.',
    }),
    formError(),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Connect'),
      h('a', { class: 'button secondary', href: '#/directories' }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const value = (name) => form.elements[name].value.trim();
    const body = {
      name: value('name'),
      tenant_id: value('tenant_id'),
      client_id: value('client_id'),
      client_secret: form.elements.client_secret.value,
    };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const { data } = await post(orgPath('/directories'), body);
      const dir = data.directory;
      location.hash = `#/directories/${encodeURIComponent(dir.id)}/settings`;
    } catch (error) {
      showErrors(form, error);
    } finally {
      button.disabled = false;
    }
  });
  add(main, 
    pageTitle('Connect a tenant'),
    h(
      'p',
      { class: 'lede' },
      'idp-sync reads your tenant through an app registration with the Microsoft Graph application permissions ',
      h('code', null, 'User.Read.All'),
      ', ',
      h('code', null, 'Group.Read.All'),
      ' and ',
      h('code', null, 'Domain.Read.All'),
      ' (admin consent granted).',
    ),
    form,
  );
}
