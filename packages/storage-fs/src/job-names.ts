/**
 * The file names that carry a job's changing state (status, runAt, attempts, lease, finishedAt, the
 * latest attempt, flags), and how they are written and parsed. Kept apart from layout.ts, which says
 * where files live, because every hot-path transition is "parse a name, format the next one".
 */
import type { JobStatus } from '@oddjob/core';
import { decodeComponent, encodeComponent, type StateDir } from './layout.js';
import {
  DECIDED_PATTERN,
  FLOW_PATTERN,
  formatFlow,
  parseDecided,
  parseFlow,
  type Decided,
  type FlowFlags,
} from './name-flags.js';

/**
 * What a job's name says about its latest attempt (layout 2). Every transition carries it along, so
 * a done job keeps its run without a content write, and a claim (a rename) starts a new one.
 */
export interface LastRun {
  /** When the latest attempt started; null before the first claim (and for jobs from layout 1). */
  startedAt: number | null;
  /** Its executor (the lease owner that claimed it); '' when startedAt is null. */
  executor: string;
  /** The file hosts/<hostTag> holds the host that executor named in its claim; '' for none. */
  hostTag: string;
  /**
   * The content's progress and progressMessage were reported by this attempt. A claim clears it, so
   * that a new attempt starts without the last one's progress although the content still has it.
   */
  progress: boolean;
}

/**
 * Layout 3: flag `h` on every name of a job pinned to a host (JobOptions.pinnedHost; the host is in
 * the content). A claim reads the content of only the pinned candidates it cannot take blind (due but
 * not overdue), so an unpinned backlog is claimed from the listing alone, as before.
 */
interface Pinned extends FlowFlags {
  pinned: boolean;
}

export interface ReadyName extends LastRun, Pinned {
  state: 'ready';
  runAt: number;
  id: string;
  status: 'new' | 'retry';
  attempts: number;
  updatedAt: number;
}

/**
 * Layout 4: a job that waits (for its parents, or a slot of its concurrency key) is in waiting/,
 * which no claim lists, under `<id>~<p|s>~<the ready name it will get>`: its release is one rename.
 */
export interface WaitingName extends Omit<ReadyName, 'state'> {
  state: 'waiting';
  waitingFor: 'parents' | 'slot';
}

export interface RunningName extends Pinned {
  state: 'running';
  id: string;
  token: string;
  expiresAt: number;
  attempts: number;
  runAt: number;
  /** When the lease was taken (the attempt's start); for a job from layout 1, its last update. */
  since: number;
  owner: string;
  hostTag: string;
  /** `since` is the start of this attempt and `owner` its executor (false only for jobs from layout 1). */
  started: boolean;
  progress: boolean;
}

export interface FinalName extends LastRun, Pinned {
  state: 'done' | 'failed' | 'cancelled';
  finishedAt: number;
  id: string;
  attempts: number;
  runAt: number;
  /** The content's result is this done job's return value (set only by a done outcome with a result). */
  result: boolean;
  /** Set on a job its parents cancelled: what decided it (its lastError is built from it). */
  decided: Decided | null;
}

export type ParsedName = ReadyName | WaitingName | RunningName | FinalName;

const SEP = '~';
const READY_FLAGS = new RegExp(`^([nr])(p?)(h?)${FLOW_PATTERN}$`);
const RUNNING_FLAGS = new RegExp(`^(s?)(p?)(h?)${FLOW_PATTERN}$`);
const FINAL_FLAGS = new RegExp(`^(p?)(r?)(h?)${FLOW_PATTERN}${DECIDED_PATTERN}$`);
/** Ids and tokens go into names unescaped, so they are held to a safe alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A host tag: the first characters of the base64url SHA-256 of the host name (see hosts.ts). */
export const HOST_TAG_PATTERN = /^[A-Za-z0-9_-]{10}$/;

/** The latest attempt a name describes, whatever its state. */
export function lastRunOf(n: ParsedName): LastRun {
  if (n.state !== 'running')
    return { startedAt: n.startedAt, executor: n.executor, hostTag: n.hostTag, progress: n.progress };
  return n.started
    ? { startedAt: n.since, executor: n.owner, hostTag: n.hostTag, progress: n.progress }
    : { startedAt: null, executor: '', hostTag: n.hostTag, progress: n.progress };
}

/**
 * The final name of a job the store itself ends (a cancel; a last attempt whose lease expired): the
 * latest attempt carried over, no result.
 */
export function endedName(p: ParsedName, state: 'failed' | 'cancelled', finishedAt: number): FinalName {
  return {
    state,
    finishedAt,
    id: p.id,
    attempts: p.attempts,
    runAt: p.runAt,
    ...lastRunOf(p),
    result: false,
    pinned: p.pinned,
    priority: p.priority,
    keyed: p.keyed,
    holds: null,
    decided: null,
  };
}

/**
 * The name of a final job requeued (admin requeue): ready at `runAt`, its attempts counted afresh,
 * its latest attempt kept (as on every store) until the next claim; the result goes.
 */
export function requeuedName(p: ParsedName, runAt: number, now: number): ReadyName {
  return {
    state: 'ready',
    runAt,
    id: p.id,
    status: 'new',
    attempts: 0,
    updatedAt: now,
    ...lastRunOf(p),
    pinned: p.pinned,
    ...flowOf(p),
  };
}

/** The flow flags a name carries on to the next name of the same job. */
export function flowOf(p: FlowFlags): FlowFlags {
  return { priority: p.priority, keyed: p.keyed, holds: p.holds };
}

/**
 * Layout 2 names (layout 1 names had only the first five, seven and four fields; upgrade.ts renames them):
 * ```
 * ready:    <runAt>~<id>~<n|r>[p]~<attempts>~<updatedAt>~<startedAt>~<executor>~<hostTag>
 * running:  <id>~<token>~<expiresAt>~<attempts>~<runAt>~<since>~<owner>~<hostTag>~[s][p]
 * final:    <finishedAt>~<id>~<attempts>~<runAt>~<startedAt>~<executor>~<hostTag>~[p][r]
 * ```
 * startedAt, executor and hostTag are empty when unknown; flags: s = started (see RunningName),
 * p = the content's progress is this attempt's, r = the content's result is this job's, h = the job
 * is pinned to a host (layout 3; the host is in the content).
 */
export function formatName(n: ParsedName): string {
  const opt = (v: number | null) => (v === null ? '' : String(v));
  switch (n.state) {
    case 'waiting':
      return [n.id, n.waitingFor === 'parents' ? 'p' : 's', formatName({ ...n, state: 'ready' })].join(SEP);
    case 'ready':
      return [
        n.runAt,
        n.id,
        (n.status === 'new' ? 'n' : 'r') + (n.progress ? 'p' : '') + (n.pinned ? 'h' : '') + formatFlow(n),
        n.attempts,
        n.updatedAt,
        opt(n.startedAt),
        encodeComponent(n.executor),
        n.hostTag,
      ].join(SEP);
    case 'running':
      return [
        n.id,
        n.token,
        n.expiresAt,
        n.attempts,
        n.runAt,
        n.since,
        encodeComponent(n.owner),
        n.hostTag,
        (n.started ? 's' : '') + (n.progress ? 'p' : '') + (n.pinned ? 'h' : '') + formatFlow(n),
      ].join(SEP);
    default:
      return [
        n.finishedAt,
        n.id,
        n.attempts,
        n.runAt,
        opt(n.startedAt),
        encodeComponent(n.executor),
        n.hostTag,
        (n.progress ? 'p' : '') + (n.result ? 'r' : '') + (n.pinned ? 'h' : '') + formatFlow(n, n.decided),
      ].join(SEP);
  }
}

export function int(text: string | undefined): number {
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) return NaN;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** An optional time field: '' is null, anything else must be an integer (NaN if not). */
function optInt(text: string): number | null {
  return text === '' ? null : int(text);
}

function decodeOrNull(text: string): string | null {
  try {
    return decodeComponent(text);
  } catch {
    return null;
  }
}

/** The state a name describes, or null if the name is not one this store writes. */
export function parseName(state: StateDir, name: string): ParsedName | null {
  const f = name.split(SEP);
  let parsed: ParsedName;
  switch (state) {
    case 'waiting': {
      if (f.length !== 10 || (f[1] !== 'p' && f[1] !== 's')) return null;
      const ready = parseName('ready', f.slice(2).join(SEP));
      if (ready === null || ready.state !== 'ready' || ready.id !== f[0]) return null;
      parsed = { ...ready, state: 'waiting', waitingFor: f[1] === 'p' ? 'parents' : 'slot' };
      break;
    }
    case 'ready': {
      const flags = READY_FLAGS.exec(f[2] ?? '');
      const flow = flags && parseFlow(flags, 4);
      if (f.length !== 8 || !flags || !flow) return null;
      const executor = decodeOrNull(f[6]);
      const startedAt = optInt(f[5]);
      if (executor === null || (f[7] !== '' && !HOST_TAG_PATTERN.test(f[7]))) return null;
      parsed = {
        state,
        runAt: int(f[0]),
        id: f[1],
        status: flags[1] === 'n' ? 'new' : 'retry',
        attempts: int(f[3]),
        updatedAt: int(f[4]),
        startedAt,
        executor,
        hostTag: f[7],
        progress: flags[2] === 'p',
        pinned: flags[3] === 'h',
        ...flow,
      };
      if (Number.isNaN(parsed.runAt + parsed.attempts + parsed.updatedAt + (startedAt ?? 0))) return null;
      break;
    }
    case 'running': {
      const flags = RUNNING_FLAGS.exec(f[8] ?? '');
      const flow = flags && parseFlow(flags, 4);
      if (f.length !== 9 || !flags || !flow || !ID_PATTERN.test(f[1])) return null;
      const owner = decodeOrNull(f[6]);
      if (owner === null || (f[7] !== '' && !HOST_TAG_PATTERN.test(f[7]))) return null;
      parsed = {
        state,
        id: f[0],
        token: f[1],
        expiresAt: int(f[2]),
        attempts: int(f[3]),
        runAt: int(f[4]),
        since: int(f[5]),
        owner,
        hostTag: f[7],
        started: flags[1] === 's',
        progress: flags[2] === 'p',
        pinned: flags[3] === 'h',
        ...flow,
      };
      if (Number.isNaN(parsed.expiresAt + parsed.attempts + parsed.runAt + parsed.since)) return null;
      break;
    }
    default: {
      const flags = FINAL_FLAGS.exec(f[7] ?? '');
      const flow = flags && parseFlow(flags, 4);
      if (f.length !== 8 || !flags || !flow || flow.holds !== null) return null;
      const executor = decodeOrNull(f[5]);
      const startedAt = optInt(f[4]);
      if (executor === null || (f[6] !== '' && !HOST_TAG_PATTERN.test(f[6]))) return null;
      parsed = {
        state,
        finishedAt: int(f[0]),
        id: f[1],
        attempts: int(f[2]),
        runAt: int(f[3]),
        startedAt,
        executor,
        hostTag: f[6],
        progress: flags[1] === 'p',
        result: flags[2] === 'r',
        pinned: flags[3] === 'h',
        ...flow,
        decided: parseDecided(flags, 7),
      };
      if (parsed.decided !== null && state !== 'cancelled') return null;
      if (Number.isNaN(parsed.finishedAt + parsed.attempts + parsed.runAt + (startedAt ?? 0))) return null;
    }
  }
  return ID_PATTERN.test(parsed.id) && parsed.attempts >= 0 ? parsed : null;
}

/** The status a file in `state` with this name has. */
export function statusOf(n: ParsedName): JobStatus {
  switch (n.state) {
    case 'ready':
      return n.status;
    case 'waiting':
      return 'waiting';
    case 'running':
      return 'processing';
    default:
      return n.state;
  }
}

/** The run fields of a job never claimed. */
export const NO_RUN: Readonly<LastRun> = Object.freeze({ startedAt: null, executor: '', hostTag: '', progress: false });
