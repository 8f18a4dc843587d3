// SAML single sign-on: refused until a sync has completed (it claims the domains).

import { get, put, orgPath } from './api.js';
import { h, add, fill, pageTitle, loading, loadFailed, textField, formError, showErrors, clearErrors, announce } from './ui.js';

const DEFAULT_REASON = 'You must complete a sync before you can set up SAML single sign-on.';

/** The API's reasons are phrases; shown as a sentence here. */
const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);

export async function renderSaml(main) {
  add(main, pageTitle('SAML single sign-on'));
  const body = h('div', null, loading('Loading SAML configuration'));
  add(main, body);

  let answer;
  try {
    answer = (await get(orgPath('/saml'))).data ?? {};
  } catch (error) {
    fill(body, loadFailed(error, () => location.reload()));
    return;
  }
  const config = answer.saml ?? {};

  const saved = h('div', { class: 'notice success', hidden: true });
  const fields = h(
    'fieldset',
    null,
    h('legend', null, 'Identity provider details'),
    textField({
      label: 'Identity provider entity ID',
      name: 'idp_entity_id',
      value: config.idp_entity_id ?? '',
      hint: 'From your Entra enterprise application, e.g. https://sts.windows.net/<tenant-id>/',
    }),
    textField({ label: 'Identity provider SSO URL', name: 'sso_url', type: 'url', value: config.sso_url ?? '', hint: 'The Login URL of the enterprise application (https).' }),
    textField({
      label: 'Public x509 certificate',
      name: 'certificate_pem',
      multiline: true,
      rows: '4',
      value: config.certificate_pem ?? '',
      hint: 'Paste the Base64 certificate, including the BEGIN and END lines.',
    }),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save SAML configuration')),
    saved,
  );
  const form = h('form', { novalidate: true }, fields);
  const gate = h('div', { class: 'notice warning', id: 'saml-gated-reason', hidden: true });

  /** Disables the form and says why; the reason is what the API answered. */
  const setGated = (reason) => {
    fill(gate,
      h('p', null, h('strong', null, 'Not available yet. '), sentence(reason || DEFAULT_REASON)),
      h('p', null, 'A sync claims your domains, which SAML needs. ', h('a', { href: '#/directories' }, 'Go to identity providers to sync.')),
    );
    gate.hidden = false;
    fields.disabled = true;
    form.setAttribute('aria-describedby', gate.id);
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved.hidden = true;
    const value = (name) => form.elements[name].value.trim();
    try {
      await put(orgPath('/saml'), { idp_entity_id: value('idp_entity_id'), sso_url: value('sso_url'), certificate_pem: value('certificate_pem') });
      saved.textContent = 'SAML single sign-on configuration saved.';
      saved.hidden = false;
      announce(saved.textContent);
    } catch (error) {
      if (error.code === 'no_completed_sync') {
        setGated(error.message);
        gate.setAttribute('tabindex', '-1');
        gate.focus();
      } else {
        showErrors(form, error);
      }
    }
  });

  if (answer.configurable === false) setGated(answer.reason);
  fill(body,
    h(
      'p',
      { class: 'lede' },
      'By default, users can log in with their Microsoft account or with their account in your organization. With SAML single sign-on you can require them to log in with their Microsoft account.',
    ),
    gate,
    form,
  );
}
