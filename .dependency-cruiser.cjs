// The architecture's allowed arrows, written once and checked in CI (`npm run check:arrows`). Each layer names
// the folders of ours it may import; anything else of ours is a forbidden arrow, and any circle fails. The README's
// architecture diagram draws the same table.
//
// dependency-cruiser 17 rather than 18: 18 needs Node 22, and the project supports Node 20.19 and later.

/** Each layer, and the folders of ours it may import (besides itself and node_modules). */
const ALLOWED = {
  // The shapes every part agrees on: wire types, messages, effect parameters, the policy, failure types.
  contracts: [],
  // Every decision of a cancellation as pure functions over plain data.
  rules: ['contracts', 'lib/errors'],
  // The statechart and the workflows that drive it. Activities only as types (checked below).
  workflows: ['contracts', 'rules', 'activities'],
  // The books: mongoose models and the guarded operations on them.
  models: ['contracts', 'rules', 'lib'],
  // The providers cancelflow talks to (mail, SMS, payment gateway, carrier).
  integrations: ['contracts', 'lib'],
  // What effects do: load, call a rule, write.
  activities: ['contracts', 'rules', 'models', 'integrations', 'lib'],
  // The typed client of the HTTP API and of the workflow's messages.
  client: ['contracts', 'lib/errors'],
  // The HTTP API: reads the books, starts and messages workflows through the client's contracts. Its
  // webhooks verify a provider's signature with that integration's own scheme.
  api: ['contracts', 'rules', 'models', 'client', 'integrations', 'lib'],
  lib: ['contracts', 'lib'],
  // The composition root of the worker: connects everything and bundles the workflows by path.
  worker: ['contracts', 'activities', 'workflows', 'models', 'integrations', 'lib'],
  // Seeded generators of books, shared by the scripts, benchmarks and tests.
  generators: ['contracts', 'rules', 'models', 'lib'],
  simulators: ['contracts', 'lib'],
  scripts: [
    'contracts',
    'rules',
    'models',
    'integrations',
    'lib',
    'generators',
    'simulators',
    'worker',
    'api',
    'client',
    'activities',
    'workflows',
    'scripts',
  ],
  bench: ['contracts', 'rules', 'models', 'lib', 'generators', 'scripts', 'client', 'simulators', 'bench'],
};

const escapeRegExp = (path) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const folder = (path) => `^${escapeRegExp(path)}(/|\\.ts$)`;
const LAYERS = Object.keys(ALLOWED);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A circle of imports (type-only imports included) means two modules cannot be read apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map((layer) => ({
      name: `${layer}-arrows`,
      comment: `${layer}/ may import only: ${[layer, ...ALLOWED[layer]].join(', ')} (.dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: folder(layer) },
      to: {
        path: `^(${LAYERS.map(escapeRegExp).join('|')}|test)/`,
        pathNot: [layer, ...ALLOWED[layer]].map(folder),
      },
    })),
    {
      name: 'workflows-import-activities-as-types',
      comment: 'Workflow code runs in the sandbox: it may name activities only as types (import type).',
      severity: 'error',
      from: { path: folder('workflows') },
      to: { path: folder('activities'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'product-not-on-tests',
      comment: 'Product code, scripts and benchmarks never import test support.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.tools|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
