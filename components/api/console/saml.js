// SAML single sign-on: refused until a sync has completed (it claims the domains).

import { get, put, orgPath } from './api.js';
import { h, pageTitle, loading, loadFailed, textField, formError, showErrors, clearErrors, announce } from './ui.js';

export async function renderSaml(main) {
  main.append(pageTitle('SAML single sign-on'));
  const body = h('div', null, loading('Loading SAML configuration'));
  main.append(body);

  let config = {};
  let gatedReason = null;
  try {
    const { data } = await get(orgPath('/saml'));
    config = data?.config ?? data ?? {};
    if (data?.configurable === false) gatedReason = data.reason;
  } catch (error) {
    if (error.status === 409) gatedReason = error.message;
    else if (error.status !== 404) {
      body.replaceChildren(loadFailed(error, () => location.reload()));
      return;
    }
  }

  const gated = gatedReason != null;
  const reasonId = 'saml-gated-reason';
  const saved = h('div', { class: 'notice success', hidden: true });
  const form = h(
    'form',
    { novalidate: true, 'aria-describedby': gated ? reasonId : null },
    h(
      'fieldset',
      { disabled: gated },
      h('legend', null, 'Identity provider details'),
      textField({ label: 'Identity provider entity ID', name: 'entity_id', value: config.entity_id ?? '', hint: 'From your Entra enterprise application, e.g. https://sts.windows.net/<tenant-id>/' }),
      textField({ label: 'Identity provider SSO URL', name: 'sso_url', type: 'url', value: config.sso_url ?? '', hint: 'The Login URL of the enterprise application.' }),
      textField({ label: 'Public x509 certificate', name: 'certificate', multiline: true, rows: '6', value: config.certificate ?? '', hint: 'Paste the Base64 certificate, including the BEGIN and END lines.' }),
      formError(),
      saved,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save SAML configuration')),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.hidden = true;
    const value = (name) => form.elements[name].value.trim();
    try {
      await put(orgPath('/saml'), { entity_id: value('entity_id'), sso_url: value('sso_url'), certificate: value('certificate') });
      saved.textContent = 'SAML single sign-on configuration saved.';
      saved.hidden = false;
      announce(saved.textContent);
    } catch (error) {
      showErrors(form, error);
    }
  });

  const lede = h(
    'p',
    { class: 'lede' },
    'By default, users can log in with their Microsoft account or with their account in your organization. With SAML single sign-on you can require them to log in with their Microsoft account.',
  );
  const notice = h(
    'div',
    { class: 'notice warning', id: reasonId },
    h('p', null, h('strong', null, 'Not available yet. '), gatedReason || 'You must complete a sync before you can set up SAML single sign-on.'),
    h('p', null, 'A sync claims your domains, which SAML needs. ', h('a', { href: '#/directories' }, 'Go to identity providers to sync.')),
  );
  body.replaceChildren(...(gated ? [lede, notice, form] : [lede, form]));
}
