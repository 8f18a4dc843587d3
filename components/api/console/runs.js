// How a sync run reads to an admin: phase names, progress, counts, what was
// skipped and why, and the troubleshooting log.

import { h, timeEl, plural, toDate, announce } from './ui.js';
import { download, dirPath } from './api.js';

// The engine's phases, in the order a run goes through them.
const PHASES = [
  ['domains', 'Verifying domains'],
  ['groups', 'Reading groups'],
  ['members', 'Reading group memberships'],
  ['users', 'Reading users'],
  ['finalize', 'Applying changes'],
  ['emails', 'Sending emails to new users'],
];

// Held by the removal guard in the middle of applying changes, before anything is removed.
const AWAITING = 'awaiting_confirmation';

export function phaseLabel(phase) {
  if (phase === AWAITING) return 'Waiting for your confirmation';
  return PHASES.find(([key]) => key === phase)?.[1] ?? String(phase ?? 'Starting');
}

/** Whether the removal guard holds the run until an admin confirms or rejects its removals. */
export const isAwaitingConfirmation = (run) => run?.phase === AWAITING;

/** 0-100 by how far through its phases the run is (the engine does not know totals ahead). */
export function percentDone(run) {
  const phase = run.phase === AWAITING ? 'finalize' : run.phase;
  const index = PHASES.findIndex(([key]) => key === phase);
  return index < 0 ? 0 : Math.round((100 * (index + 0.5)) / PHASES.length);
}

/** Live counters worth showing while a run goes. */
export function progressCounts(counts = {}) {
  return numbers([
    ['Pages read', counts.pages],
    ['Users seen', counts.users_seen],
    ['Groups seen', counts.groups_seen],
    ['Accounts created', counts.users_created],
    ['Accounts updated', counts.users_updated],
  ]);
}

/** The final counters of a run. */
function summaryCounts(counts = {}) {
  return numbers([
    ['Accounts created', counts.users_created],
    ['Accounts updated', counts.users_updated],
    ['Unchanged', counts.users_unchanged],
    ['Groups synced', counts.groups_synced],
    ['Emails queued', counts.emails_queued],
    ['Left the sync', counts.users_left_scope],
  ]);
}

function numbers(pairs) {
  const shown = pairs.filter(([, value]) => typeof value === 'number');
  if (!shown.length) return null;
  return h(
    'dl',
    { class: 'counts' },
    shown.map(([label, value]) => h('div', null, h('dt', null, label), h('dd', null, value.toLocaleString()))),
  );
}

const isFailed = (run) => run.result === 'failed';
const isRejected = (run) => run.result === 'rejected';

export function resultBadge(run) {
  if (isFailed(run)) return h('span', { class: 'badge bad' }, 'Failed');
  if (isRejected(run)) return h('span', { class: 'badge warn' }, 'Rejected');
  return h('span', { class: 'badge ok' }, 'Completed');
}

export const triggerLabel = (run) => (run.trigger === 'scheduled' ? 'Automatic' : 'Manual');

function duration(run) {
  const start = toDate(run.started_at);
  const end = toDate(run.finished_at);
  if (!start || !end) return null;
  const secs = Math.max(0, Math.round((end - start) / 1000));
  return secs < 60 ? `${secs} s` : `${Math.floor(secs / 60)} min ${secs % 60} s`;
}

/** What was not synced and why, and what the run removed. */
export function skippedDetails(counts = {}) {
  const parts = [];
  const overLimit = counts.groups_over_limit ?? [];
  if (overLimit.length) {
    parts.push(
      h('h4', null, 'Groups not synced: over the 10,000-user limit'),
      h(
        'ul',
        null,
        overLimit.map((g) =>
          h('li', null, h('strong', null, g.display_name || g.id), `: ${plural(g.users, 'user')}. Split it into groups of at most 10,000 users, then sync those.`),
        ),
      ),
    );
  }
  const skipped = [];
  if (counts.skipped_unverified_domain) {
    skipped.push(`${plural(counts.skipped_unverified_domain, 'user')}: their sign-in domain is not verified for this sync.`);
  }
  if (counts.skipped_non_user_members) {
    skipped.push(`${plural(counts.skipped_non_user_members, 'group member')}: devices, contacts and service principals are not synced.`);
  }
  if (skipped.length) parts.push(h('h4', null, 'Skipped'), h('ul', null, skipped.map((s) => h('li', null, s))));
  const removed = counts.access_removed ?? [];
  if (removed.length) {
    parts.push(
      h('h4', null, 'Product access removed (groups no longer synced)'),
      h('ul', null, removed.map((id) => h('li', null, h('span', { 'data-group-id': id }, id)))),
    );
  }
  const claimed = counts.domains_claimed ?? [];
  if (claimed.length) parts.push(h('h4', null, 'Domains verified and claimed'), h('p', null, claimed.join(', ')));
  return parts;
}

function troubleshootingLog(run) {
  const log = run.log ?? [];
  if (!log.length) return h('p', { class: 'hint' }, 'Nothing notable was logged.');
  return h(
    'ol',
    { class: 'log' },
    log.map((entry) =>
      h('li', { class: `level-${entry.level}` }, timeEl(entry.at), ' ', h('span', { class: 'level' }, entry.level), ' ', entry.message),
    ),
  );
}

/**
 * The counts of a run without what it would remove: a rejected run removed
 * nothing, and a held one has removed nothing yet.
 */
export function countsRemovingNothing(counts = {}) {
  return { ...counts, users_left_scope: undefined, access_removed: [] };
}

/** A button that downloads the run's summary and log as CSV. */
function csvButton(dir, run) {
  const button = h('button', { type: 'button', class: 'link-button download-csv' }, `Download run ${run.run_id} as CSV`);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const name = await download(dirPath(dir, `/sync/runs/${run.run_id}.csv`), 'text/csv');
      announce(`Downloaded ${name}.`);
    } catch (error) {
      announce(`Couldn’t download the run: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** One finished run of directory `dir` in the history: a disclosure with its summary, log and CSV download. */
export function historyItem(dir, run) {
  const took = duration(run);
  const counts = isRejected(run) ? countsRemovingNothing(run.counts) : run.counts;
  return h(
    'li',
    null,
    h(
      'details',
      null,
      h(
        'summary',
        null,
        timeEl(run.started_at),
        ' ',
        resultBadge(run),
        ' ',
        h('span', { class: 'hint' }, [triggerLabel(run), took].filter(Boolean).join(' · ')),
      ),
      h(
        'div',
        { class: 'run-details' },
        isFailed(run) ? h('p', { class: 'form-error' }, `The sync failed and removed nothing: ${run.error}`) : null,
        isRejected(run) ? h('p', { class: 'notice warning' }, `Rejected: ${run.reason ?? 'an admin rejected the removals; nothing was removed'}`) : null,
        summaryCounts(counts),
        skippedDetails(counts),
        h('h4', null, 'Troubleshooting log'),
        troubleshootingLog(run),
      ),
    ),
    csvButton(dir, run),
  );
}
