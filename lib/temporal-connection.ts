// Temporal client connections that may be closed while one of their calls is still being retried.
//
// @temporalio/client retries a failed gRPC call (UNAVAILABLE while the server restarts, say) from a setTimeout
// that Connection.close() does not clear. When such a timer fires after the close, grpc-js throws "Channel has
// been shut down" inside the timer callback, where no caller can catch it, and the process dies. The chaos run
// met it when a call abandoned at its deadline during a Temporal outage was retried after the stack closed its
// client (the same bug elsewhere: vinceblank/agent-tempo#624, which swallows the error process-wide instead).
// Here a retry after the close is answered CANCELLED by an interceptor below the SDK's retry interceptor, so it
// never reaches the closed channel, and no process-wide handler has to guess which exceptions are harmless.
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import {
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';

/**
 * `Connection.connect`, with the guard below the SDK's retries. Its `close()` first tells the guard, so that it
 * is the only way to close the connection and every caller keeps writing `connection.close()`.
 */
export async function openTemporalConnection(
  options: Omit<ConnectionOptions, 'interceptors'>,
): Promise<Connection> {
  let closed = false;
  const connection = await Connection.connect({
    ...options,
    // The SDK's own retries (its default when no interceptors are given), then the guard: a retry is a new call
    // that passes through the guard on its way to the channel.
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), refuseCallsOnceClosed(() => closed)],
  });
  const closeChannel = connection.close.bind(connection);
  connection.close = async () => {
    closed = true;
    await closeChannel();
  };
  return connection;
}

/**
 * Once `isClosed()`, a retry ends at once with CANCELLED, without touching the channel. A call's first attempt
 * still goes to the channel, which refuses it synchronously, inside the call's own promise, as it did without
 * the guard: the SDK's retry interceptor expects a first attempt to have come back from the network (it hands
 * on the message it saved from it) and fails with a TypeError of its own when it did not.
 */
export function refuseCallsOnceClosed(isClosed: () => boolean): Interceptor {
  // The retry interceptor passes the call's own options to each attempt: seen before, it is a retry.
  const attempted = new WeakSet<object>();
  return (options, nextCall) => {
    const retry = attempted.has(options);
    attempted.add(options);
    if (!retry || !isClosed()) return new InterceptingCall(nextCall(options));
    const closedCall: ConstructorParameters<typeof InterceptingCall>[0] = {
      start: (_metadata, listener) => {
        // Asynchronously, as a status from the network would come: the caller finishes start() first.
        setImmediate(() =>
          listener?.onReceiveStatus?.({
            code: status.CANCELLED,
            details: 'the Temporal connection was closed',
            metadata: new Metadata(),
          }),
        );
      },
      sendMessageWithContext: (context) => context.callback?.(),
      sendMessage: () => undefined,
      startRead: () => undefined,
      halfClose: () => undefined,
      cancelWithStatus: () => undefined,
      getPeer: () => '',
      getAuthContext: () => null,
    };
    return new InterceptingCall(closedCall);
  };
}
