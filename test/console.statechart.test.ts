// The cancellation page's statechart (api/console/statechart.ts): every state of the machine is drawn, the
// state a cancellation is in and the way it came are marked, and labels fit their boxes in both languages.
import { cancellationMachine } from '../workflows/cancellation.machine';
import { statechartFigure, wrapLabel } from '../api/console/statechart';
import { STATE_BOX } from '../contracts/statechart-drawing.contract';
import { STATECHART_DRAWING } from '../api/console/statechart.drawing';
import { translator } from '../api/console/i18n';

const LOW_RISK_PATH = ['loadingPolicy', 'reviewing', 'assessingRisk', 'proceeding', 'releasingStock'];

/** The figure's markup, and what it marks, read from the attributes the page's styles and scripts use. */
function drawn(state: string, path: string[], language: 'en' | 'zh-CN' = 'en') {
  const text = statechartFigure(translator(language), state, path).text;
  const all = (pattern: RegExp) =>
    [...text.matchAll(pattern)].map((match) => (match[1] ?? '').replace('&gt;', '>'));
  return {
    text,
    figureState: /data-current-state="([^"]*)"/.exec(text)?.[1],
    boxes: all(/<g class="state[^"]*" data-state="([^"]+)"/g),
    current: all(/<g class="state current[^"]*" data-state="([^"]+)"/g),
    visited: all(/<g class="state visited[^"]*" data-state="([^"]+)"/g),
    moves: all(/<path[^>]*?data-move="([^"]+)"/g),
    taken: all(/<path\s+class="move taken"[^>]*?data-move="([^"]+)"/g),
    description: /<desc[^>]*>([^<]*)<\/desc>/.exec(text)?.[1],
  };
}

test('every top-level state of the machine has a box, and every box is one of its states', () => {
  const states = Object.keys(cancellationMachine.root.states).sort();
  expect(STATECHART_DRAWING.states.map((state) => state.id).sort()).toEqual(states);
  expect(drawn('loadingPolicy', []).boxes.sort()).toEqual(states);
});

test('the current state, the states passed and the moves taken are marked; nothing else is', () => {
  const figure = drawn('adjustingPurchasing.waiting', LOW_RISK_PATH);
  expect(figure.figureState).toBe('adjustingPurchasing');
  expect(figure.current).toEqual(['adjustingPurchasing']);
  expect(figure.visited.sort()).toEqual([...LOW_RISK_PATH].sort());
  expect(figure.taken.sort()).toEqual(
    [
      'loadingPolicy>reviewing',
      'reviewing>assessingRisk',
      'assessingRisk>proceeding',
      'proceeding>releasingStock',
      'releasingStock>adjustingPurchasing',
    ].sort(),
  );
  // What a screen reader hears: the path, then where it is now.
  expect(figure.description).toBe(
    'Path so far: Loading the policy → Reviewing the order → Assessing the risk → Proceeding → Releasing the stock → Adjusting purchase orders. Now: Adjusting purchase orders.',
  );
});

test('a move to or from needs-attention is drawn only when the cancellation took it', () => {
  const touchesHub = (move: string) => move.split('>').includes('needsAttention');
  const calm = drawn('proceeding', ['loadingPolicy', 'reviewing', 'assessingRisk', 'proceeding']);
  expect(calm.moves.filter(touchesHub)).toEqual([]);
  const troubled = drawn('proceeding', [
    'loadingPolicy',
    'reviewing',
    'needsAttention.waitingForOps',
    'reviewing',
    'assessingRisk',
  ]);
  expect(troubled.moves.filter(touchesHub).sort()).toEqual([
    'needsAttention>reviewing',
    'reviewing>needsAttention',
  ]);
  expect(troubled.taken).toEqual(
    expect.arrayContaining(['reviewing>needsAttention', 'needsAttention>reviewing']),
  );
  expect(troubled.visited).toContain('needsAttention');
});

test('labels wrap into two lines at most that fit the box, in English and in Chinese', () => {
  const units = (line: string) =>
    [...line].reduce((sum, char) => sum + (char.charCodeAt(0) > 0x2e7f ? 2 : 1), 0);
  for (const language of ['en', 'zh-CN'] as const) {
    const t = translator(language);
    for (const { id } of STATECHART_DRAWING.states) {
      const lines = wrapLabel(t.of('state', id));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThanOrEqual(2);
      // 7 px a unit at 13 px, with room to spare inside the box.
      for (const line of lines) expect(units(line) * 7).toBeLessThan(STATE_BOX.width - 8);
    }
  }
  expect(wrapLabel('Asking the carrier to stop the parcels')).toEqual([
    'Asking the carrier to',
    'stop the parcels',
  ]);
});

test('an unknown state marks nothing and is escaped', () => {
  const figure = drawn('<b>odd</b>', ['loadingPolicy']);
  expect(figure.figureState).toBe('');
  expect(figure.current).toEqual([]);
  expect(figure.text).not.toContain('<b>');
});
