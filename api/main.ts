// The API process: connect to the database and Temporal, listen, and close everything on SIGINT/SIGTERM.
import { Client } from '@temporalio/client';
import { loadConfig, mongoUri } from '../lib/config';
import { createLogger } from '../lib/logger';
import { temporalDataConverter } from '../lib/payload-codec';
import { loadPolicyFile } from '../lib/policy';
import { startTracing } from '../lib/tracing';
import { connectModels } from '../models';
import { buildAnalyticsRollups } from '../models/analytics-rollups';
import { backfillAnalyticsSummaries } from '../models/analytics-summary';
import { apiSettingsFrom, buildApp } from './app';
import { openTemporalConnection } from '../lib/temporal-connection';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const tracing = startTracing(config, 'cancelflow-api');
  const models = await connectModels(mongoUri(config), config.MONGODB_DATABASE, {
    timeoutMs: config.MONGODB_TIMEOUT_MS,
    onReopen: ({ stuckMs, error }) =>
      logger.warn({ stuckMs, error }, "the database driver's server monitor was stuck; connection reopened"),
  });
  // Records of an older version get the analytics' summary they lack (a no-op once every one has it, #14).
  const summarised = await backfillAnalyticsSummaries(models);
  if (summarised > 0) logger.info({ summarised }, 'analytics summaries computed for existing cancellations');
  // In the background: figures read before it ends build (or join) the days they need themselves.
  buildAnalyticsRollups(models)
    .then((days) => {
      if (days > 0) logger.info({ days }, 'analytics rollups built for the days without one');
    })
    .catch((error: unknown) =>
      logger.warn({ error }, 'analytics rollups not built at start; figures build them'),
    );
  const connection = await openTemporalConnection({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: temporalDataConverter(config),
    interceptors: tracing?.clientInterceptors,
  });
  const policy = await loadPolicyFile(config.CANCELLATION_POLICY_FILE);
  const app = buildApp({
    models,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    policy,
    ...apiSettingsFrom(config),
    logger,
  });

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await connection.close();
    await models.db.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ host: config.API_HOST, port: config.API_PORT });
}

main().catch((error: unknown) => {
  console.error('api failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
