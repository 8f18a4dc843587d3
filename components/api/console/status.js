// Sync status: the run in progress (polled), last and next sync, automatic
// syncing, and the history of finished runs.

import { get, dirPath, listOf, nameGroups } from './api.js';
import { h, timeEl, announce, takeFlash, loadFailed, newId } from './ui.js';
import { confirmAndSync, setAutoSync } from './sync.js';
import { phaseLabel, percentDone, progressCounts, skippedDetails, resultBadge, historyItem, triggerLabel } from './runs.js';

const POLL_ACTIVE_MS = 1000;
const POLL_IDLE_MS = 10000;

/** `GET .../sync` as `{ current, last, nextSyncAt, autoSync }`. */
export function normalizeStatus(data) {
  return {
    current: data?.current ?? null,
    last: data?.last ?? null,
    nextSyncAt: data?.next_scheduled_at ?? null,
    autoSync: Boolean(data?.auto_sync),
  };
}

function currentRunCard(run) {
  const labelId = newId('progress-label');
  const percent = percentDone(run);
  const waitSecs = run.waiting_until ? Math.max(1, Math.round((run.waiting_until - Date.now()) / 1000)) : 0;
  const waiting = waitSecs
    ? h('p', { class: 'hint' }, `Microsoft Graph asked us to slow down; the sync resumes in about ${waitSecs} s.`)
    : null;
  return h(
    'section',
    { class: 'card run-card', 'aria-labelledby': labelId },
    h('h2', { id: labelId, tabindex: '-1' }, 'Sync in progress'),
    h('p', { class: 'phase' }, h('strong', null, phaseLabel(run.phase)), ' · started ', timeEl(run.started_at), ` · ${triggerLabel(run)}`),
    h('progress', { max: '100', value: String(percent), 'aria-labelledby': labelId, 'aria-valuetext': `${percent}% · ${phaseLabel(run.phase)}` }),
    waiting,
    progressCounts(run.counts),
    skippedDetails(run.counts),
    h('p', { class: 'hint' }, 'A sync can’t be stopped once it has started. Changes to the settings apply to the next sync.'),
  );
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
  const phaseAnnouncer = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });

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
      history.replaceChildren(...(runs.length ? runs.map(historyItem) : [h('li', { class: 'hint' }, 'No finished sync yet.')]));
      historyError.replaceChildren();
      await nameGroups(history);
    } catch (error) {
      historyError.replaceChildren(loadFailed(error, loadHistory));
    }
  }

  function draw() {
    runSlot.replaceChildren(...(status.current ? [currentRunCard(status.current)] : []));
    facts.replaceChildren(...lastNextFacts(status));
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
      phaseAnnouncer.textContent = `Sync: ${phaseLabel(status.current.phase)}`;
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

  container.replaceChildren(
    ...[flash].filter(Boolean),
    runSlot,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'last-next' },
      h('h2', { id: 'last-next' }, 'Last and next sync'),
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
    h('section', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'Sync history'), historyError, history),
    phaseAnnouncer,
  );
  await Promise.all([draw(), loadHistory()]);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
