// The console shell: session, navigation and the hash router.

import { session, UNAUTHORIZED_EVENT } from './api.js';
import { renderSignIn } from './signin.js';
import { renderDirectories, renderConnect } from './directories.js';
import { renderDirectory } from './directory.js';
import { renderGroups, renderGroup } from './groups.js';
import { renderUsers, renderUser } from './users.js';
import { renderSaml } from './saml.js';

/** A path segment of the hash, decoded; as written when it is not valid percent-encoding. */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Routes: `#/directories`, `#/directories/new`, `#/directories/{dir}`,
 * `#/directories/{dir}/settings`, `#/directories/{dir}/status`, `#/users`, `#/users/{id}`,
 * `#/groups`, `#/groups/{id}`, `#/saml`. A query after `?` (`#/users?search=jane&filter=guest`,
 * `#/groups/{id}?search=rossi`) is the listing's search and filter.
 * Each view renders into `main` and may return a cleanup function (to stop polling).
 */
function resolve(hash) {
  const route = hash.replace(/^#\/?/, '');
  const mark = route.indexOf('?');
  const query = new URLSearchParams(mark < 0 ? '' : route.slice(mark + 1));
  const parts = (mark < 0 ? route : route.slice(0, mark)).split('/').filter(Boolean).map(decodeSegment);
  const [section, id, tab] = parts;
  if (section === 'directories' && id === 'new') return { section, view: (main) => renderConnect(main) };
  if (section === 'directories' && id) {
    return { section, view: (main) => renderDirectory(main, id, tab ?? null) };
  }
  if (section === 'users' && id) return { section, view: (main) => renderUser(main, id) };
  if (section === 'users') return { section, view: (main) => renderUsers(main, query) };
  if (section === 'groups' && id) return { section, view: (main) => renderGroup(main, id, query) };
  if (section === 'groups') return { section, view: renderGroups };
  if (section === 'saml') return { section, view: renderSaml };
  return { section: 'directories', view: renderDirectories };
}

let cleanup = null;
let renderSeq = 0;

async function route(event) {
  const main = document.getElementById('main');
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const seq = ++renderSeq;

  const signedIn = session.get();
  updateChrome(signedIn);
  main.replaceChildren();
  if (!signedIn) {
    document.title = 'Sign in · idp-sync';
    renderSignIn(main, () => {
      // Keep a deep link the admin opened before signing in.
      const target = location.hash.length > 2 ? location.hash : '#/directories';
      if (location.hash === target) route({ type: 'hashchange' });
      else location.hash = target;
    });
    return;
  }

  const { section, view } = resolve(location.hash);
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const result = await view(main);
  if (seq !== renderSeq) {
    // The admin navigated away while this view was loading.
    if (typeof result === 'function') result();
    return;
  }
  cleanup = result;
  // Moving focus to the new page's heading tells keyboard and screen-reader users where they are.
  if (event?.type === 'hashchange') main.querySelector('h1')?.focus();
}

/** Shows the nav and the org's name when signed in. */
function updateChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('account').hidden = !signedIn;
  document.getElementById('org-name').textContent = signedIn ? (signedIn.org.name || signedIn.org.id) : '';
}

function signOut() {
  session.clear();
  location.hash = '#/';
  route();
}

document.getElementById('sign-out').addEventListener('click', signOut);
// The skip link must not touch the hash: the hash is the route.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main').focus();
});
window.addEventListener(UNAUTHORIZED_EVENT, signOut);
window.addEventListener('hashchange', route);
route();
