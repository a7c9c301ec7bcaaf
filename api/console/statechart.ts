// A cancellation's statechart as its page draws it: the machine's top-level states and the moves between them
// (laid out by `npm run diagram` into statechart.drawing.ts), with the state it is in and the path it took so
// far marked. Drawn as inline SVG on the server, so it needs no script, moves with the page's live updates, and
// reads as text to a screen reader (its description names the path).
import { html, type SafeHtml } from './html';
import type { Translator } from './i18n';
import { STATE_BOX, type StatechartDrawing } from '../../contracts/statechart-drawing.contract';
import { STATECHART_DRAWING } from './statechart.drawing';

/** About 7 px a Latin character and twice that a Chinese one, at the drawing's 13 px. */
const LINE_UNITS = 22;
const unitsOf = (text: string) =>
  [...text].reduce((sum, char) => sum + (char.charCodeAt(0) > 0x2e7f ? 2 : 1), 0);

/** The label in at most two lines that fit the box: at spaces where there are any, anywhere in Chinese. */
export function wrapLabel(label: string): string[] {
  const lines: string[] = [];
  let line = '';
  const pieces = label.includes(' ') ? label.split(/(?<= )/) : [...label];
  for (const piece of pieces) {
    if (line !== '' && unitsOf(line + piece.trimEnd()) > LINE_UNITS) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += piece;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  if (lines.length <= 2) return lines;
  return [
    lines[0] ?? '',
    `${lines
      .slice(1)
      .join(' ')
      .slice(0, LINE_UNITS - 2)}…`,
  ];
}

/** Where the line from the centre of a box to `toward` leaves the box. */
function boxEdge(centre: { x: number; y: number }, toward: { x: number; y: number }): [number, number] {
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  const scale =
    1 / Math.max(Math.abs(dx) / (STATE_BOX.width / 2), Math.abs(dy) / (STATE_BOX.height / 2), 1e-9);
  return [Math.round(centre.x + dx * Math.min(scale, 1)), Math.round(centre.y + dy * Math.min(scale, 1))];
}

/** The move's line: as laid out, or straight between the boxes for a move to or from a hub. */
function pointsOf(move: StatechartDrawing['moves'][number], drawing: StatechartDrawing): [number, number][] {
  if (move.points.length > 0) return move.points;
  const from = drawing.states.find((node) => node.id === move.from);
  const to = drawing.states.find((node) => node.id === move.to);
  return from && to ? [boxEdge(from, to), boxEdge(to, from)] : [];
}

/** The top-level state of a state as the workflow names it (`awaitingApproval.waitingForDecision`). */
const topOf = (state: string) => state.split('.')[0] ?? state;

/**
 * The drawing for a cancellation in `state` (its current one; an ended cancellation is in its final state)
 * whose timeline went through `path` (the timeline's states, oldest first).
 */
export function statechartFigure(
  t: Translator,
  state: string,
  path: readonly string[],
  drawing: StatechartDrawing = STATECHART_DRAWING,
): SafeHtml {
  const current = topOf(state);
  // The timeline is the database copy's, which catches up when the workflow waits: the state now ends the path.
  const visited = [...path, state]
    .map(topOf)
    .filter((top, index, all) => index === 0 || all[index - 1] !== top);
  const seen = new Set(visited);
  const taken = new Set(visited.slice(1).map((to, index) => `${visited[index]}>${to}`));
  const known = new Set(drawing.states.map((node) => node.id));
  const description = t('statechart.path', {
    path: visited.map((top) => t.of('state', top)).join(' → '),
    current: t.of('state', current),
  });
  const { width: boxWidth, height: boxHeight } = STATE_BOX;
  return html`<figure class="statechart" data-current-state="${known.has(current) ? current : ''}">
    <svg
      viewBox="0 0 ${drawing.width} ${drawing.height}"
      width="${drawing.width}"
      role="img"
      aria-labelledby="statechart-title statechart-desc"
    >
      <title id="statechart-title">${t('statechart.title')}</title>
      <desc id="statechart-desc">${description}</desc>
      <defs>
        ${['arrow', 'arrow-taken'].map(
          (id) =>
            html`<marker
              id="${id}"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="10"
              markerHeight="10"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrowhead${id === 'arrow-taken' ? ' taken' : ''}" />
            </marker>`,
        )}
      </defs>
      ${drawing.moves.map((move) => {
        const isTaken = taken.has(`${move.from}>${move.to}`);
        // A hub's moves are drawn only when taken: all of them would cross the whole drawing.
        if (move.points.length === 0 && !isTaken) return '';
        const d = pointsOf(move, drawing)
          .map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${x},${y}`)
          .join(' ');
        return html`<path
          class="move${isTaken ? ' taken' : ''}"
          d="${d}"
          marker-end="url(#${isTaken ? 'arrow-taken' : 'arrow'})"
          data-move="${move.from}>${move.to}"
          ><title>${move.events.join(', ')}</title></path
        >`;
      })}
      ${drawing.states.map((node) => {
        const classes = [
          'state',
          node.id === current ? 'current' : seen.has(node.id) ? 'visited' : '',
          node.final ? 'final' : '',
        ].filter(Boolean);
        const lines = wrapLabel(t.of('state', node.id));
        const firstLineY = node.y - ((lines.length - 1) * 15) / 2 + 4;
        return html`<g class="${classes.join(' ')}" data-state="${node.id}">
          <rect
            x="${node.x - boxWidth / 2}"
            y="${node.y - boxHeight / 2}"
            width="${boxWidth}"
            height="${boxHeight}"
            rx="8"
          />
          <text x="${node.x}" text-anchor="middle">
            ${lines.map((line, index) => html`<tspan x="${node.x}" y="${firstLineY + index * 15}">${line}</tspan>`)}
          </text>
        </g>`;
      })}
    </svg>
  </figure>`;
}
