// Draws the allowed arrows of architecture.cjs into the README, between two markers: a Mermaid flowchart of the
// product's layers and a table of what the tooling may import. `npm run diagram` writes it; `-- --check` (CI)
// fails when the README no longer matches the table dependency-cruiser enforces.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './servers';

interface Architecture {
  ALLOWED: Record<string, string[]>;
  PRODUCT_LAYERS: string[];
}

// A CommonJS table shared with dependency-cruiser's config, which must stay plain JavaScript.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ALLOWED, PRODUCT_LAYERS } = require('../architecture.cjs') as Architecture;

export const readmePath = join(projectRoot, 'README.md');
const START = '<!-- architecture:start (npm run diagram draws this from architecture.cjs) -->';
const END = '<!-- architecture:end -->';

/** `lib/errors` draws as `lib`: the diagram shows layers, the check is finer. */
const layerOf = (target: string) => target.split('/')[0] ?? target;

function renderArchitecture(): string {
  const edges = PRODUCT_LAYERS.flatMap((layer) =>
    [...new Set((ALLOWED[layer] ?? []).map(layerOf))]
      .filter((target) => target !== layer)
      .map((target) =>
        layer === 'workflows' && target === 'activities'
          ? `  ${layer} -. types only .-> ${target}`
          : `  ${layer} --> ${target}`,
      ),
  );
  const tooling = Object.keys(ALLOWED).filter((layer) => !PRODUCT_LAYERS.includes(layer));
  return [
    START,
    '```mermaid',
    'flowchart TD',
    ...PRODUCT_LAYERS.map((layer) => `  ${layer}[${layer}/]`),
    ...edges,
    '```',
    '',
    '| tooling | may import |',
    '| --- | --- |',
    ...tooling.map(
      (layer) => `| \`${layer}/\` | ${(ALLOWED[layer] ?? []).map((t) => `\`${t}\``).join(', ')} |`,
    ),
    '| `test/` | anything (nothing imports tests) |',
    END,
  ].join('\n');
}

/** The README with the drawing replaced by the current one; throws when the markers are missing. */
export function readmeWithArchitecture(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${START} … ${END}`);
  return readme.slice(0, start) + renderArchitecture() + readme.slice(end + END.length);
}

export function currentReadme(): string {
  return readFileSync(readmePath, 'utf8');
}
