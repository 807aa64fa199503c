/**
 * The one place that touches nact. Everything else talks to `ActorSystem` / `ActorRef<M>` below, so
 * nact's quirks are handled here once:
 *
 * - `import nact from 'nact'`: it is CommonJS; named imports of some members fail under ESM.
 * - `start({ name })` works at run time but is typed as taking a plugin or a string: cast once here.
 * - A stateful nact actor whose function throws goes to its supervision policy, which by default
 *   prints to the console and stops the actor; a stateless one silently swallows the error. Neither is
 *   acceptable for an executor, so every behaviour runs inside a try/catch and errors go to `onError`
 *   (the actor keeps running).
 * - A message dispatched to a stopped actor is dropped without a word. `tell` checks first and hands
 *   such messages to `onDropped`, so a lost message is at least logged.
 * - `query` needs a timeout and creates temporary references; this layer offers no query at all:
 *   replies travel as ordinary messages carrying the sender's ref, which keeps every protocol typed.
 *
 * Every actor is spawned directly under the system root. nact copies an actor's children map into a
 * fresh context object on every message, so keeping actors childless keeps that copy empty.
 */
import nact from 'nact';
import { randomUUID } from 'node:crypto';

/** What an actor does with one message. A returned promise blocks the actor's mailbox until it settles. */
export interface Behaviour<M> {
  receive(message: M): void | Promise<void>;
}

/** A typed address: `tell` never throws and never blocks. */
export interface ActorRef<M> {
  readonly name: string;
  tell(message: M): void;
}

export interface ActorSystemHooks {
  /** A behaviour threw or rejected while handling a message. The actor carries on. */
  onError(actor: string, message: unknown, error: unknown): void;
  /** A message was sent to an actor that has stopped; nact would have dropped it silently. */
  onDropped(actor: string, message: unknown): void;
}

type NactRef = nact.Ref<unknown>;
type StartWithOptions = (options: { name: string }) => nact.ActorSystemRef;

class TypedRef<M> implements ActorRef<M> {
  stopped = false;

  constructor(
    readonly name: string,
    readonly raw: NactRef,
    private readonly hooks: ActorSystemHooks,
  ) {}

  tell(message: M): void {
    if (this.stopped) {
      this.hooks.onDropped(this.name, message);
      return;
    }
    nact.dispatch(this.raw, message);
  }
}

export class ActorSystem {
  private readonly root: nact.ActorSystemRef;
  private readonly refs = new Set<TypedRef<unknown>>();
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly hooks: ActorSystemHooks,
  ) {
    this.root = (nact.start as unknown as StartWithOptions)({ name: `${name}-${randomUUID()}` });
  }

  /** Spawns an actor whose messages are handled one at a time, in order, by `behaviour.receive`. */
  spawn<M>(name: string, behaviour: Behaviour<M>): ActorRef<M> {
    if (this.stopped) throw new Error(`actor system "${this.name}" is stopped; cannot spawn "${name}"`);
    const hooks = this.hooks;
    // The nact state is unused (undefined): the behaviour object holds its own state, so the hot path
    // allocates nothing per message here. Sync behaviours return without creating a promise.
    const step = (state: undefined, message: M): undefined | Promise<undefined> => {
      let result: void | Promise<void>;
      try {
        result = behaviour.receive(message);
      } catch (err) {
        hooks.onError(name, message, err);
        return state;
      }
      if (result === undefined) return state;
      return result.then(
        () => state,
        (err: unknown) => {
          hooks.onError(name, message, err);
          return state;
        },
      );
    };
    const raw = nact.spawn(this.root, step, name) as NactRef;
    const ref = new TypedRef<M>(name, raw, hooks);
    this.refs.add(ref);
    return ref;
  }

  /** Stops one actor; messages still in its mailbox are discarded, later `tell`s reach `onDropped`. */
  stop(ref: ActorRef<never> | ActorRef<unknown>): void {
    const typed = ref as TypedRef<unknown>;
    if (typed.stopped) return;
    typed.stopped = true;
    this.refs.delete(typed);
    nact.stop(typed.raw);
  }

  /** Stops every actor and the system. Idempotent. */
  shutdown(): void {
    if (this.stopped) return;
    for (const ref of [...this.refs]) this.stop(ref);
    this.stopped = true;
    nact.stop(this.root);
  }
}
