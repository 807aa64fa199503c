// The dashboard UI: plain browser JavaScript, no build step. Pages read the API a page at a time
// (keyset cursors), so they stay fast with any number of jobs; the visible page polls every 2 s.
(function () {
  const BASE = window.ODDJOB_BASE || '/';
  const main = document.getElementById('main');
  let features = {};
  let timer = null;
  // The job page tails its log on its own timer (`later`); `page` grows on every navigation so an
  // answer that arrives after the user left a page is dropped instead of drawn into the next one.
  let tailTimer = null;
  let page = 0;
  const drawn = new WeakMap();
  const auth = () => sessionStorage.getItem('oddjob-auth');
  // With several stores the page's query names the tenant (?tenant=NAME#/jobs...), so a link opens
  // the same store; every API call then goes to api/t/NAME/... . null: one store, plain api/... .
  let tenant = new URLSearchParams(location.search).get('tenant');
  let tenants = null;
  const apiPath = (path) =>
    tenant !== null && path.startsWith('api/') && path !== 'api/tenants'
      ? `api/t/${encodeURIComponent(tenant)}/${path.slice('api/'.length)}`
      : path;

  async function api(path, init) {
    const headers = Object.assign(
      { accept: 'application/json' },
      init && init.body ? { 'content-type': 'application/json' } : {},
    );
    if (auth()) headers.authorization = auth();
    const res = await fetch(BASE + apiPath(path), Object.assign({}, init, { headers }));
    const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
    if (res.status === 401) {
      showLogin();
      throw new Error('login required');
    }
    if (!res.ok) throw Object.assign(new Error((body && body.message) || res.statusText), { status: res.status });
    return body;
  }

  const esc = (s) =>
    String(s ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  const status = (s) => `<span class="status status-${esc(s)}" data-status="${esc(s)}">${esc(s)}</span>`;
  const time = (t) => (t ? esc(new Date(t).toLocaleString()) : '');
  const progress = (p) =>
    p === null || p === undefined ? '' : typeof p === 'number' ? `${p}%` : esc(JSON.stringify(p));
  const duration = (ms) =>
    ms === null || ms === undefined
      ? ''
      : ms < 1000
        ? `${ms} ms`
        : ms < 120000
          ? `${(ms / 1000).toFixed(1)} s`
          : `${Math.round(ms / 60000)} min`;
  const errorText = (e) => (e ? `${e.name}: ${e.message}` : '');
  // Every job status, in the order a job goes through them (core's JOB_STATUSES).
  const STATUSES = ['waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled'];
  const FINAL = ['done', 'failed', 'cancelled'];
  /** Sets innerHTML only when it changed, so polling keeps open <details>, selections and scroll. */
  function put(el, html) {
    if (el === null || drawn.get(el) === html) return;
    el.innerHTML = html;
    drawn.set(el, html);
  }
  function stopTimers() {
    clearInterval(timer);
    clearTimeout(tailTimer);
    tailTimer = null;
  }
  /** One timer beside the poll (the log tail), cleared with it when the page changes. */
  function later(fn, ms) {
    clearTimeout(tailTimer);
    tailTimer = setTimeout(fn, ms);
  }

  function confirmAction(text) {
    const d = document.getElementById('confirm');
    document.getElementById('confirm-text').textContent = text;
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.returnValue = '';
      d.showModal();
    });
  }

  async function act(text, path, init) {
    if (!(await confirmAction(text))) return null;
    try {
      return await api(path, Object.assign({ method: 'POST' }, init));
    } catch (e) {
      alert(e.message);
      return null;
    }
  }

  function showLogin() {
    page++;
    stopTimers();
    main.innerHTML = `<h2>Log in</h2><form class="login" id="login">
      <label>Bearer token <input name="token" type="password" autocomplete="off"></label>
      <p class="muted">or</p>
      <label>User <input name="user"></label><label>Password <input name="password" type="password"></label>
      <button type="submit">Log in</button></form>`;
    document.getElementById('login').onsubmit = (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const token = f.get('token');
      sessionStorage.setItem(
        'oddjob-auth',
        token ? `Bearer ${token}` : `Basic ${btoa(`${f.get('user')}:${f.get('password')}`)}`,
      );
      route();
    };
  }

  function poll(fn) {
    stopTimers();
    fn().catch(() => undefined);
    timer = setInterval(() => fn().catch(() => undefined), 2000);
  }

  // ---- pages ----
  async function overview() {
    main.innerHTML =
      '<h2>Overview</h2><div class="cards" id="cards"></div><p class="muted" id="as-of"></p><div id="chart"></div><h3>Per queue</h3><div id="queues"></div>';
    poll(async () => {
      const { counts, asOf } = await api('api/counts');
      // A big store's counts are reused for a while (the server's counts cache): say how old they are.
      const age = Math.round((Date.now() - Date.parse(asOf)) / 1000);
      document.getElementById('as-of').textContent = age >= 3 ? `counts as of ${age} s ago` : '';
      const total = {};
      const queues = {};
      for (const c of counts) {
        total[c.status] = (total[c.status] || 0) + c.count;
        (queues[c.queue] = queues[c.queue] || {})[c.status] = c.count;
      }
      const ST = STATUSES;
      document.getElementById('cards').innerHTML = ST.map(
        (s) => `<a class="card" href="#/jobs?status=${s}" data-count="${s}">${status(s)}<b>${total[s] || 0}</b></a>`,
      ).join('');
      document.getElementById('queues').innerHTML =
        `<table><tr><th>queue</th>${ST.map((s) => `<th>${s}</th>`).join('')}</tr>${Object.keys(queues)
          .sort()
          .map(
            (q) =>
              `<tr><td><a href="#/jobs?queue=${encodeURIComponent(q)}">${esc(q)}</a></td>${ST.map((s) => `<td>${queues[q][s] || 0}</td>`).join('')}</tr>`,
          )
          .join('')}</table>`;
      if (features.throughput) {
        const t = await api('api/throughput');
        const chart = document.getElementById('chart');
        chart.innerHTML = `<h3>Finished per ${t.intervalMs / 1000} s (sampled by this server)</h3>`;
        chart.appendChild(
          window.drawChart(
            [
              { name: 'done', color: '#2e7d32', values: t.points.map((p) => p.done) },
              { name: 'failed', color: '#c62828', values: t.points.map((p) => p.failed) },
            ],
            t.points.map((p) => new Date(p.at).toLocaleTimeString()),
            720,
            200,
          ),
        );
      }
    });
  }

  async function jobs(params) {
    const q = new URLSearchParams(params);
    const cursors = (q.get('back') || '').split('~').filter(Boolean);
    main.innerHTML = `<h2>Jobs</h2><form class="filters" id="filters">
      <select name="status"><option value="">any status</option>${STATUSES.map((s) => `<option ${q.get('status') === s ? 'selected' : ''}>${s}</option>`).join('')}</select>
      <input name="queue" placeholder="queue" value="${esc(q.get('queue'))}"><input name="target" placeholder="target" value="${esc(q.get('target'))}">
      <input name="text" placeholder="text" value="${esc(q.get('text'))}"><button type="submit">Filter</button>
      <button type="button" id="bulk-retry">Retry all matching</button><button type="button" id="bulk-cancel">Cancel all matching</button><button type="button" id="purge">Purge final…</button></form>
      <div id="list"></div><p><button id="prev">Previous</button> <button id="next">Next</button></p>`;
    const filterOf = () => {
      const f = {};
      for (const k of ['status', 'queue', 'target']) if (q.get(k)) f[k] = q.get(k);
      return f;
    };
    document.getElementById('filters').onsubmit = (ev) => {
      ev.preventDefault();
      const f = new URLSearchParams();
      for (const [k, v] of new FormData(ev.target)) if (v) f.set(k, v);
      location.hash = `#/jobs?${f}`;
    };
    document.getElementById('bulk-retry').onclick = async () => {
      const r = await act(`Retry every final job matching ${JSON.stringify(filterOf())}?`, 'api/jobs/bulk', {
        body: JSON.stringify({ action: 'retry', filter: filterOf() }),
      });
      if (r) alert(`${r.changed} of ${r.matched} requeued`);
    };
    document.getElementById('bulk-cancel').onclick = async () => {
      const r = await act(`Cancel every job matching ${JSON.stringify(filterOf())}?`, 'api/jobs/bulk', {
        body: JSON.stringify({ action: 'cancel', filter: filterOf() }),
      });
      if (r) alert(`${r.changed} of ${r.matched} cancelled`);
    };
    document.getElementById('purge').onclick = async () => {
      const statuses =
        q.get('status') && ['done', 'failed', 'cancelled'].includes(q.get('status'))
          ? [q.get('status')]
          : ['done', 'failed', 'cancelled'];
      const r = await act(
        `Delete every ${statuses.join('/')} job${q.get('queue') ? ` of queue ${q.get('queue')}` : ''}? This cannot be undone.`,
        'api/jobs/purge',
        { body: JSON.stringify(Object.assign({ statuses }, q.get('queue') ? { queue: q.get('queue') } : {})) },
      );
      if (r) alert(`${r.purged} purged`);
    };
    const go = (cursor, back) => {
      const n = new URLSearchParams(q);
      n.delete('cursor');
      n.delete('back');
      if (cursor) n.set('cursor', cursor);
      if (back.length) n.set('back', back.join('~'));
      location.hash = `#/jobs?${n}`;
    };
    document.getElementById('prev').disabled = !q.get('cursor');
    document.getElementById('prev').onclick = () => {
      const b = cursors.slice(0, -1);
      go(cursors[cursors.length - 1] === '-' ? '' : cursors[cursors.length - 1], b);
    };
    poll(async () => {
      const p = new URLSearchParams();
      for (const k of ['status', 'queue', 'target', 'sequence', 'sequenceRun', 'text', 'cursor'])
        if (q.get(k)) p.set(k, q.get(k));
      const page = await api(`api/jobs?${p}`);
      document.getElementById('list').innerHTML =
        page.jobs.length === 0
          ? '<p class="muted">No jobs.</p>'
          : `<table><tr><th>id</th><th>status</th><th>queue</th><th>target.method</th><th>attempts</th><th>progress</th><th>last error</th><th>created</th></tr>${page.jobs.map((j) => `<tr data-job="${esc(j.id)}"><td><a href="#/job/${esc(j.id)}">${esc(j.id)}</a></td><td>${status(j.status)}${j.waitingFor ? ` <span class="muted">for ${esc(j.waitingFor)}</span>` : ''}</td><td>${esc(j.queue)}</td><td>${esc(j.target)}.${esc(j.method)}</td><td>${j.attempts}</td><td>${progress(j.progress)}</td><td class="error">${j.lastError ? esc(`${j.lastError.name}: ${j.lastError.message}`) : ''}</td><td>${time(j.createdAt)}</td></tr>`).join('')}</table>`;
      const next = document.getElementById('next');
      next.disabled = !page.next;
      next.onclick = () => go(page.next, cursors.concat([q.get('cursor') || '-']));
    });
  }

  async function executors() {
    const mine = page;
    main.innerHTML =
      '<h2>Executors</h2><p class="muted">Shells registered in the store. A stale one missed its heartbeats: it probably died, and is pruned after an hour.</p><div id="executors"></div>';
    poll(async () => {
      const { executors: list } = await api('api/executors');
      if (mine !== page) return;
      put(
        document.getElementById('executors'),
        list.length === 0
          ? '<p class="muted">No executors registered (none running, or they stopped cleanly).</p>'
          : `<table><tr><th>id</th><th>host</th><th>pid</th><th>version</th><th>state</th><th>queues</th><th>started</th><th>last heartbeat</th></tr>${list.map((e) => `<tr data-executor="${esc(e.id)}" class="${e.stale ? 'stale' : ''}"><td>${esc(e.id)}</td><td>${esc(e.host)}</td><td>${esc(e.pid)}</td><td>${esc(e.version)}</td><td class="state">${esc(e.state)}${e.stale ? ' <span class="stale-flag">stale</span>' : ''}</td><td class="queues">${e.queues.map((q) => `${esc(q.name)}×${esc(q.workers)}`).join(', ')}</td><td>${time(e.startedAt)}</td><td class="age">${esc(duration(e.heartbeatAgeMs))} ago</td></tr>`).join('')}</table>`,
      );
    });
  }

  async function schedules() {
    main.innerHTML = '<h2>Schedules</h2><div id="schedules"></div>';
    poll(async () => {
      const { schedules } = await api('api/schedules');
      const box = document.getElementById('schedules');
      box.innerHTML =
        schedules.length === 0
          ? '<p class="muted">No schedules.</p>'
          : `<table><tr><th>name</th><th>cron</th><th>job</th><th>state</th><th>next fire times</th><th>last fired</th><th></th></tr>${schedules
              .map(
                (
                  s,
                ) => `<tr data-schedule="${esc(s.name)}"><td>${esc(s.name)}</td><td><code>${esc(s.cron)}</code> ${esc(s.timeZone)}</td><td>${esc(s.target)}.${esc(s.method)} → ${esc(s.queue)}</td><td class="state">${s.paused ? 'paused' : 'active'}</td><td>${s.upcoming.map(time).join('<br>')}</td><td>${time(s.lastFireAt)}</td><td>
        <button data-do="${s.paused ? 'resume' : 'pause'}">${s.paused ? 'Resume' : 'Pause'}</button> <button data-do="trigger">Trigger now</button> <button data-do="delete">Delete</button></td></tr>`,
              )
              .join('')}</table>`;
      for (const b of box.querySelectorAll('button[data-do]')) {
        b.onclick = async () => {
          const name = b.closest('tr').dataset.schedule;
          const what = b.dataset.do;
          const path = `api/schedules/${encodeURIComponent(name)}${what === 'delete' ? '' : `/${what}`}`;
          if (await act(`${what} schedule ${name}?`, path, what === 'delete' ? { method: 'DELETE' } : {})) route();
        };
      }
    });
  }

  async function unavailable(name, path) {
    stopTimers();
    main.innerHTML = `<h2>${name}</h2><div class="panel" id="unavailable">checking…</div>`;
    try {
      await api(path);
    } catch (e) {
      document.getElementById('unavailable').textContent = e.message;
    }
  }

  async function route() {
    page++;
    stopTimers();
    const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
    // One job's page belongs to Jobs, one run's to Sequences.
    const section = { job: 'jobs', sequence: 'sequences' }[path.split('/')[0]] || path.split('/')[0];
    for (const a of document.querySelectorAll('header nav a'))
      a.classList.toggle('active', a.getAttribute('href') === `#/${section}`);
    try {
      if (tenants === null) tenants = (await api('api/tenants')).tenants;
    } catch {
      return;
    }
    if (!chooseTenant()) return;
    try {
      features = await api('api/features');
    } catch {
      return;
    }
    document.getElementById('user').textContent = features.user
      ? `${features.user.name}${features.user.readOnly ? ' (read-only)' : ''}`
      : '';
    for (const a of document.querySelectorAll('[data-feature]')) a.hidden = !features[a.dataset.feature];
    const parts = path.split('/');
    if (parts[0] === 'jobs') return jobs(query || '');
    if (parts[0] === 'job') return jobPage().job(decodeURIComponent(parts[1]));
    if (parts[0] === 'schedules') return schedules();
    if (parts[0] === 'executors') return features.executors ? executors() : unavailable('Executors', 'api/executors');
    if (parts[0] === 'sequences') return sequencePages().list(query || '');
    if (parts[0] === 'sequence') return sequencePages().run(decodeURIComponent(parts[1]));
    return overview();
  }

  /**
   * Shows the tenant selector when there are several tenants and settles which one this page reads:
   * the URL's, else the first (written into the URL so the address names it). False when the URL
   * names a tenant the server does not serve (the page says so).
   */
  function chooseTenant() {
    const select = document.getElementById('tenant');
    select.hidden = tenants.length < 2;
    if (tenants.length === 0) {
      tenant = null;
      return true;
    }
    if (tenant === null) {
      if (tenants.length === 1) return true; // the only tenant is served at api/... too
      tenant = tenants[0];
      history.replaceState(null, '', `?tenant=${encodeURIComponent(tenant)}${location.hash}`);
    }
    select.innerHTML = tenants
      .map((t) => `<option value="${esc(t)}" ${t === tenant ? 'selected' : ''}>${esc(t)}</option>`)
      .join('');
    select.onchange = () => {
      // A job id belongs to one store: switching from a job's page goes to the other store's jobs.
      // So does a sequence run's.
      const hash = location.hash.startsWith('#/job/')
        ? '#/jobs'
        : location.hash.startsWith('#/sequence/')
          ? '#/sequences'
          : location.hash;
      location.assign(`?tenant=${encodeURIComponent(select.value)}${hash}`);
    };
    if (tenants.includes(tenant)) return true;
    main.innerHTML = `<h2>Unknown tenant</h2><div class="panel" id="unavailable">tenant "${esc(tenant)}" is not served here (tenants: ${tenants.map(esc).join(', ')})</div>`;
    return false;
  }

  // The job page lives in job-page.js, the sequence pages in sequences.js (both loaded first); each
  // gets the helpers it shares with this file, built when the page is first opened.
  const shared = () => ({
    api,
    esc,
    status,
    time,
    progress,
    duration,
    errorText,
    put,
    poll,
    act,
    route,
    later,
    FINAL,
    features: () => features,
    page: () => page,
  });
  let jp = null;
  const jobPage = () => (jp = jp || window.oddjobJobPage(shared()));
  let seq = null;
  const sequencePages = () => (seq = seq || window.oddjobSequencePages(shared()));

  window.addEventListener('hashchange', route);
  route();
})();
