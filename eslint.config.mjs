// Typed lint for the whole project, plus the one rule that keeps workflow code deterministic.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code is replayed from history inside Temporal's sandbox: anything that does I/O or keeps
// process state would break determinism. Activities and models may be imported only as types.
const workflowSandboxRestrictions = {
  paths: [
    'mongoose',
    'nodemailer',
    'twilio',
    'pino',
    'fastify',
    '@temporalio/client',
    '@temporalio/worker',
  ].map((name) => ({
    name,
    message: 'Workflow code must not import I/O libraries; call an activity instead.',
  })),
  patterns: [
    {
      group: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)],
      message: 'Node built-ins are not available in the workflow sandbox.',
    },
    {
      group: [
        '**/activities',
        '**/activities/**',
        '**/models',
        '**/models/**',
        '**/lib/config',
        '**/lib/logger',
      ],
      allowTypeImports: true,
      message: 'Workflows may import activities and models as types only (import type).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'tools/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*.js', '*.cjs', 'test/support/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Jest's asymmetric matchers (expect.stringContaining, …) are typed `any` by design.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // Contracts and rules are bundled with the workflows, so the sandbox's limits hold for them too.
    files: ['workflows/**/*.ts', 'contracts/**/*.ts', 'rules/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowSandboxRestrictions] },
  },
  { files: ['**/*.mjs', '**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    // ES-module scripts run by Node directly (the OIDC provider simulator).
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly' },
    },
    // CommonJS files load each other with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
