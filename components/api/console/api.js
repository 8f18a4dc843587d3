// The JSON API client: one place that knows about tokens, ETags and errors.

const SESSION_KEY = 'idp-sync.session';

/** The signed-in admin: `{ token, org: { id, name } }`, kept for the tab's lifetime only. */
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** An error answered by the API (`{"error":{"code","message","fields"}}`) or by the network. */
export class ApiError extends Error {
  constructor(status, code, message, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    /** `[{ field, message }]`, `field` being a JSON path in the request body. */
    this.fields = fields;
  }
}

/** Fired when the API refuses the token, so the app can send the admin back to sign-in. */
export const UNAUTHORIZED_EVENT = 'idp-sync:unauthorized';

/**
 * Sends one request with the session's token (or `token`). Returns the
 * response; throws `ApiError` for a network failure or any non-2xx answer.
 */
async function send(method, path, { body, ifMatch, token, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const bearer = token ?? session.get()?.token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Could not reach idp-sync. Check your connection and try again.');
  }
  if (!response.ok) {
    const err = parseJson(await response.text())?.error ?? {};
    const apiError = new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? `The request failed (${response.status} ${response.statusText}).`,
      Array.isArray(err.fields) ? err.fields : [],
    );
    if (response.status === 401 && !token) {
      window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    }
    throw apiError;
  }
  return response;
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Calls the API. Returns `{ data, etag }`; throws `ApiError` for any non-2xx answer.
 * `token` defaults to the session's; `ifMatch` sends an `If-Match` header.
 */
async function request(method, path, opts) {
  const response = await send(method, path, opts);
  return { data: parseJson(await response.text()), etag: response.headers.get('ETag') };
}

/**
 * Downloads a file the API serves as an attachment (it needs the bearer
 * token, so a plain link cannot): saved under the name the API gives.
 */
export async function download(path, accept) {
  const response = await send('GET', path, { accept });
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'download';
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** `/api/v1/orgs/{org}` + `rest`, for the signed-in org. */
export function orgPath(rest = '') {
  const org = session.get()?.org?.id ?? '';
  return `/api/v1/orgs/${encodeURIComponent(org)}${rest}`;
}

/** `/api/v1/orgs/{org}/directories/{dir}` + `rest`. */
export function dirPath(dir, rest = '') {
  return orgPath(`/directories/${encodeURIComponent(dir)}${rest}`);
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });

/** The list under `key` in a listing answer (`items` for paged listings). */
export function listOf(data, key = 'items') {
  return Array.isArray(data?.[key]) ? data[key] : [];
}

const groupNameCache = new Map();
/**
 * The display name of a group the org has synced, or null when it has none
 * by that id (yet). Engine answers (access removed, nesting) carry ids.
 */
export async function groupName(id) {
  if (!groupNameCache.has(id)) {
    groupNameCache.set(
      id,
      get(orgPath(`/groups/${encodeURIComponent(id)}`))
        .then(({ data }) => data.group.display_name)
        .catch(() => null),
    );
  }
  return groupNameCache.get(id);
}

/** Replaces the text of every `[data-group-id]` element under `root` with the group's name, when known. */
export async function nameGroups(root) {
  await Promise.all(
    [...root.querySelectorAll('[data-group-id]')].map(async (el) => {
      el.textContent = (await groupName(el.dataset.groupId)) ?? el.dataset.groupId;
      el.removeAttribute('data-group-id');
    }),
  );
}
