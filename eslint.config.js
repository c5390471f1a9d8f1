import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Type-aware rules over one program of every file (tsconfig.lint.json: src, supervisor, test,
// bench and the root's .js files), which halves the time of a project service that builds one
// program per tsconfig; prettier owns the layout.
export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'test/fixtures/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: './tsconfig.lint.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  // tsc checks names, in the .js files too (checkJs), and knows Node's globals.
  { rules: { 'no-undef': 'off' } },
  prettier,
);
