// How a sync run reads to an admin: phase names, progress, counts, the
// summary with skipped users and over-limit groups, the troubleshooting log.

import { h, timeEl, plural, toDate } from './ui.js';

const PHASES = [
  ['domains', 'Verifying domains'],
  ['groups', 'Reading groups'],
  ['members', 'Reading users and memberships'],
  ['users', 'Reading users and memberships'],
  ['finalize', 'Applying changes'],
  ['emails', 'Sending emails to new users'],
];

export function phaseLabel(phase) {
  return PHASES.find(([key]) => key === phase)?.[1] ?? String(phase ?? 'Starting');
}

/** Whether the run is still going (its state is neither finished nor failed). */
export function isActive(run) {
  return Boolean(run) && !['completed', 'failed', 'succeeded', 'partial'].includes(run.state ?? run.status);
}

/** 0-100: the run's own fraction when it knows its total, else how far through the phases it is. */
export function percentDone(run) {
  const p = run.progress ?? {};
  if (p.total > 0) return Math.min(100, Math.round((100 * (p.done ?? 0)) / p.total));
  const index = PHASES.findIndex(([key]) => key === run.phase);
  return index < 0 ? 0 : Math.round((100 * index) / PHASES.length);
}

const COUNT_LABELS = {
  created: 'Accounts created',
  updated: 'Accounts updated',
  unchanged: 'Unchanged',
  skipped: 'Users skipped',
  groups_synced: 'Groups synced',
  groups: 'Groups',
  users_processed: 'Users processed',
  pages: 'Pages read',
  emails_queued: 'Emails queued',
  access_removed: 'Groups that lost product access',
};

const humanize = (key) => COUNT_LABELS[key] ?? key.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());

/** A definition list of every number in `counts`. */
export function countsList(counts) {
  const entries = Object.entries(counts ?? {}).filter(([, v]) => typeof v === 'number');
  if (!entries.length) return null;
  return h(
    'dl',
    { class: 'counts' },
    entries.map(([key, value]) => h('div', null, h('dt', null, humanize(key)), h('dd', null, value.toLocaleString()))),
  );
}

export function resultLabel(run) {
  const state = run.state ?? run.status;
  if (state === 'failed') return 'Failed';
  if (isActive(run)) return 'In progress';
  return (run.summary?.errors?.length ?? 0) > 0 ? 'Completed with errors' : 'Completed';
}

export function resultBadge(run) {
  const label = resultLabel(run);
  const tone = label === 'Completed' ? 'ok' : label === 'In progress' ? 'info' : 'bad';
  return h('span', { class: `badge ${tone}` }, label);
}

export const triggerLabel = (run) => (run.trigger === 'scheduled' ? 'Automatic' : 'Manual');

function duration(run) {
  const start = toDate(run.started_at);
  const end = toDate(run.finished_at);
  if (!start || !end) return null;
  const secs = Math.max(0, Math.round((end - start) / 1000));
  return secs < 60 ? `${secs} s` : `${Math.floor(secs / 60)} min ${secs % 60} s`;
}

/** The reasons why users or groups were skipped, and what was removed. */
function summaryDetails(run) {
  const s = run.summary ?? {};
  const parts = [];
  const overLimit = s.groups_over_limit ?? [];
  if (overLimit.length) {
    parts.push(
      h('h4', null, 'Groups not synced: over the 10,000-user limit'),
      h(
        'ul',
        null,
        overLimit.map((g) =>
          h('li', null, `${g.display_name ?? g.name ?? g.id}: ${plural(g.user_count ?? g.users ?? 0, 'user')}. Split it into groups of at most 10,000 users and sync them.`),
        ),
      ),
    );
  }
  const skipped = s.skipped_users ?? s.skipped ?? [];
  if (Array.isArray(skipped) && skipped.length) {
    parts.push(
      h('h4', null, 'Users skipped'),
      h(
        'ul',
        null,
        skipped.map((u) => h('li', null, h('span', { class: 'mono' }, u.user_principal_name ?? u.upn ?? u.id), ` — ${u.reason}`)),
      ),
    );
  }
  const removed = s.access_removed ?? [];
  if (Array.isArray(removed) && removed.length) {
    parts.push(
      h('h4', null, 'Product access removed (groups no longer synced)'),
      h('ul', null, removed.map((g) => h('li', null, g.display_name ?? g.name ?? g.id ?? String(g)))),
    );
  }
  const errors = s.errors ?? [];
  if (errors.length) {
    parts.push(h('h4', null, 'Errors'), h('ul', { class: 'errors' }, errors.map((e) => h('li', null, e.message ?? String(e)))));
  }
  return parts;
}

function troubleshootingLog(run) {
  const log = run.log ?? run.events ?? [];
  if (!log.length) return h('p', { class: 'hint' }, 'Nothing notable was logged.');
  return h(
    'ol',
    { class: 'log' },
    log.map((entry) =>
      h(
        'li',
        { class: `level-${entry.level ?? 'info'}` },
        timeEl(entry.at ?? entry.time),
        ' ',
        h('span', { class: 'level' }, entry.level ?? 'info'),
        ' ',
        entry.message,
      ),
    ),
  );
}

/** One finished run in the history: a disclosure with its summary and log. */
export function historyItem(run) {
  const took = duration(run);
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
      h('div', { class: 'run-details' }, countsList(run.counts), summaryDetails(run), h('h4', null, 'Troubleshooting log'), troubleshootingLog(run)),
    ),
  );
}

