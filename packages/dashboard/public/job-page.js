// The job page: one job's detail (arguments, metadata, lease, progress, last error and stack, result),
// its runs and its log, tailed while the job can still write. Apart from app.js to keep each file
// small; app.js hands in the helpers it shares and calls `job(id)` from its router.
window.oddjobJobPage = function (ui) {
  const { api, esc, status, time, progress, duration, errorText, put, poll, act, route, later, FINAL } = ui;
  const main = document.getElementById('main');

  /** The job's concurrency key and sequence step, as rows of its detail table (none when it has neither). */
  function flowRows(j) {
    const c = j.concurrency;
    const q = j.sequence;
    return (
      (c
        ? `<tr><th>concurrency</th><td id="concurrency">key <code>${esc(c.key)}</code>, at most ${esc(c.limit)} at once, already running: ${esc(c.alreadyRunning)}</td></tr>`
        : '') +
      (q
        ? `<tr><th>sequence</th><td id="sequence"><a href="#/sequence/${encodeURIComponent(q.run)}">${esc(q.name)}</a> step <b>${esc(q.step)}</b></td></tr>`
        : '')
    );
  }

  /** The parents a job waits (or waited) for, each linked to its page, with what it waits for it to end as. */
  function parentsTable(after) {
    if (!after) return '';
    const rule =
      after.rule === 'mixed'
        ? 'runs when some parents ended done and some did not'
        : 'runs when each parent ended as listed';
    return `<h3>Parents</h3><p class="muted">${rule}</p><table id="parents"><tr><th>job</th><th>when</th></tr>${after.parents
      .map(
        (p) =>
          `<tr data-parent="${esc(p.job)}"><td><a href="#/job/${encodeURIComponent(p.job)}">${esc(p.job)}</a></td><td class="when">${esc(p.when)}</td></tr>`,
      )
      .join('')}</table>`;
  }

  async function job(id) {
    const mine = ui.page();
    const path = `api/jobs/${encodeURIComponent(id)}`;
    main.innerHTML = `<h2>Job <code>${esc(id)}</code></h2><div id="job"></div><div id="result-box"></div>
      <h3>Runs</h3><div id="runs"></div>
      <h3>Log <span class="muted" id="log-state"></span></h3><div id="log-box"><table id="log"><tr><th>time</th><th>attempt</th><th>level</th><th>message</th></tr></table></div>`;
    // Log tail: asks for the lines after the last seq seen, every second while the job can still
    // write, at once while pages come back full; stops when the server says the job was final
    // before it read the lines (so none can follow). The job poll restarts it if the job is retried.
    let afterSeq = 0;
    let tailing = false;
    let tailDone = false;
    async function tail() {
      tailing = true;
      let next = 1000;
      try {
        const r = await api(`${path}/logs?afterSeq=${afterSeq}&limit=1000`);
        if (mine !== ui.page()) return;
        afterSeq = r.lastSeq;
        const table = document.getElementById('log');
        table.insertAdjacentHTML(
          'beforeend',
          r.lines
            .map(
              (l) =>
                `<tr class="log-line level-${esc(l.level)}" data-seq="${esc(l.seq)}" data-attempt="${esc(l.attempt)}"><td>${time(l.at)}</td><td>${esc(l.attempt)}</td><td>${esc(l.level)}</td><td class="message">${esc(l.message)}</td></tr>`,
            )
            .join(''),
        );
        document.getElementById('log-state').textContent =
          r.final && !r.more ? (table.rows.length > 1 ? '(complete)' : '(no lines)') : '(following)';
        if (r.final && !r.more) {
          tailing = false;
          tailDone = true;
          return;
        }
        if (r.more) next = 0;
      } catch (e) {
        if (mine !== ui.page()) return;
        document.getElementById('log-state').textContent = `(${e.message}; retrying)`;
      }
      later(tail, next);
    }
    poll(async () => {
      const j = await api(path);
      if (mine !== ui.page()) return;
      const features = ui.features();
      const ro = features.user && features.user.readOnly;
      const final = FINAL.includes(j.status);
      const prog =
        j.progress !== null || j.progressMessage
          ? `progress ${progress(j.progress)}${j.progressMessage ? ` — <span id="progress-message">${esc(j.progressMessage)}</span>` : ''}`
          : '';
      put(
        document.getElementById('job'),
        `
        <p>${status(j.status)}${j.waitingFor ? ` <span id="waiting-for">${j.waitingFor === 'slot' ? `for a slot of ${esc(j.concurrency ? j.concurrency.key : 'its key')}` : 'for its parents'}</span>` : ''} <span id="progress">${prog}</span></p>
        <p>${final ? `<button id="retry" ${ro ? 'disabled title="read-only"' : ''}>Retry</button>` : `<button id="cancel" ${ro ? 'disabled title="read-only"' : ''}>Cancel</button>`}</p>
        ${j.lastError ? `<h3>Last error</h3>` + `<p class="error" id="error">${esc(j.lastError.name)}: ${esc(j.lastError.message)}</p><pre id="stack">${esc(j.lastError.stack || '(no stack)')}</pre>` : ''}
        <table>
          <tr><th>target.method</th><td>${esc(j.target)}.${esc(j.method)}</td></tr><tr><th>queue</th><td>${esc(j.queue)}</td></tr>
          <tr><th>attempts</th><td>${esc(j.attempts)}</td></tr><tr><th>run at</th><td>${time(j.runAt)}</td></tr>
          <tr><th>created</th><td>${time(j.createdAt)}</td></tr><tr><th>updated</th><td>${time(j.updatedAt)}</td></tr>
          <tr><th>started</th><td>${time(j.startedAt)}</td></tr><tr><th>finished</th><td>${time(j.finishedAt)}</td></tr>
          <tr><th>executor</th><td>${esc(j.executorId)}${j.host ? ` on ${esc(j.host)}` : ''}</td></tr>
          ${j.pinnedHost ? `<tr><th>pinned to</th><td id="pinned-host">${esc(j.pinnedHost)}</td></tr>` : ''}
          <tr><th>lease</th><td>${j.lease ? `${esc(j.lease.owner)} until ${time(j.lease.expiresAt)}` : ''}</td></tr><tr><th>unique key</th><td>${esc(j.uniqueKey)}${j.uniqueKey ? ` <span class="muted" id="unique-scope">held while ${esc(j.uniqueScope)}</span>` : ''}</td></tr>
          <tr><th>priority</th><td id="priority">${esc(j.priority)}</td></tr>
          ${flowRows(j)}
          <tr><th>retry policy</th><td><code>${esc(JSON.stringify(j.retry))}</code></td></tr>
        </table>
        ${parentsTable(j.after)}
        <h3>Arguments</h3>${j.argsError ? `<p class="error">${esc(j.argsError)}</p>` : `<pre id="args">${esc(JSON.stringify(j.args, null, 2))}</pre>`}
        <h3>Metadata</h3><pre>${esc(JSON.stringify(j.metadata, null, 2))}</pre>`,
      );
      const av = j.available || {};
      put(
        document.getElementById('result-box'),
        !av.result
          ? '<div class="panel">result: not available on this store</div>'
          : `<h3>Result</h3>${j.resultError ? `<p class="error" id="result-error">${esc(j.resultError)}</p>` : ''}${
              j.resultRaw === null || j.resultRaw === undefined
                ? `<p class="muted" id="result">${j.status === 'done' ? '(no return value)' : '(none until the job is done)'}</p>`
                : `${j.resultError ? '' : `<pre id="result">${esc(JSON.stringify(j.result, null, 2))}</pre>`}<details><summary>as stored</summary><pre id="result-raw">${esc(j.resultRaw)}</pre></details>`
            }`,
      );
      put(
        document.getElementById('runs'),
        !av.runs
          ? '<div class="panel">runs: not available on this store</div>'
          : !j.runs || j.runs.length === 0
            ? '<p class="muted">No runs yet.</p>'
            : `<table id="runs-table"><tr><th>attempt</th><th>state</th><th>executor</th><th>host</th><th>started</th><th>duration</th><th>progress</th><th>error</th></tr>${j.runs.map((r) => `<tr data-run="${esc(r.attempt)}" data-state="${esc(r.state)}"><td>${esc(r.attempt)}</td><td><span class="run run-${esc(r.state)}">${esc(r.state)}</span></td><td>${esc(r.executorId)}</td><td>${esc(r.host)}${r.takeover ? ` <span class="takeover">took over from ${esc(r.takeover.pinnedHost)}</span>` : ''}</td><td>${time(r.startedAt)}</td><td>${r.durationMs === null ? (r.state === 'running' ? 'running' : '') : duration(r.durationMs)}</td><td>${progress(r.progress)}${r.progressMessage ? ` ${esc(r.progressMessage)}` : ''}</td><td class="error">${esc(errorText(r.error))}</td></tr>`).join('')}</table>`,
      );
      if (!av.logs)
        put(document.getElementById('log-box'), '<div class="panel">logs: not available on this store</div>');
      // A final job's log is read once; a job retried from here starts writing again, so tail again.
      else if (!tailing && (!final || !tailDone)) {
        tail();
      }
      const r = document.getElementById('retry');
      if (r)
        r.onclick = async () => {
          if (await act(`Retry job ${id}?`, `${path}/retry`)) route();
        };
      const c = document.getElementById('cancel');
      if (c)
        c.onclick = async () => {
          if (await act(`Cancel job ${id}?`, `${path}/cancel`)) route();
        };
    });
  }

  return { job };
};
