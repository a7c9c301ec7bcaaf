// The statechart explored as a graph: properties of every reachable state and every path, not of a few runs.
//
// How. @xstate/graph walks the machine breadth-first from its initial state (`getAdjacencyMap`), trying in
// each state a fixed, finite set of sample events (test/support/machine-events.ts): effect results with fixed
// payloads from two small policies and four kinds of order review (goods in the warehouse, with money to
// refund or none; two parcels in transit that the carrier is asked to stop; a parcel already delivered),
// the approval clock and the deadlines (the running one and a stale one), and each person's event from
// someone eligible and from someone who is not. `getShortestPaths` gives one shortest path to every state,
// printed with any property that fails.
//
// What a vertex is. The machine's context holds counters and records that would make the graph infinite or
// needlessly large, so two snapshots are one vertex when they agree on the state value and on every context
// field a guard reads (the policy, the review, the approval's progress while it runs, the goods' recalls,
// choice, returns and clerks, who may settle or resume). Left out are what only numbers messages (reminders,
// attention occurrences, clock and deadline ids: the sample events are relative to them) and what only feeds
// an effect's parameters (risk reasons, purchasing, refund ids and amounts, reasons). Every guard gives the
// same answer on snapshots that are one vertex, so the graph is finite and its paths are paths of the machine;
// properties of paths ("never twice") are checked by reachability, so they cover paths with cycles too.
//
// The machine is started both ways a workflow starts it (with and without a review after an approval), and
// together the two graphs must reach every state node of the machine, eventless ones passed through included.
// Each property lists what breaks it with a shortest path there. The last test explores once more with staff
// lookups that find nobody, and pins the waits that then never end (a finding, reported).
import {
  adjacencyMapToArray,
  getAdjacencyMap,
  getShortestPaths,
  getStateNodes,
  type AdjacencyValue,
  type TraversalOptions,
} from '@xstate/graph';
import {
  __unsafe_getAllOwnEventDescriptors as ownEventTypes,
  getMicrosteps,
  transition,
  type StateValue,
} from 'xstate';
import { ATTENTION_STATES, type CancellationEvent } from '../contracts/effects.contract';
import { cancellationMachine, stateName, type MachineInput } from '../workflows/cancellation.machine';
import { refusalOf, type PersonEvent } from '../workflows/person-actions';
import {
  EFFECT_AWAITED,
  INPUTS,
  PEOPLE,
  PERSON_EVENT_TYPES,
  REVIEWS,
  personEvents,
  sampleEvents,
  type MachineSnapshot,
  type SampleOptions,
} from './support/machine-events';

type Snapshot = MachineSnapshot;
type Event = CancellationEvent;

const reviewNames = new Map(Object.entries(REVIEWS).map(([name, review]) => [review, name]));

/**
 * One vertex of the graph: the state value and the context fields a guard reads (see the header). A guard that
 * comes to read another field must add it here, or snapshots it tells apart would be taken for one.
 */
function vertex(snapshot: Snapshot): string {
  const { context } = snapshot;
  const { approval, goods, settlement, attention, review } = context;
  return JSON.stringify({
    value: snapshot.value,
    policy: context.policy?.version,
    review: review && (reviewNames.get(review) ?? review),
    approval:
      snapshot.matches('awaitingApproval') && approval
        ? {
            step: approval.step,
            steps: approval.plan.length,
            level: approval.requiredLevel,
            escalations: approval.escalations,
            eligible: approval.eligibleApprovers,
            decidedBy: approval.decisions.map((decision) => decision.approver),
          }
        : undefined,
    goods: goods && {
      recalls: goods.recalls,
      offered: goods.offer?.options,
      chose: goods.choice?.option,
      returned: goods.returned.map((entry) => entry.shipmentId),
      clerks: goods.eligibleClerks,
    },
    financeClerks: settlement?.eligibleClerks,
    attention: attention && { from: attention.from, ops: attention.eligibleOps },
    outcome: context.outcome,
  });
}

/** A transition the machine takes (the snapshot changes), with the effects it names and the states it passes. */
interface Edge {
  from: string;
  to: string;
  event: Event;
  effects: string[];
  passes: StateValue[];
}

interface Graph {
  name: string;
  /** One snapshot per vertex. */
  states: Map<string, Snapshot>;
  edges: Edge[];
  out: Map<string, Edge[]>;
  /** The events of a shortest path from the start to each vertex. */
  shortest: Map<string, Event[]>;
}

/** Explores the machine from `input`, trying the sample events each state handles. */
function explore(name: string, input: MachineInput, options: SampleOptions = {}): Graph {
  const traversal: TraversalOptions<Snapshot, Event, MachineInput> = {
    input,
    serializeState: (snapshot) => vertex(snapshot),
    // As @xstate/graph does by default: only events of types the state (or an ancestor) has transitions for.
    events: (snapshot) => {
      const handled = new Set(ownEventTypes(snapshot));
      return sampleEvents(snapshot, options).filter((event) => handled.has(event.type));
    },
  };
  const adjacency = getAdjacencyMap(cancellationMachine, traversal);
  const vertices = Object.values(adjacency) as AdjacencyValue<Snapshot, Event>[];
  const states = new Map(vertices.map(({ state }) => [vertex(state), state]));
  const out = new Map([...states.keys()].map((key): [string, Edge[]] => [key, []]));
  const edges = adjacencyMapToArray(adjacency)
    // Refused: the machine stays exactly where it was.
    .filter(({ state, nextState }) => nextState !== state)
    .map(({ state, event, nextState }): Edge => {
      const microsteps = getMicrosteps(cancellationMachine, state, event);
      return {
        from: vertex(state),
        to: vertex(nextState),
        event,
        effects: microsteps.flatMap(([, actions]) => actions.map((action) => action.type)),
        passes: microsteps.map(([snapshot]) => snapshot.value),
      };
    });
  for (const edge of edges) out.get(edge.from)?.push(edge);
  const shortest = new Map(
    getShortestPaths(cancellationMachine, traversal).map((path) => [
      vertex(path.state),
      path.steps.slice(1).map((step) => step.event),
    ]),
  );
  return { name, states, edges, out, shortest };
}

/** The events of a shortest path from `from` that ends by taking an edge that `wanted` picks; none if no path does. */
function pathToEdge(graph: Graph, from: string, wanted: (edge: Edge) => boolean): Event[] | undefined {
  const via = new Map<string, Edge | undefined>([[from, undefined]]);
  const trail = (key: string) => {
    const events: Event[] = [];
    for (let edge = via.get(key); edge; edge = via.get(edge.from)) events.unshift(edge.event);
    return events;
  };
  const queue = [from];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const edge of graph.out.get(next) ?? []) {
      if (wanted(edge)) return [...trail(next), edge.event];
      if (!via.has(edge.to)) {
        via.set(edge.to, edge);
        queue.push(edge.to);
      }
    }
  }
  return undefined;
}

/** A path as people read it: `EVENT{payload}` steps, policies and reviews by name, without quotes. */
function show(events: Event[]): string {
  return events
    .map(({ type, ...payload }) => {
      const brief = JSON.stringify(payload, (key, value: unknown) =>
        key === 'policy'
          ? (value as { version: string }).version
          : key === 'review'
            ? reviewNames.get(value as never)
            : value,
      ).replaceAll('"', '');
      return brief === '{}' ? type : `${type}${brief}`;
    })
    .join(' → ');
}
/** A vertex as people read it: its state and a shortest path to it. */
function where(graph: Graph, key: string): string {
  const path = graph.shortest.get(key) ?? [];
  return `${stateName(graph.states.get(key)?.value ?? '?')} via ${path.length > 0 ? show(path) : '(start)'}`;
}

/** The vertices from which no path reaches a final state. */
function cannotEnd({ states, edges }: Graph): string[] {
  const canEnd = new Set(
    [...states].filter(([, snapshot]) => snapshot.status === 'done').map(([key]) => key),
  );
  // Backwards from the final states, until nothing more can reach them.
  for (let grew = true; grew;) {
    grew = false;
    for (const edge of edges) {
      if (canEnd.has(edge.to) && !canEnd.has(edge.from)) {
        canEnd.add(edge.from);
        grew = true;
      }
    }
  }
  return [...states.keys()].filter((key) => !canEnd.has(key));
}

/** What a property found wrong: how many, and the shortest few (a failure shows these). */
function findings(found: string[]): { count: number; shortest: string[] } {
  return { count: found.length, shortest: [...found].sort((a, b) => a.length - b.length).slice(0, 5) };
}
const NONE = { count: 0, shortest: [] };

/** Node paths ("awaitingApproval", "awaitingApproval.findingApprovers") of a state value. */
function nodePaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}${value}`];
  return Object.entries(value).flatMap(([parent, child]) => [
    `${prefix}${parent}`,
    ...(child ? nodePaths(child, `${prefix}${parent}.`) : []),
  ]);
}

/** The machine's every state node, by path. */
const STATE_NODES = getStateNodes(cancellationMachine).map((node) => node.path.join('.'));

let graphs: Graph[] = [];
beforeAll(() => {
  graphs = INPUTS.map(({ name, input }) => explore(name, input));
});

test('the sample events make a finite graph big enough to mean something', () => {
  for (const graph of graphs) {
    expect(graph.states.size).toBeGreaterThan(1000);
    expect(graph.shortest.size).toBe(graph.states.size);
  }
});

test.each(STATE_NODES)('the state %s is reached', (node) => {
  const reached = graphs.some(
    (graph) =>
      [...graph.states.values()].some((snapshot) => nodePaths(snapshot.value).includes(node)) ||
      graph.edges.some((edge) => edge.passes.some((value) => nodePaths(value).includes(node))),
  );
  expect(reached).toBe(true);
});

describe.each(INPUTS.map(({ name }) => name))('started %s', (name) => {
  const graph = () => graphs.find((each) => each.name === name) as Graph;

  test('from every reachable state, some path reaches a final state', () => {
    expect(findings(cannotEnd(graph()).map((key) => where(graph(), key)))).toEqual(NONE);
  });

  // At most one of these events is taken on any path: a second would move money or stock again.
  test.each<[string, Event['type'][]]>([
    ['a successful refund (by the gateway, or settled by hand)', ['PAYMENT_REFUNDED', 'SETTLEMENT_RECORDED']],
    ['a stock release', ['STOCK_RELEASED']],
    ['a return of stock', ['STOCK_RETURNED']],
  ])('no path takes %s twice', (_what, types) => {
    const g = graph();
    const twice = g.edges
      .filter((first) => types.includes(first.event.type))
      .flatMap((first) => {
        const again = pathToEdge(g, first.to, (edge) => types.includes(edge.event.type));
        return again ? [`${where(g, first.from)} → ${show([first.event, ...again])}`] : [];
      });
    expect(findings(twice)).toEqual(NONE);
  });

  // An effect that failed may run again (a resume re-runs it; each effect is idempotent by its key), but once
  // its outcome is known it is never asked for again on that path.
  test.each<[string, Event['type'][]]>([
    ['refundPayment', ['PAYMENT_REFUNDED', 'REFUND_FAILED']],
    ['recordManualSettlement', ['SETTLEMENT_RECORDED']],
    ['releaseStock', ['STOCK_RELEASED']],
    ['returnStock', ['STOCK_RETURNED']],
  ])('once %s has an outcome, no path names it again', (effect, outcomes) => {
    const g = graph();
    const again = g.edges
      .filter((first) => outcomes.includes(first.event.type))
      .flatMap((first) => {
        const rest = pathToEdge(g, first.to, (edge) => edge.effects.includes(effect));
        return rest
          ? [`${where(g, first.from)} → ${show([first.event, ...rest])} (names ${effect} again)`]
          : [];
      });
    expect(findings(again)).toEqual(NONE);
  });
});

describe('every attention state can be resumed', () => {
  test.each(ATTENTION_STATES)('%s', (state) => {
    const problems: string[] = [];
    let stops = 0;
    for (const graph of graphs) {
      for (const [key, snapshot] of graph.states) {
        // A failure of the effect it waits for stops for a person, who resumes it where it was.
        const effect = EFFECT_AWAITED[state];
        if (stateName(snapshot.value) === state && effect) {
          const [failed] = transition(cancellationMachine, snapshot, {
            type: 'EFFECT_FAILED',
            effect,
            reason: 'broken for good',
          });
          if (!failed.matches('needsAttention') || failed.context.attention?.from !== state) {
            problems.push(`${effect} failing leaves ${where(graph, key)} for ${stateName(failed.value)}`);
            continue;
          }
          const [waiting] = transition(cancellationMachine, failed, {
            type: 'STAFF_FOUND',
            role: 'ops',
            people: [PEOPLE.ops],
          });
          const [resumed] = transition(cancellationMachine, waiting, { type: 'RESUME', by: PEOPLE.ops });
          if (vertex(resumed) !== key) {
            problems.push(
              `a resume after ${effect} failed in ${where(graph, key)} leads to ${stateName(resumed.value)}`,
            );
          }
        }
        // Every stop for a person that resumes to this state: an eligible ops person resumes it, no one else.
        if (
          stateName(snapshot.value) === 'needsAttention.waitingForOps' &&
          snapshot.context.attention?.from === state
        ) {
          stops += 1;
          const eligible = snapshot.context.attention.eligibleOps;
          for (const by of [...eligible, PEOPLE.requester, PEOPLE.stranger]) {
            const [next] = transition(cancellationMachine, snapshot, { type: 'RESUME', by });
            const resumedHere = stateName(next.value) === state;
            if (resumedHere !== eligible.includes(by)) {
              problems.push(`RESUME by ${by} in ${where(graph, key)} leads to ${stateName(next.value)}`);
            }
          }
        }
      }
    }
    expect(findings(problems)).toEqual(NONE);
    // The state stops for a person on some path (its effect fails, or, for agreeing with the customer, the
    // carrier stopped some parcels and not others), so its resume is not vacuous.
    expect(stops).toBeGreaterThan(0);
  });
});

// A person's event is taken (the machine moves, or its context changes) or refused (nothing at all changes),
// and `can()` tells which beforehand: what the API's update validators rely on. A refused one always has a
// reason to give the person (the workflow's validator answers with it), and a taken one never has.
describe.each(PERSON_EVENT_TYPES)('%s', (type) => {
  test('in every reachable state, can() says whether it is taken, a refusal has a reason, and refused means nothing changes', () => {
    const disagreements: string[] = [];
    let taken = 0;
    let refused = 0;
    for (const graph of graphs) {
      for (const [key, snapshot] of graph.states) {
        for (const event of personEvents(snapshot).filter((each) => each.type === type)) {
          const [next] = transition(cancellationMachine, snapshot, event);
          const can = snapshot.can(event);
          const moved = next !== snapshot;
          const changed =
            moved &&
            (vertex(next) !== key || JSON.stringify(next.context) !== JSON.stringify(snapshot.context));
          if (moved) taken += 1;
          else refused += 1;
          const reason = refusalOf(snapshot, event as PersonEvent);
          if (moved === (reason !== undefined) || reason === '') {
            disagreements.push(
              `${show([event])} in ${where(graph, key)}: ${moved ? 'taken' : 'refused'}, reason ${JSON.stringify(reason)}`,
            );
          }
          if (can !== moved || moved !== changed) {
            disagreements.push(
              `${show([event])} in ${where(graph, key)}: can() ${String(can)}, ` +
                `${moved ? (changed ? 'taken' : 'taken without any change') : 'refused'}`,
            );
          }
        }
      }
    }
    expect(findings(disagreements)).toEqual(NONE);
    expect(taken).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

// FINDING (reported, not fixed here). `findStaff` may find nobody: the books have no active person with the
// role. The machine then waits for ever in needsAttention (no one may RESUME), awaitingSettlement (no one may
// settle) or awaitingReturn (no one may confirm a return); so does a half-answered recall under the strict
// policy (awaitingCarrier), whose every way on leads to a return or to ops. This pins exactly those waits, so a
// change is noticed: when the machine handles an empty list of people, the list below becomes empty.
test('FINDING: when the books have nobody in a role, the waits for that role never end', () => {
  const [{ name, input }] = INPUTS as [(typeof INPUTS)[number]];
  const graph = explore(name, input, { nobodyOnStaff: true });
  const stuck = new Set(cannotEnd(graph).map((key) => stateName(graph.states.get(key)?.value ?? '?')));
  expect([...stuck].sort()).toEqual([
    'awaitingCarrier',
    'awaitingReturn.findingWarehouseClerks',
    'awaitingReturn.waitingForGoods',
    'awaitingSettlement.findingClerks',
    'awaitingSettlement.waitingForFinance',
    'needsAttention.findingOps',
    'needsAttention.waitingForOps',
  ]);
});
