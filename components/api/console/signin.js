// Sign-in with an org admin token; the token stays in sessionStorage.

import { get, session } from './api.js';
import { h, add, textField, formError, showErrors, clearErrors, pageTitle } from './ui.js';

export function renderSignIn(main, onSignedIn) {
  const form = h(
    'form',
    { class: 'card narrow', novalidate: true },
    textField({
      label: 'Admin token',
      name: 'token',
      type: 'password',
      hint: 'The org admin token you received when your organization was created. It is kept in this browser tab only, until you sign out or close the tab.',
      autocomplete: 'current-password',
      required: true,
    }),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const token = form.elements.token.value.trim();
    if (!token) {
      showErrors(form, { message: 'Enter your admin token.', fields: [{ field: 'token', message: 'Enter your admin token.' }] });
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const { data } = await get('/api/v1/me', { token });
      session.set({ token, org: { id: data.org.id, name: data.org.name } });
      onSignedIn();
    } catch (error) {
      const message = error.status === 401 ? 'This token is not valid for any organization.' : error.message;
      showErrors(form, { message, fields: [{ field: 'token', message }] });
    } finally {
      button.disabled = false;
    }
  });
  add(main, 
    pageTitle('Sign in'),
    h('p', { class: 'lede' }, 'Manage how your Microsoft Entra ID users and groups sync into your organization.'),
    form,
  );
  form.elements.token.focus();
}
