// What the simulators share as servers: the port they got (port 0 asks the OS for a free one), a base URL a
// client on this machine can use even when they listen on every interface, and a quieter logger for fastify.
import type { Server } from 'node:net';
import type { Logger } from 'pino';

export function listeningPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('server is not listening on a TCP port');
  return address.port;
}

export function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function httpUrl(host: string, port: number): string {
  return `http://${reachableHost(host)}:${port}`;
}

const warnLevel = 40;

/**
 * The logger handed to fastify: warnings and errors only. Its info lines ("Server listening at", one per
 * interface on 0.0.0.0) would repeat the single line each simulator's starter logs with its URL.
 */
export function frameworkLogger(logger: Logger | false | undefined): Logger | undefined {
  if (!logger) return undefined;
  return logger.levelVal >= warnLevel ? logger : logger.child({}, { level: 'warn' });
}
