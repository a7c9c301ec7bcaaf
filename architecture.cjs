// The layers of cancelflow and the allowed arrows between them, written once. dependency-cruiser enforces them
// (.dependency-cruiser.cjs, `npm run check:arrows`) and `npm run diagram` draws them in the README, so the
// picture and the check cannot disagree.

/** Each layer, and the folders of ours it may import (besides itself and node_modules). */
const ALLOWED = {
  // The shapes every part agrees on: wire types, messages, effect parameters, the policy, failure types.
  contracts: [],
  // Every decision of a cancellation as pure functions over plain data.
  rules: ['contracts', 'lib/errors'],
  // The statechart and the workflows that drive it. Activities only as types (.dependency-cruiser.cjs).
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
  // The command line for people at a terminal: it talks to the HTTP API only, through the typed client.
  cli: ['client', 'contracts'],
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
  // The cancellations benchmark assembles the system as `npm start` does (worker and API), to measure that stack.
  bench: [
    'contracts',
    'rules',
    'models',
    'lib',
    'generators',
    'scripts',
    'client',
    'simulators',
    'worker',
    'api',
    'bench',
  ],
};

/**
 * Parts of a layer with arrows of their own. The web console (api/console/) is more of the API's routes: it may
 * use what they use (the API's services, access and sign-in, the models, the rules, the client's contracts),
 * but not the providers' integrations; and inside the API the arrow points one way only: the app registers the
 * console (api/app.ts), and nothing else of the API imports it.
 */
const SUBLAYERS = {
  'api/console': {
    imports: ['contracts', 'rules', 'models', 'client', 'lib', 'api'],
    importedBy: ['api/app.ts'],
  },
};

/** The layers the product runs; the others are tooling (drawn as a table rather than in the diagram). */
const PRODUCT_LAYERS = [
  'contracts',
  'rules',
  'workflows',
  'models',
  'integrations',
  'activities',
  'client',
  'api',
  'lib',
  'worker',
  'cli',
];

module.exports = { ALLOWED, SUBLAYERS, PRODUCT_LAYERS };
