// The architecture's allowed arrows (architecture.cjs), checked in CI (`npm run check:arrows`): each layer may
// import only the folders of ours that table names; anything else of ours is a forbidden arrow, and any circle
// fails.
//
// dependency-cruiser 17 rather than 18: 18 needs Node 22, and the project supports Node 20.19 and later.

const { ALLOWED, SUBLAYERS } = require('./architecture.cjs');

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
    ...Object.entries(SUBLAYERS).flatMap(([part, { imports, importedBy }]) => [
      {
        name: `${part}-arrows`,
        comment: `${part}/ may import only: ${[part, ...imports].join(', ')} (architecture.cjs SUBLAYERS)`,
        severity: 'error',
        from: { path: folder(part) },
        to: {
          path: `^(${LAYERS.map(escapeRegExp).join('|')}|test)/`,
          pathNot: [part, ...imports].map(folder),
        },
      },
      {
        name: `${part}-imported-one-way`,
        comment: `only ${importedBy.join(', ')} (and tests) may import ${part}/: it uses the rest of its layer, not the reverse`,
        severity: 'error',
        from: { pathNot: [folder(part), '^test/', ...importedBy.map((path) => `^${escapeRegExp(path)}$`)] },
        to: { path: folder(part) },
      },
    ]),
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
