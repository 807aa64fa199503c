/**
 * The advisory lock of a concurrency key: a 64-bit hash of the quoted schema and the key, so stores
 * in other schemas do not contend. `key` is an SQL expression. Two keys that collide only share a
 * lock (they serialize more), never a count. Used by the function below and by sql/flow.ts; part of
 * migration 5's text, so it must not change.
 */
export function keyLock(s: string, key: string): string {
  return `pg_advisory_xact_lock(hashtextextended('${s.replace(/'/g, "''")}:' || ${key}, 0))`;
}

/**
 * `flow_settle`: everything that follows jobs becoming final, or jobs being added with parents or a
 * key, in the caller's transaction (called from the very statement that ended the jobs, or from the
 * insert's transaction). PL/pgSQL because a cancelled child decides its own children in turn, a loop
 * a single statement cannot run: every part of one statement reads the same snapshot. The function
 * is VOLATILE, so each of its queries sees what the calling statement wrote before calling it (the
 * ended rows, final or deleted).
 *
 * - p_ended / p_statuses: jobs that just became final and their status. Their open dependency rows
 *   record it; each child whose parents have all ended is decided by core's decideChild rule, built
 *   here with the same message texts: released to `new`, or to `waiting` for a slot if it has a key
 *   that does not 'allow'; or `cancelled` with a DependencyError, which ends it in turn (the loop).
 * - p_children: jobs just added with `after`: their dependency rows are written, their parents get
 *   `has_children`, parents already final record their status at once, and they are decided if all
 *   have ended.
 * - p_keys: keys whose slots may have freed (keys of the ended jobs) or that gained waiting jobs.
 *   For each, in sorted order, under its advisory lock: the admitted jobs are counted once, then
 *   waiting jobs are admitted in claim order (priority DESC, run_at, id) while the count is under
 *   the next waiting job's own limit. That limit is read before the job is locked, so a full key
 *   locks nothing. SKIP LOCKED: a waiting job locked by a concurrent cancel is passed over rather
 *   than waited for, since that cancel may be waiting for this key's lock.
 * - Jobs that become claimable are announced on p_jobs_channel (their queue) when it is not NULL,
 *   children it cancels that someone waits on on p_finished_channel.
 *
 * Returns how many jobs it changed.
 */
export function flowSettleFunction(s: string): string {
  const meets = `(d."when" = 'finished' OR (d."when" = 'succeeded' AND d.outcome = 'done')
                  OR (d."when" = 'failed' AND d.outcome = 'failed'))`;
  return `CREATE FUNCTION ${s}.flow_settle(p_ended uuid[], p_statuses text[], p_keys text[], p_children uuid[],
                                    p_at timestamptz, p_jobs_channel text, p_finished_channel text)
  RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  ended uuid[] := coalesce(p_ended, '{}');
  statuses text[] := coalesce(p_statuses, '{}');
  consider uuid[] := coalesce(p_children, '{}');
  keys text[] := coalesce(p_keys, '{}');
  changed integer := 0;
  r record;
  k text;
  used integer;
  lim integer;
BEGIN
  IF cardinality(consider) > 0 THEN
    INSERT INTO ${s}.job_deps (child, position, parent, "when")
    SELECT j.id, x.ord - 1, (x.p->>'job')::uuid, x.p->>'when'
      FROM ${s}.jobs j, jsonb_array_elements(j.after->'parents') WITH ORDINALITY AS x(p, ord)
     WHERE j.id = ANY(consider) AND j.status = 'waiting' AND j.waiting_for = 'parents'
       AND NOT EXISTS (SELECT 1 FROM ${s}.job_deps e WHERE e.child = j.id);
    UPDATE ${s}.jobs j SET has_children = true
     WHERE j.id IN (SELECT parent FROM ${s}.job_deps WHERE child = ANY(consider)) AND NOT j.has_children;
    UPDATE ${s}.job_deps d SET outcome = j.status
      FROM ${s}.jobs j
     WHERE d.child = ANY(consider) AND d.outcome IS NULL AND j.id = d.parent AND j.finished_at IS NOT NULL;
  END IF;
  LOOP
    IF cardinality(ended) > 0 THEN
      WITH rec AS (
        UPDATE ${s}.job_deps d SET outcome = e.status
          FROM unnest(ended, statuses) AS e(id, status)
         WHERE d.parent = e.id AND d.outcome IS NULL
        RETURNING d.child
      )
      SELECT consider || coalesce(array_agg(DISTINCT child), '{}') INTO consider FROM rec;
    END IF;
    EXIT WHEN cardinality(consider) = 0;
    ended := '{}';
    statuses := '{}';
    FOR r IN
      WITH ready AS MATERIALIZED (
        SELECT j.id, j.after->>'rule' AS rule
          FROM ${s}.jobs j
         WHERE j.id = ANY(consider) AND j.status = 'waiting' AND j.waiting_for = 'parents'
           AND NOT EXISTS (SELECT 1 FROM ${s}.job_deps d WHERE d.child = j.id AND d.outcome IS NULL)
           FOR UPDATE
      ), verdict AS (
        SELECT rd.id,
               CASE WHEN rd.rule = 'mixed' THEN
                 (SELECT CASE WHEN count(*) FILTER (WHERE d.outcome = 'done') = count(*)
                                THEN 'every parent ended done, not a mixed outcome'
                              WHEN count(*) FILTER (WHERE d.outcome = 'done') = 0
                                THEN 'no parent ended done, not a mixed outcome' END
                    FROM ${s}.job_deps d WHERE d.child = rd.id)
               ELSE
                 (SELECT 'parent ' || d.parent::text || ' ended ' || d.outcome || ', not ' || d."when"
                    FROM ${s}.job_deps d
                   WHERE d.child = rd.id AND NOT ${meets}
                   ORDER BY d.position
                   LIMIT 1)
               END AS message
          FROM ready rd
      )
      UPDATE ${s}.jobs j
         SET status = CASE WHEN v.message IS NOT NULL THEN 'cancelled'
                           WHEN j.concurrency_key IS NOT NULL AND j.already_running <> 'allow' THEN 'waiting'
                           ELSE 'new' END,
             waiting_for = CASE WHEN v.message IS NULL AND j.concurrency_key IS NOT NULL
                                     AND j.already_running <> 'allow' THEN 'slot' END,
             finished_at = CASE WHEN v.message IS NOT NULL THEN p_at END,
             last_error = CASE WHEN v.message IS NOT NULL
                               THEN jsonb_build_object('name', 'DependencyError', 'message', v.message)
                               ELSE j.last_error END,
             unique_key = CASE WHEN v.message IS NOT NULL AND j.unique_scope <> 'stored' THEN NULL
                               ELSE j.unique_key END,
             released_key = CASE WHEN v.message IS NOT NULL AND j.unique_scope <> 'stored'
                                 THEN coalesce(j.unique_key, j.released_key) ELSE j.released_key END,
             updated_at = p_at
        FROM verdict v
       WHERE j.id = v.id
      RETURNING j.id, j.status, j.queue, j.run_at, j.concurrency_key, j.waited, j.has_children
    LOOP
      changed := changed + 1;
      IF r.status = 'cancelled' THEN
        IF r.has_children THEN
          ended := ended || r.id;
          statuses := statuses || 'cancelled'::text;
        END IF;
        IF r.waited AND p_finished_channel IS NOT NULL THEN
          PERFORM pg_notify(p_finished_channel, r.id::text);
        END IF;
      ELSIF r.status = 'waiting' THEN
        keys := keys || r.concurrency_key;
      ELSIF p_jobs_channel IS NOT NULL AND r.run_at <= p_at THEN
        PERFORM pg_notify(p_jobs_channel, r.queue);
      END IF;
    END LOOP;
    consider := '{}';
  END LOOP;
  FOR k IN SELECT DISTINCT x COLLATE "C" FROM unnest(keys) AS x WHERE x IS NOT NULL ORDER BY 1 LOOP
    PERFORM ${keyLock(s, 'k')};
    SELECT count(*) INTO used FROM ${s}.jobs
     WHERE concurrency_key = k AND waiting_for IS NULL AND finished_at IS NULL;
    LOOP
      -- The next in claim order, read first without a lock: if its limit is reached, admission stops
      -- here and no row was locked (the usual end: a key of limit 1 admitted its one job).
      SELECT concurrency_limit INTO lim FROM ${s}.jobs
       WHERE concurrency_key = k AND waiting_for = 'slot' AND finished_at IS NULL
       ORDER BY priority DESC, run_at, id
       LIMIT 1;
      EXIT WHEN NOT FOUND OR used >= lim;
      SELECT id, queue, run_at INTO r FROM ${s}.jobs
       WHERE concurrency_key = k AND waiting_for = 'slot' AND finished_at IS NULL
       ORDER BY priority DESC, run_at, id
       LIMIT 1
         FOR UPDATE SKIP LOCKED;
      EXIT WHEN NOT FOUND;
      UPDATE ${s}.jobs SET status = 'new', waiting_for = NULL, updated_at = p_at WHERE id = r.id;
      used := used + 1;
      changed := changed + 1;
      IF p_jobs_channel IS NOT NULL AND r.run_at <= p_at THEN
        PERFORM pg_notify(p_jobs_channel, r.queue);
      END IF;
    END LOOP;
  END LOOP;
  RETURN changed;
END
$fn$`;
}
