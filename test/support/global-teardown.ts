import { rmSync } from 'node:fs';
import { testEnvironmentKeys as keys } from './environment';

export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.cancelflowTestServers ?? []).map((server) => server.stop()));
  const workDir = process.env[keys.workDir];
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}
