// ESLint flat config: typescript-eslint with type information (the rules that need types, such as
// no-floating-promises and switch-exhaustiveness-check, are the ones that find real bugs here).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { existsSync } from 'node:fs';

// bench/next is a package of its own (not a workspace): its dependencies (graphile-worker, pg-boss,
// Sidequest; they need Node 22+) are installed only when `npm run bench -- race-next` runs. Without
// them every peer call is an unresolved type, and the type-aware rules would report the missing
// install, not the code; hand-written stand-in declarations would shadow the real ones and drift
// from them. So it is linted, against its real types, exactly when they are installed.
const benchNextInstalled = existsSync(new URL('./bench/next/node_modules', import.meta.url));

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'tools/**',
      '**/*.cjs',
      '**/*.js',
      '**/*.mjs',
      ...(benchNextInstalled ? [] : ['bench/next/**']),
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Off on purpose: an `async` method without `await` is how the stores and the executor turn a
      // synchronous throw (a refused input) into a rejected promise, which their callers rely on;
      // dropping `async` to satisfy the rule would make those errors throw synchronously instead.
      '@typescript-eslint/require-await': 'off',
      // A caught error or a rejection handler's reason is `unknown`; passing it on unchanged (a catch
      // that turns a synchronous throw into a rejection, a race that forwards the loser's reason) is
      // not inventing a non-Error, and wrapping it would change what callers see. only-throw-error
      // already allows rethrowing `unknown` by default; this makes reject() match. A deliberate
      // non-Error rejection still needs an eslint-disable comment that says why.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
);
