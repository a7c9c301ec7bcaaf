// Found by `npm run chaos` (issue #15): the database stopping as a command is written lets the MongoDB driver throw
// Node's own socket error ("This socket has been ended by the other party", EPIPE) instead of its
// MongoNetworkError, and the API answered that request 500. It is the database going away: 503 and Retry-After.
import { mongo } from 'mongoose';
import { isDatabaseUnreachable } from '../api/deadlines';

/** The error Node's net module raises on a write after the other end closed (net.js, writeAfterFIN). */
const socketEnded = Object.assign(new Error('This socket has been ended by the other party'), {
  code: 'EPIPE',
});

test.each([
  ['a socket the database closed mid-command (EPIPE)', true, socketEnded],
  [
    'a connection reset by the database',
    true,
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
  ],
  [
    'the driver finding no server',
    true,
    Object.assign(new Error('timed out'), { name: 'MongoServerSelectionError' }),
  ],
  [
    "the driver's pool cleared after its server monitor timed out",
    true,
    // What the driver throws then: a MongoNetworkError of a class of its own (PoolClearedOnNetworkError).
    new (class PoolClearedOnNetworkError extends mongo.MongoNetworkError {
      override get name() {
        return 'PoolClearedOnNetworkError';
      }
    })('Connection to 127.0.0.1:27017 interrupted due to server monitor timeout'),
  ],
  [
    'the connection closed under a call as it is reopened after an outage',
    true,
    new mongo.MongoTopologyClosedError(),
  ],
  ['a duplicate key', false, Object.assign(new Error('E11000 duplicate key'), { code: 11000 })],
  ['a plain error', false, new Error('boom')],
])('%s: the database unreachable %s', (_what, unreachable, error) => {
  expect(isDatabaseUnreachable(error)).toBe(unreachable);
});
