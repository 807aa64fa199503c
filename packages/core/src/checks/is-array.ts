/**
 * `Array.isArray` for the checks of inputs typed as readonly arrays. `Array.isArray` narrows a
 * `readonly T[]` to `any[]` (a mutable `any[]` counts as its subtype), which silently turns every
 * item read after the check into `any`; this guard keeps the declared item type.
 */
export function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}
