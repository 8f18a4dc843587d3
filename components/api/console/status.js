// Sync status: the run in progress (polled), last and next sync, automatic
// syncing, and the history of finished runs.

import { get, post, dirPath, listOf, nameGroups } from './api.js';
import { h, fill, timeEl, clockEl, announce, takeFlash, loadFailed, newId, plural, toDate } from './ui.js';
import { confirmAndSync, setAutoSync } from './sync.js';
import { runChart } from './chart.js';
import {
  phaseLabel,
  percentDone,
  progressCounts,
  skippedDetails,
  resultBadge,
  historyItem,
  triggerLabel,
  isAwaitingConfirmation,
  countsRemovingNothing,
} from './runs.js';

const POLL_ACTIVE_MS = 1000;
const POLL_IDLE_MS = 10000;

/** `GET .../sync` as `{ current, last, nextSyncAt, autoSync }`. */
export function normalizeStatus(data) {
  return {
    current: data?.current ?? null,
    last: data?.last ?? null,
    nextSyncAt: data?.next_scheduled_at ?? null,
    autoSync: Boolean(data?.auto_sync),
    quarantine: data?.quarantine ?? null,
  };
}

/** Why the run waits, when it does: the next attempt, the failure and when it gives up. */
function waitingNote(run) {
  if (!run.waiting_until) return null;
  if (!run.failed_attempts) {
    const waitSecs = Math.max(1, Math.round((toDate(run.waiting_until) - Date.now()) / 1000));
    return h('p', { class: 'hint' }, `Microsoft Graph asked us to slow down; the sync resumes in about ${waitSecs} s.`);
  }
  return h(
    'p',
    { class: 'notice warning waiting' },
    'Waiting to try again at ',
    clockEl(run.waiting_until),
    ` (attempt ${Number(run.failed_attempts).toLocaleString()} failed: ${run.last_error ?? 'unknown error'})`,
    run.gives_up_at ? ['; gives up at ', clockEl(run.gives_up_at)] : null,
    '.',
  );
}

function currentRunCard(run) {
  const labelId = newId('progress-label');
  const percent = percentDone(run);
  const waiting = waitingNote(run);
  // A held run has removed nothing yet: the guard panel says what it would remove.
  const counts = isAwaitingConfirmation(run) ? countsRemovingNothing(run.counts) : run.counts;
  return h(
    'section',
    { class: 'card run-card', 'aria-labelledby': labelId },
    h('h2', { id: labelId, tabindex: '-1' }, 'Sync in progress'),
    h('p', { class: 'phase' }, h('strong', null, phaseLabel(run.phase)), ' · started ', timeEl(run.started_at), ` · ${triggerLabel(run)}`),
    h('progress', { max: '100', value: String(percent), 'aria-labelledby': labelId, 'aria-valuetext': `${percent}% · ${phaseLabel(run.phase)}` }),
    waiting,
    progressCounts(counts),
    skippedDetails(counts),
    h('p', { class: 'hint' }, 'A sync can’t be stopped once it has started. Changes to the settings apply to the next sync.'),
  );
}

/** What the held run would remove, as the removal guard reports it (`pending_removals`). */
function pendingRemovalsDetails(pending = {}) {
  const leaving = Number(pending.users_leaving ?? 0);
  const before = Number(pending.users_synced_before ?? 0);
  const allowed = Number(pending.users_allowed ?? 0);
  const sample = pending.sample ?? [];
  const access = pending.access_removed ?? [];
  const parts = [
    h('p', null, h('strong', null, 'Nothing has been removed yet.'), ' This sync would make these changes and stops until you decide.'),
  ];
  if (leaving) {
    parts.push(
      h(
        'p',
        null,
        `${leaving.toLocaleString()} of ${plural(before, 'synced user')} would leave the scope`,
        leaving > allowed ? `; we ask you first when more than ${plural(allowed, 'user')} would leave.` : '.',
        ' They keep their accounts but are no longer synced and lose their group memberships.',
      ),
    );
  } else {
    parts.push(h('p', null, 'No synced user would leave the scope.'));
  }
  if (sample.length) {
    const titleId = newId('guard-sample');
    parts.push(
      h('h3', { id: titleId }, leaving > sample.length ? `Some of the users who would leave (${sample.length} of ${leaving.toLocaleString()})` : 'Users who would leave'),
      h('ul', { class: 'guard-list', 'aria-labelledby': titleId }, sample.map((upn) => h('li', { class: 'mono' }, upn))),
    );
  }
  if (access.length) {
    const titleId = newId('guard-access');
    parts.push(
      h('h3', { id: titleId }, 'Groups that would lose product access'),
      h('ul', { class: 'guard-list', 'aria-labelledby': titleId }, access.map((g) => h('li', null, g.display_name || g.id))),
    );
  }
  return parts;
}

/** The facts of the "Last and next sync" card. */
function lastNextFacts(status) {
  const last = status.last;
  return [
    h('dt', null, 'Last sync'),
    h('dd', null, last ? [timeEl(last.started_at), ' ', resultBadge(last)] : 'Not synced yet'),
    h('dt', null, 'Next sync'),
    h('dd', null, status.autoSync ? timeEl(status.nextSyncAt, 'After the current sync') : 'Automatic syncing is off: sync manually.'),
    h('dt', null, 'Automatic syncing'),
    h('dd', null, status.autoSync ? 'On, every 4 hours' : 'Off'),
    ...(status.quarantine
      ? [
          h('dt', null, 'Quarantined'),
          h(
            'dd',
            { class: 'warning-text', 'data-quarantine': '' },
            'Automatic syncing waits until ',
            timeEl(status.quarantine.until),
            `: ${status.quarantine.reason} `,
            status.quarantine.advice,
          ),
        ]
      : []),
  ];
}

/**
 * Renders the status page and returns the function that stops its polling.
 * Polling redraws only what holds no controls, so keyboard focus stays put.
 */
export async function renderStatus(container, dir, initial) {
  let status = initial;
  let stopped = false;
  let timer = null;
  const flash = takeFlash();
  const runSlot = h('div');
  const facts = h('dl', { class: 'facts' });
  const history = h('ol', { class: 'history' });
  const historyError = h('div');
  const chart = h('div', { class: 'run-chart' });
  const phaseAnnouncer = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const lastNextTitle = h('h2', { id: 'last-next', tabindex: '-1' }, 'Last and next sync');

  // The removal guard's panel: built once and shown while the run waits, so
  // polling redraws only its details and never takes the focus from its buttons.
  const guardTitleId = newId('guard-title');
  const guardDetails = h('div');
  const confirmButton = h('button', { type: 'button' }, 'Confirm removals');
  const rejectButton = h('button', { type: 'button', class: 'secondary' }, 'Reject removals');
  const guardError = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const guardPanel = h(
    'section',
    { class: 'card guard-panel', role: 'region', 'aria-labelledby': guardTitleId, hidden: true },
    h('h2', { id: guardTitleId, tabindex: '-1' }, 'This sync is waiting for you'),
    guardDetails,
    h(
      'ul',
      { class: 'hint guard-choices' },
      h('li', null, h('strong', null, 'Confirm removals'), ': the sync removes them and completes.'),
      h('li', null, h('strong', null, 'Reject removals'), ': everything stays as it is and this sync ends. The next sync decides again.'),
    ),
    h('div', { class: 'actions' }, confirmButton, rejectButton),
    guardError,
  );
  let guardShown = '';

  async function decide(action) {
    const buttons = [confirmButton, rejectButton];
    buttons.forEach((b) => (b.disabled = true));
    guardError.hidden = true;
    guardError.textContent = '';
    try {
      await post(dirPath(dir, `/sync/${action}`));
    } catch (error) {
      const message =
        error.code === 'nothing_to_confirm'
          ? `This sync is no longer waiting for you: someone may have decided already (${error.message}).`
          : `Couldn’t ${action} the removals: ${error.message}`;
      buttons.forEach((b) => (b.disabled = false));
      await refresh();
      if (guardPanel.hidden) {
        // No run waits any more: said by the page's other buttons, where focus goes.
        showActionError({ message });
      } else {
        guardError.textContent = message;
        guardError.hidden = false;
        guardError.focus();
      }
      return;
    }
    buttons.forEach((b) => (b.disabled = false));
    await refresh();
    // The panel closes once the decision is made: focus goes on to the run, or the last sync.
    if (guardPanel.hidden) (runSlot.querySelector('h2') ?? lastNextTitle).focus();
    announce(
      action === 'confirm'
        ? 'Removals confirmed: the sync goes on and removes them.'
        : 'Removals rejected: nothing was removed and this sync ended.',
    );
  }
  confirmButton.addEventListener('click', () => decide('confirm'));
  rejectButton.addEventListener('click', () => decide('reject'));

  /** Shows the guard panel while the run waits; its details are redrawn only when they change. */
  function drawGuard() {
    const run = status.current;
    const held = isAwaitingConfirmation(run);
    const hadFocus = guardPanel.contains(document.activeElement);
    if (held) {
      const key = JSON.stringify([run.run_id, run.pending_removals]);
      if (key !== guardShown) {
        fill(guardDetails, ...pendingRemovalsDetails(run.pending_removals ?? {}));
        guardShown = key;
      }
    } else {
      guardShown = '';
    }
    if (guardPanel.hidden === held) {
      guardPanel.hidden = !held;
      if (!held) {
        guardError.hidden = true;
        // Focus in the panel that just closed goes on to what follows: the run, or the last sync.
        if (hadFocus) (runSlot.querySelector('h2') ?? lastNextTitle).focus();
      }
    }
  }

  // Failures of the buttons below, shown next to them and announced.
  const actionError = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const showActionError = (error) => {
    actionError.textContent = error.message;
    actionError.hidden = false;
    actionError.focus();
  };
  const clearActionError = () => {
    actionError.textContent = '';
    actionError.hidden = true;
  };

  const syncButton = h('button', { type: 'button' }, 'Sync now');
  syncButton.addEventListener('click', async () => {
    syncButton.disabled = true;
    clearActionError();
    try {
      if (await confirmAndSync(dir, { autoSync: status.autoSync, hasSynced: true, returnFocus: syncButton })) {
        const notice = takeFlash();
        if (notice) runSlot.before(notice);
        await refresh();
        // The Sync button is disabled while the run goes; focus follows the run.
        runSlot.querySelector('h2')?.focus();
      }
    } catch (error) {
      showActionError(error);
    } finally {
      syncButton.disabled = Boolean(status.current);
    }
  });

  const toggle = h('button', { type: 'button', class: 'secondary' });
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    clearActionError();
    try {
      await setAutoSync(dir, !status.autoSync);
      announce(status.autoSync ? 'Automatic syncing turned off.' : 'Automatic syncing turned on.');
      await refresh();
    } catch (error) {
      showActionError(error);
    } finally {
      toggle.disabled = false;
    }
  });

  async function loadHistory() {
    try {
      const { data } = await get(dirPath(dir, '/sync/history'));
      const runs = listOf(data);
      fill(history, ...(runs.length ? runs.map((run) => historyItem(dir, run)) : [h('li', { class: 'hint' }, 'No finished sync yet.')]));
      fill(chart, runChart(runs));
      fill(historyError);
      await nameGroups(history);
    } catch (error) {
      fill(historyError, loadFailed(error, loadHistory));
    }
  }

  function draw() {
    fill(runSlot, ...(status.current ? [currentRunCard(status.current)] : []));
    drawGuard();
    fill(facts, ...lastNextFacts(status));
    toggle.textContent = status.autoSync ? 'Turn off automatic syncing' : 'Turn on automatic syncing';
    syncButton.disabled = Boolean(status.current);
    return nameGroups(runSlot);
  }

  let refreshFailing = false;
  async function refresh() {
    const wasActive = Boolean(status.current);
    const previousPhase = status.current?.phase;
    try {
      status = normalizeStatus((await get(dirPath(dir, '/sync'))).data);
      refreshFailing = false;
    } catch (error) {
      // Said once, not on every poll; polling goes on and recovers by itself.
      if (!refreshFailing) announce(`Couldn’t refresh the sync status: ${error.message}`);
      refreshFailing = true;
      return;
    }
    if (stopped) return;
    await draw();
    if (status.current && status.current.phase !== previousPhase) {
      phaseAnnouncer.textContent = isAwaitingConfirmation(status.current)
        ? 'The sync is waiting for you: confirm or reject its removals.'
        : `Sync: ${phaseLabel(status.current.phase)}`;
    }
    if (wasActive && !status.current) {
      phaseAnnouncer.textContent = status.last ? `Sync finished: ${resultBadge(status.last).textContent}.` : 'Sync finished.';
      await loadHistory();
    }
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => {
      await refresh();
      schedule();
    }, status.current ? POLL_ACTIVE_MS : POLL_IDLE_MS);
  }

  fill(container,
    flash,
    guardPanel,
    runSlot,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'last-next' },
      lastNextTitle,
      facts,
      h(
        'div',
        { class: 'actions' },
        syncButton,
        h('a', { class: 'button secondary', href: `#/directories/${encodeURIComponent(dir)}/settings` }, 'Edit settings'),
        toggle,
      ),
      actionError,
    ),
    h('section', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'Sync history'), chart, historyError, history),
    phaseAnnouncer,
  );
  await Promise.all([draw(), loadHistory()]);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
