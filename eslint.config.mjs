// ESLint (npm run lint; npm test runs it first as one test). JavaScript's
// recommended rules everywhere; for TypeScript, typescript-eslint's
// recommended ones plus the few type-aware rules that catch real bugs (a
// promise nobody awaits, awaiting what is no promise, a cast that does
// nothing). The whole recommendedTypeChecked set is not used: its no-unsafe-*
// rules flag every JSON.parse of a test, not bugs.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // bin/runts: a link to the launcher the build compiles (dist/runts).
  { ignores: ['bin/runts', 'dist/', '.tmp/', 'node_modules/', 'src/spec/generated/'] },
  js.configs.recommended,
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['bin/runts.cjs'],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // As tsc's noUnusedLocals/Parameters: a leading _ marks a name left unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // The require()s are lazy loads that keep start-up cheap (each says why);
      // the bundle runs as CommonJS, so they cost nothing until reached.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Tests build configs the schema rejects on purpose: any is how they
    // write the wrong value.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
