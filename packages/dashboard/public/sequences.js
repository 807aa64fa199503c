// The sequence pages: runs (newest first, by sequence name) and one run's steps. Apart from app.js
// to keep each file small; app.js hands in the helpers both use and calls these from its router.
window.oddjobSequencePages = function (ui) {
  const { api, esc, status, time, put, poll, act, route } = ui;
  const main = document.getElementById('main');

  /** "3 succeeded, 1 waiting": the step statuses of a run, most advanced first. */
  const ORDER = ['succeeded', 'failed', 'skipped', 'cancelled', 'running', 'retrying', 'queued', 'waiting'];
  const counts = (by) =>
    ORDER.filter((s) => by[s])
      .map((s) => `${by[s]} ${esc(s)}`)
      .join(', ');

  async function list(params) {
    const mine = ui.page();
    const q = new URLSearchParams(params);
    main.innerHTML = `<h2>Sequences</h2><form class="filters" id="seq-filters">
      <input name="name" placeholder="sequence name" value="${esc(q.get('name'))}"><button type="submit">Filter</button></form>
      <p class="muted">Runs, newest first. A run's status is read from its steps: running while any step is not final.</p>
      <div id="runs-list"></div>`;
    document.getElementById('seq-filters').onsubmit = (ev) => {
      ev.preventDefault();
      const name = new FormData(ev.target).get('name');
      location.hash = name ? `#/sequences?name=${encodeURIComponent(name)}` : '#/sequences';
    };
    poll(async () => {
      const p = new URLSearchParams();
      if (q.get('name')) p.set('name', q.get('name'));
      const { runs } = await api(`api/sequences?${p}`);
      if (mine !== ui.page()) return;
      put(
        document.getElementById('runs-list'),
        runs.length === 0
          ? '<p class="muted">No sequence runs.</p>'
          : `<table id="runs"><tr><th>run</th><th>sequence</th><th>status</th><th>steps</th><th>started</th><th>finished</th></tr>${runs
              .map(
                (r) =>
                  `<tr data-run="${esc(r.run)}"><td><a href="#/sequence/${encodeURIComponent(r.run)}">${esc(r.run)}</a></td><td><a href="#/sequences?name=${encodeURIComponent(r.name)}">${esc(r.name)}</a></td><td class="run-status">${status(r.status)}</td><td>${counts(r.stepsByStatus)}</td><td>${time(r.createdAt)}</td><td>${time(r.finishedAt)}</td></tr>`,
              )
              .join('')}</table>`,
      );
    });
  }

  const parentsOf = (s) =>
    s.after
      ? `${s.after.rule === 'mixed' ? 'mixed outcome of ' : ''}${s.after.parents
          .map(
            (p) =>
              `<a href="#/job/${encodeURIComponent(p.job)}">${esc(p.step || p.job)}</a>${s.after.rule === 'mixed' ? '' : ` <span class="muted">${esc(p.when)}</span>`}`,
          )
          .join(', ')}`
      : '<span class="muted">starts with the run</span>';

  async function run(id) {
    const mine = ui.page();
    const path = `api/sequences/${encodeURIComponent(id)}`;
    main.innerHTML = `<h2>Sequence run <code>${esc(id)}</code></h2><div id="run"></div>`;
    poll(async () => {
      let r;
      try {
        r = await api(path);
      } catch (e) {
        if (mine === ui.page())
          put(document.getElementById('run'), `<div class="panel" id="run-error">${esc(e.message)}</div>`);
        return;
      }
      if (mine !== ui.page()) return;
      const f = ui.features();
      const ro = f.user && f.user.readOnly;
      put(
        document.getElementById('run'),
        `<p><a href="#/sequences?name=${encodeURIComponent(r.name)}" id="run-name">${esc(r.name)}</a> <span id="run-status">${status(r.status)}</span>
        started ${time(r.createdAt)}${r.finishedAt ? `, finished ${time(r.finishedAt)}` : ''}
        — <a id="run-jobs" href="#/jobs?sequenceRun=${encodeURIComponent(r.run)}">its jobs in the job list</a></p>
        ${r.status === 'running' ? `<p><button id="cancel-run" ${ro ? 'disabled title="read-only"' : ''}>Cancel run</button></p>` : ''}
        <table id="steps"><tr><th>step</th><th>status</th><th>job</th><th>call</th><th>after</th><th>attempts</th><th>finished</th><th>error</th></tr>${r.steps
          .map(
            (s) =>
              `<tr data-step="${esc(s.step)}" data-status="${esc(s.status)}"><td>${esc(s.step)}</td><td class="step-status">${status(s.status)}</td><td><a class="job-link" href="#/job/${encodeURIComponent(s.jobId)}">${esc(s.jobId)}</a></td><td>${esc(s.target)}.${esc(s.method)}</td><td class="parents">${parentsOf(s)}</td><td>${esc(s.attempts)}</td><td>${time(s.finishedAt)}</td><td class="error">${s.lastError ? esc(`${s.lastError.name}: ${s.lastError.message}`) : ''}</td></tr>`,
          )
          .join('')}</table>`,
      );
      const c = document.getElementById('cancel-run');
      if (c)
        c.onclick = async () => {
          if (await act(`Cancel every step of run ${id} that has not finished?`, `${path}/cancel`)) route();
        };
    });
  }

  return { list, run };
};
