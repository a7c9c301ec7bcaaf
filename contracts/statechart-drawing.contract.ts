// The shape of the statechart's drawing that `npm run diagram` lays out (scripts/diagram.ts) and the console
// draws (api/console/statechart.ts): agreed here, so the script and the console depend on neither of each other.

/** Every state's box; the console wraps the labels to fit it in either language. */
export const STATE_BOX = { width: 172, height: 42 } as const;

export interface StatechartDrawing {
  width: number;
  height: number;
  /** Each top-level state, at the centre of its box. */
  states: { id: string; x: number; y: number; final?: boolean; initial?: boolean; hub?: boolean }[];
  /** A move from one state to another, by any of `events`, along `points` (none: to or from a hub, not laid out). */
  moves: { from: string; to: string; events: string[]; points: [number, number][] }[];
}
