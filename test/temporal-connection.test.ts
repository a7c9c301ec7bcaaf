// A Temporal connection closed while the SDK is still retrying one of its calls (lib/temporal-connection.ts).
//
// The server here is a plain HTTP/2 server speaking just enough gRPC: it answers the connection's first call
// (getSystemInfo, made by Connection.connect) with an empty message, then every call with UNAVAILABLE, as
// Temporal does while it restarts, so the SDK keeps retrying from its timers. Closing the connection then used
// to end the process: the next retry reached the closed channel and threw "Channel has been shut down" from
// inside the timer.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { openTemporalConnection } from '../lib/temporal-connection';

const CANCELLED = 1;

interface RestartingServer {
  address: string;
  attempts: () => number;
  startFailing: () => void;
  close: () => Promise<void>;
}

async function restartingServer(): Promise<RestartingServer> {
  let failing = false;
  let attempts = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    if (failing) {
      attempts += 1;
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '14',
          'grpc-message': 'restarting',
        },
        { endStream: true },
      );
      return;
    }
    // An empty protobuf message in a gRPC frame: no compression, length 0.
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.alloc(5));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts: () => attempts,
    startFailing: () => {
      failing = true;
    },
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

test('a call still being retried when its connection closes ends CANCELLED, and the process goes on', async () => {
  const server = await restartingServer();
  try {
    const connection = await openTemporalConnection({ address: server.address });
    server.startFailing();
    const outcome = connection.workflowService.getSystemInfo({}).then(
      () => 'answered',
      (error: { code?: number; details?: string }) => error,
    );
    // Two failed attempts: the SDK's retry timer is set for the third.
    while (server.attempts() < 2) await new Promise((wait) => setTimeout(wait, 20));
    await connection.close();

    await expect(outcome).resolves.toMatchObject({
      code: CANCELLED,
      details: 'the Temporal connection was closed',
    });
    const attemptsAtClose = server.attempts();
    await new Promise((wait) => setTimeout(wait, 500));
    expect(server.attempts()).toBe(attemptsAtClose);
  } finally {
    await server.close();
  }
});

test('a call made after its connection closed is refused to its caller, and the process goes on', async () => {
  const server = await restartingServer();
  try {
    const connection = await openTemporalConnection({ address: server.address });
    await connection.close();
    await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow('Channel has been shut down');
    // Nothing left to fire later: a retry of it would have thrown where no caller could catch it.
    await new Promise((wait) => setTimeout(wait, 500));
  } finally {
    await server.close();
  }
});
