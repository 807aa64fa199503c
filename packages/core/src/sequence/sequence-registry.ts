import { InvalidOptionError } from '../errors.js';
import { defineSequence, isSequenceDefinition } from './define.js';
import type { SequenceDefinition, SequenceSpec } from './definition.js';
import { UnknownSequenceError } from './errors.js';

/**
 * The sequences a process knows, by name. Definitions live in code, here, and never in the store:
 * the store holds jobs only (each step job tagged with its sequence, run and step). So what a run
 * does is decided by the code that starts it, reviewed and deployed like any other code, and a
 * store (or anyone who can write to it) cannot make an executor run steps its code never defined.
 * An executor given a registry (the shell's `sequences` option) starts the sequences a schedule or
 * a starter job names from its own copy.
 */
export class SequenceRegistry {
  private readonly byName = new Map<string, SequenceDefinition>();

  /**
   * Checks (see defineSequence) and adds a definition; returns it. Adding the same definition again
   * does nothing; another one of a name already defined is refused.
   */
  define(spec: SequenceSpec | SequenceDefinition): SequenceDefinition {
    const definition = isSequenceDefinition(spec) ? spec : defineSequence(spec);
    const existing = this.byName.get(definition.name);
    if (existing !== undefined && existing !== definition) {
      throw new InvalidOptionError('sequence', `"${definition.name}" is already defined in this registry`);
    }
    this.byName.set(definition.name, definition);
    return definition;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The definition of `name`; throws UnknownSequenceError (listing the known names) if there is none. */
  get(name: string): SequenceDefinition {
    const definition = this.byName.get(name);
    if (definition === undefined) throw new UnknownSequenceError(String(name), this.names());
    return definition;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
