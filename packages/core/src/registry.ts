import { NAME_PATTERN } from './patterns.js';
import { UnknownJobMethodError, UnknownJobTargetError, InvalidOptionError } from './errors.js';

/** Any class whose instances carry job methods. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobClass<T = any> = abstract new (...args: any[]) => T;

const targetNameKey = Symbol.for('oddjob.targetName');

/**
 * The set of job targets an executor may run, by stable name. The name is stored with every job, so
 * renaming or moving the class does not orphan jobs already enqueued.
 *
 * Security: `resolveMethod` only answers methods defined on the class's *own* prototype. A name read
 * from storage can therefore never reach `constructor`, `__proto__`, `toString` or a base class's
 * methods.
 */
export class JobRegistry {
  private readonly byName = new Map<string, JobClass>();
  private readonly byClass = new Map<JobClass, string>();

  register(name: string, target: JobClass): this {
    if (!NAME_PATTERN.test(name)) {
      throw new InvalidOptionError('target name', `"${name}" must match ${NAME_PATTERN}`);
    }
    if (typeof target !== 'function') {
      throw new InvalidOptionError('target', `"${name}" must be a class`);
    }
    const existing = this.byName.get(name);
    if (existing !== undefined && existing !== target) {
      throw new InvalidOptionError('target name', `"${name}" is already registered to another class`);
    }
    const otherName = this.byClass.get(target);
    if (otherName !== undefined && otherName !== name) {
      throw new InvalidOptionError('target', `class ${target.name} is already registered as "${otherName}"`);
    }
    this.byName.set(name, target);
    this.byClass.set(target, name);
    return this;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The stored name of a class: registered here, or given by the @job decorator. */
  nameOf(target: JobClass): string {
    const name =
      this.byClass.get(target) ??
      (decorated(target) ? (target as unknown as Record<symbol, string>)[targetNameKey] : undefined);
    if (name === undefined) {
      throw new UnknownJobTargetError(
        (target as { name?: string } | undefined)?.name ?? String(target),
        'is not registered (use @job(name) or registry.register(name, Class))',
      );
    }
    return name;
  }

  resolveTarget(name: string): JobClass {
    const target = this.byName.get(name);
    if (target === undefined) throw new UnknownJobTargetError(name);
    return target;
  }

  /** The method a stored (target, method) pair may invoke; throws for anything not an own method. */
  resolveMethod(name: string, method: string): (...args: unknown[]) => unknown {
    const target = this.resolveTarget(name);
    return ownMethod(target, name, method);
  }
}

function decorated(target: JobClass): boolean {
  return Object.prototype.hasOwnProperty.call(target, targetNameKey);
}

/** Looks a method up on the class's own prototype only. */
export function ownMethod(target: JobClass, targetName: string, method: string): (...args: unknown[]) => unknown {
  const proto = target.prototype as object;
  if (method === 'constructor' || !Object.prototype.hasOwnProperty.call(proto, method)) {
    throw new UnknownJobMethodError(targetName, method);
  }
  const descriptor = Object.getOwnPropertyDescriptor(proto, method);
  if (descriptor === undefined || typeof descriptor.value !== 'function') {
    throw new UnknownJobMethodError(targetName, method);
  }
  return descriptor.value as (...args: unknown[]) => unknown;
}

/** The registry the @job decorator writes to when none is given. */
export const defaultRegistry = new JobRegistry();

/**
 * Class decorator: registers the class under a stable name.
 *
 *   @job('email') class EmailJob { async send(to: string) { ... } }
 */
export function job(name: string, registry: JobRegistry = defaultRegistry) {
  return <C extends JobClass>(target: C): C => {
    registry.register(name, target);
    Object.defineProperty(target, targetNameKey, { value: name, enumerable: false });
    return target;
  };
}
