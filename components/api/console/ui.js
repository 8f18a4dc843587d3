// Small DOM helpers shared by the views: element building, field errors,
// announcements for screen readers, and formatting.

/** Builds an element: `h('button', { type: 'button', onclick }, 'Save')`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value == null) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'checked' || key === 'value' || key === 'disabled' || key === 'open') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...nodes(children));
  return el;
}

/**
 * The children a view passes, as DOM nodes: nested arrays flattened,
 * `null`, `undefined` and `false` skipped (so `cond ? h(...) : null` shows
 * nothing), anything else not a node as text. The DOM's own
 * `append`/`replaceChildren` would show a skipped one as the text "null".
 */
function nodes(children) {
  return children.flat(Infinity).filter((child) => child != null && child !== false).map((child) => (child instanceof Node ? child : String(child)));
}

/** Replaces `el`'s children, skipping `null`/`false` ones as `h` does. */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
}

/** Appends to `el`, skipping `null`/`false` children as `h` does. */
export function add(el, ...children) {
  el.append(...nodes(children));
}

let uid = 0;
/** A document-unique id with a readable prefix. */
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Politely tells screen readers (and sighted users, in the status bar) what happened. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node in a later frame is re-announced even if it repeats.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

/**
 * A labelled input with its hint and error slot. `field` is the API's JSON
 * path for it, so errors from the API land here.
 */
export function textField({ label, name, field = name, type = 'text', value = '', hint, multiline = false, autocomplete = 'off', ...rest }) {
  const id = newId(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = h(multiline ? 'textarea' : 'input', {
    id,
    name,
    type: multiline ? null : type,
    value,
    autocomplete,
    spellcheck: 'false',
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...rest,
  });
  return h(
    'div',
    { class: 'field', 'data-field': field },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/** Removes every error shown in `form` by `showErrors`. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, [data-form-error]')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
}

/** Finds the `.field` a JSON path like `domains.names[1]` belongs to, trying shorter paths. */
function fieldFor(form, path) {
  let key = String(path ?? '');
  while (key) {
    const found = form.querySelector(`[data-field="${CSS.escape(key)}"]`);
    if (found) return found;
    const shorter = key.replace(/(\[\d+\]|\.[^.[\]]+)$/, '');
    if (shorter === key) break;
    key = shorter;
  }
  return null;
}

/** Whether `el` would show: neither it nor an ancestor is `hidden`. */
function shown(el) {
  return !el.closest('[hidden]');
}

/**
 * The form-level error slot of `form` (made by `formError`) that can be seen
 * once filled: never one inside a hidden part of the form. Adds one at the
 * end of the form when there is none.
 */
function formErrorSlot(form) {
  const slot = [...form.querySelectorAll('[data-form-error]')].find((el) => !el.parentElement || shown(el.parentElement));
  if (slot) return slot;
  const added = formError();
  form.append(added);
  return added;
}

/**
 * Shows an `ApiError` in `form`: each field message next to its field when
 * that field is shown, everything else in the form's own error slot (never
 * in a hidden part of the form), announced (role=alert). Focuses the first
 * invalid control, or the error slot.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const { field, message } of error.fields ?? []) {
    const container = fieldFor(form, field);
    const slot = container && shown(container) ? container.querySelector(':scope > .field-error, :scope > * > .field-error') : null;
    if (!slot) {
      unplaced.push(message);
      continue;
    }
    container.classList.add('invalid');
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    slot.hidden = false;
    const control = container.querySelector('input:not([type=hidden]):not(:disabled), textarea:not(:disabled), select:not(:disabled)');
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      // The message must be read out when the control gets focus.
      slot.id ||= newId('error');
      const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
      if (!described.includes(slot.id)) control.setAttribute('aria-describedby', [...described, slot.id].join(' '));
      first ??= control;
    } else {
      first ??= slot;
    }
  }
  // When every message sits next to its field, the focused field's description says it all.
  const slot = formErrorSlot(form);
  if (!first || unplaced.length) {
    slot.textContent = [error.message, ...unplaced].join(' ');
    slot.hidden = false;
  }
  if (first) {
    if (!first.matches('input, textarea, select, button')) first.setAttribute('tabindex', '-1');
    first.focus();
  } else if (!slot.hidden) {
    slot.focus();
  }
}

/**
 * A form-level error box, announced when it appears (role=alert): where
 * `showErrors` puts what belongs to no shown field. Place it next to the
 * form's buttons, where the admin is looking after pressing one.
 */
export function formError() {
  return h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true, 'data-form-error': true });
}

/** An API time (an RFC 3339 UTC string, `2026-11-29T23:41:57Z`) as a `Date`; null when absent or unreadable. */
export function toDate(value) {
  if (value == null || value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A `<time>` element, or a dash when there is no date. */
export function timeEl(value, fallback = '—') {
  const date = toDate(value);
  if (!date) return h('span', null, fallback);
  return h('time', { datetime: date.toISOString() }, dateFormat.format(date));
}

const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dateClockFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A `<time>` to the second (with the date when not today): for waits of seconds or minutes. */
export function clockEl(value, fallback = '—') {
  const date = toDate(value);
  if (!date) return h('span', null, fallback);
  const today = date.toDateString() === new Date().toDateString();
  return h('time', { datetime: date.toISOString() }, (today ? clockFormat : dateClockFormat).format(date));
}

/** "1 group", "2 groups". */
export function plural(n, one, many = `${one}s`) {
  return `${Number(n).toLocaleString()} ${n === 1 ? one : many}`;
}

/** A loading placeholder announced to assistive technology. */
export function loading(what = 'Loading') {
  return h('p', { class: 'loading', role: 'status' }, `${what}…`);
}

/** An error panel for a view that could not load. */
export function loadFailed(error, retry) {
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h('p', null, error.message),
    retry ? h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Try again') : null,
  );
}

/** Sets the document title and returns the page's `<h1>`, focusable for route changes. */
export function pageTitle(text) {
  document.title = `${text} · idp-sync`;
  return h('h1', { tabindex: '-1' }, text);
}

let flash = null;
/** A message for the next page the admin lands on (e.g. "Sync started"). */
export function setFlash(message) {
  flash = message;
}
/** The pending flash message as a notice, or null; shows it once. */
export function takeFlash() {
  if (!flash) return null;
  const message = flash;
  flash = null;
  return h('div', { class: 'notice success', role: 'status' }, message);
}
