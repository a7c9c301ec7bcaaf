// `npm run diagram` writes docs/statechart.md, a Mermaid stateDiagram-v2 drawn from the very machine the
// workflow runs, the console's drawing of its top-level states (api/console/statechart.drawing.ts, laid out
// here with dagre so the API needs no layout library), and the README's architecture drawing from
// architecture.cjs; `npm run diagram -- --check` (CI) fails when any no longer matches what it is drawn from.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as dagre from '@dagrejs/dagre';
import type { AnyStateNode } from 'xstate';
import { STATE_BOX, type StatechartDrawing } from '../contracts/statechart-drawing.contract';
import { cancellationMachine } from '../workflows/cancellation.machine';
import { currentReadme, readmePath, readmeWithArchitecture } from './architecture-diagram';
import { projectRoot } from './servers';

const target = join(projectRoot, 'docs', 'statechart.md');
const drawingTarget = join(projectRoot, 'api', 'console', 'statechart.drawing.ts');

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

/**
 * What this script uses of dagre, typed here: the package's own declarations reach its graph type through
 * @dagrejs/graphlib in a way typed lint cannot follow (tsc takes it as any).
 */
interface LayoutGraph {
  setGraph(label: Record<string, string | number>): void;
  setDefaultEdgeLabel(label: () => object): void;
  setNode(id: string, label: { width: number; height: number }): void;
  setEdge(from: string, to: string): void;
  graph(): { width?: number; height?: number };
  node(id: string): { x: number; y: number };
  edge(from: string, to: string): { points: { x: number; y: number }[] };
}
const { Graph, layout } = dagre as unknown as {
  Graph: new () => LayoutGraph;
  layout: (graph: LayoutGraph) => void;
};

/**
 * The machine's top-level states and the moves between them (a nested state's transitions count as its top
 * state's; moves within one top state are left out), laid out top to bottom. A hub, a state most others can
 * move to (needsAttention: any failing step goes there, and back), is placed aside and its moves are not laid
 * out: drawn, its two dozen lines would cross everything; the console draws one only when a cancellation took it.
 */
export function layOutStatechart(): StatechartDrawing {
  const tops = Object.values(cancellationMachine.root.states);
  const events = new Map<string, Set<string>>();
  for (const top of tops) {
    for (const node of collect(top)) {
      const eventless = node.always ? [['always', node.always] as const] : [];
      for (const [eventType, transitions] of [...node.transitions, ...eventless]) {
        for (const transition of transitions) {
          for (const target of transition.target ?? []) {
            const to = target.path[0];
            if (to === undefined || to === top.key) continue;
            const key = `${top.key}\u0000${to}`;
            events.set(key, (events.get(key) ?? new Set()).add(eventType));
          }
        }
      }
    }
  }
  const inbound = new Map<string, number>();
  for (const key of events.keys()) {
    const to = key.split('\u0000')[1] ?? '';
    inbound.set(to, (inbound.get(to) ?? 0) + 1);
  }
  const isHub = (state: string) => (inbound.get(state) ?? 0) >= tops.length / 3;
  const viaHub = (key: string) => key.split('\u0000').some(isHub);
  const graph = new Graph();
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const top of tops) graph.setNode(top.key, { ...STATE_BOX });
  for (const key of events.keys()) {
    const [from = '', to = ''] = key.split('\u0000');
    if (!viaHub(key)) graph.setEdge(from, to);
  }
  layout(graph);
  const round = (value: number) => Math.round(value);
  const initial = cancellationMachine.root.initial?.target[0]?.key;
  return {
    width: round(graph.graph().width ?? 0),
    height: round(graph.graph().height ?? 0),
    states: tops.map((top) => {
      const { x, y } = graph.node(top.key);
      return {
        id: top.key,
        x: round(x),
        y: round(y),
        ...(top.type === 'final' ? { final: true } : {}),
        ...(top.key === initial ? { initial: true } : {}),
        ...(isHub(top.key) ? { hub: true } : {}),
      };
    }),
    moves: [...events].map(([key, names]) => {
      const [from = '', to = ''] = key.split('\u0000');
      return {
        from,
        to,
        events: [...names].sort(),
        points: viaHub(key)
          ? []
          : graph.edge(from, to).points.map(({ x, y }) => [round(x), round(y)] as [number, number]),
      };
    }),
  };
}

function renderDrawing(): string {
  return [
    '// Generated by `npm run diagram` from workflows/cancellation.machine.ts (scripts/diagram.ts): do not edit.',
    "import type { StatechartDrawing } from '../../contracts/statechart-drawing.contract';",
    '',
    `export const STATECHART_DRAWING: StatechartDrawing = ${JSON.stringify(layOutStatechart())};`,
    '',
  ].join('\n');
}

if (require.main === module) {
  const rendered = renderDiagram();
  const drawing = renderDrawing();
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
    let currentDrawing = '';
    try {
      currentDrawing = readFileSync(drawingTarget, 'utf8');
    } catch {
      // missing: reported below like any difference
    }
    if (currentDrawing !== drawing) {
      console.error(
        'api/console/statechart.drawing.ts does not match the machine: run `npm run diagram` and commit it',
      );
      process.exit(1);
    }
    if (drawnReadme !== readme) {
      console.error(
        "README.md's architecture does not match architecture.cjs: run `npm run diagram` and commit it",
      );
      process.exit(1);
    }
    console.log(
      'docs/statechart.md and the console drawing match the machine, and README.md the architecture',
    );
  } else {
    writeFileSync(target, rendered);
    writeFileSync(drawingTarget, drawing);
    writeFileSync(readmePath, drawnReadme);
    console.log(`wrote ${target}, ${drawingTarget} and the architecture in ${readmePath}`);
  }
}
