// `npm run diagram` writes docs/statechart.md, a Mermaid stateDiagram-v2 drawn from the very machine the
// workflow runs, and the README's architecture drawing from architecture.cjs; `npm run diagram -- --check`
// (CI) fails when either no longer matches what it is drawn from.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyStateNode } from 'xstate';
import { cancellationMachine } from '../workflows/cancellation.machine';
import { currentReadme, readmePath, readmeWithArchitecture } from './architecture-diagram';
import { projectRoot } from './servers';

const target = join(projectRoot, 'docs', 'statechart.md');

/** Mermaid ids must be unique across nesting levels: use the node's path. */
const mermaidId = (node: AnyStateNode) => node.path.join('_') || 'root';

function describeGuard(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return guard;
  // XState's and() is a function carrying the guards it combines.
  const combined = (guard as { guards?: unknown[] }).guards;
  if (typeof guard === 'function' && Array.isArray(combined))
    return combined.map(describeGuard).join(' and ');
  if (typeof guard === 'object' && 'type' in guard) {
    // A guard with parameters reads as a call: chose(return), isCurrentDeadline(carrierAnswer).
    const params = 'params' in guard && guard.params ? Object.values(guard.params) : [];
    return params.length ? `${String(guard.type)}(${params.join(', ')})` : String(guard.type);
  }
  return 'inline guard';
}

function actionNames(actions: readonly unknown[]): string[] {
  return actions
    .map((action) => (typeof action === 'string' ? action : ((action as { type?: string }).type ?? '')))
    .filter((name) => name && !name.startsWith('xstate.'));
}

function drawState(node: AnyStateNode, indent: string, lines: string[], effects: string[][]): void {
  const children = Object.values(node.states);
  if (children.length > 0) {
    const open = node.path.length > 0;
    if (open) lines.push(`${indent}state ${mermaidId(node)} {`);
    const inner = open ? `${indent}  ` : indent;
    const initial = node.initial?.target[0];
    if (initial) lines.push(`${inner}[*] --> ${mermaidId(initial)}`);
    for (const child of children) drawState(child, inner, lines, effects);
    if (open) lines.push(`${indent}}`);
  }
  if (node.path.length === 0) return;
  if (node.type === 'final') lines.push(`${indent}${mermaidId(node)} --> [*]`);
  const entry = actionNames(node.entry);
  const exit = actionNames(node.exit);
  if (entry.length || exit.length) {
    effects.push([node.path.join('.'), entry.join(', '), exit.join(', ')]);
  }
  // Eventless transitions (`always`) are taken as soon as the state is entered.
  const eventless = node.always ? [['always', node.always] as const] : [];
  for (const [eventType, transitions] of [...node.transitions, ...eventless]) {
    for (const transition of transitions) {
      const guard = describeGuard(transition.guard);
      const acts = actionNames(transition.actions);
      const label = `${eventType}${guard ? ` [${guard}]` : ''}${acts.length ? ` / ${acts.join(', ')}` : ''}`;
      for (const to of transition.target ?? [node]) {
        lines.push(`${indent}${mermaidId(node)} --> ${mermaidId(to)}: ${label}`);
      }
    }
  }
}

export function renderDiagram(): string {
  const lines: string[] = [];
  const effects: string[][] = [];
  drawState(cancellationMachine.root, '  ', lines, effects);
  const aliases = [...collect(cancellationMachine.root)]
    .filter((node) => node.path.length > 1)
    .map((node) => `  state "${node.key}" as ${mermaidId(node)}`);
  return [
    '# The cancellation statechart',
    '',
    'Generated from `workflows/cancellation.machine.ts` by `npm run diagram`; CI fails when it is stale.',
    "Edges read `EVENT [guard] / actions`. Each state's effects (carried out by the workflow) are listed below.",
    '',
    '```mermaid',
    'stateDiagram-v2',
    ...aliases,
    ...lines,
    '```',
    '',
    '| state | effects on entry | on exit |',
    '| --- | --- | --- |',
    ...effects.map(([state, entry, exit]) => `| ${state} | ${entry || ''} | ${exit || ''} |`),
    '',
  ].join('\n');
}

function* collect(node: AnyStateNode): Generator<AnyStateNode> {
  yield node;
  for (const child of Object.values(node.states)) yield* collect(child);
}

if (require.main === module) {
  const rendered = renderDiagram();
  const readme = currentReadme();
  const drawnReadme = readmeWithArchitecture(readme);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // missing: reported below like any difference
    }
    if (current !== rendered) {
      console.error('docs/statechart.md does not match the machine: run `npm run diagram` and commit it');
      process.exit(1);
    }
    if (drawnReadme !== readme) {
      console.error(
        "README.md's architecture does not match architecture.cjs: run `npm run diagram` and commit it",
      );
      process.exit(1);
    }
    console.log('docs/statechart.md matches the machine, and README.md the architecture');
  } else {
    writeFileSync(target, rendered);
    writeFileSync(readmePath, drawnReadme);
    console.log(`wrote ${target} and the architecture in ${readmePath}`);
  }
}
