// The analytics over HTTP (R22, R23, R29): `GET /v1/analytics/<figure>`, one route per figure, each answering
// JSON, or CSV when asked with `?format=csv` or `Accept: text/csv`. Sales managers (approvers), finance, ops
// and admins read them (contracts/analytics.contract.ts).
import type { FastifyBaseLogger, FastifyRequest, FastifySchema } from 'fastify';
import { z } from 'zod';
import { analyticsAnswers, analyticsQueries } from '../client/contract';
import { ANALYTICS_FIGURES, ANALYTICS_READERS } from '../contracts/analytics.contract';
import type { Models } from '../models';
import { csvFileName, figureAnswer, figureCsv, FIGURES, type AnalyticsCriteria } from './analytics.service';
import type { Access, ApiInstance } from './auth/access';
import { callerErrors } from './error-answers';

export const analyticsAccess = { roles: ANALYTICS_READERS } as const satisfies Access;

const tags = ['analytics'];
export const CSV_TYPE = 'text/csv; charset=utf-8';

/** The quality (q) an Accept header gives a media type: its own entry, else its family's (text/*). */
function quality(accept: string, type: string): number {
  const family = `${type.split('/')[0] ?? ''}/*`;
  let best = 0;
  let specificity = -1;
  for (const entry of accept.split(',')) {
    const [range = '', ...parameters] = entry.split(';').map((part) => part.trim().toLowerCase());
    const rank = range === type ? 2 : range === family ? 1 : -1;
    if (rank <= specificity) continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    best = q ? Number(q.slice(2)) || 0 : 1;
    specificity = rank;
  }
  return best;
}

/** CSV when the query says so, or when the Accept header prefers it to JSON; JSON otherwise. */
export function wantsCsv(request: FastifyRequest, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  const accept = request.headers.accept ?? '';
  const csv = quality(accept, 'text/csv');
  return csv > 0 && csv > quality(accept, 'application/json');
}

export function registerAnalyticsRoutes<Logger extends FastifyBaseLogger>(
  routes: ApiInstance<Logger>,
  deps: { models: Models },
): void {
  for (const figure of ANALYTICS_FIGURES) {
    // Typed as a plain schema: each figure's query and answer differ, and the handler is the same for all.
    const schema: FastifySchema = {
      tags,
      summary: FIGURES[figure].summary,
      querystring: analyticsQueries[figure],
      response: {
        200: {
          description: 'The figure; its rows as CSV (a header line, then a line per row) when asked',
          content: {
            'application/json': { schema: analyticsAnswers[figure] },
            'text/csv': { schema: z.string() },
          },
        },
        ...callerErrors,
      },
    };
    routes.get(
      `/v1/analytics/${figure}`,
      { config: { access: analyticsAccess }, schema },
      async (request, reply) => {
        const criteria = request.query as AnalyticsCriteria<typeof figure>;
        const answer = await figureAnswer(deps.models, figure, criteria);
        // The same address answers JSON or CSV by the Accept header: caches must keep them apart.
        void reply.header('vary', 'Accept');
        if (!wantsCsv(request, criteria.format)) {
          return reply.type('application/json; charset=utf-8').send(answer);
        }
        return reply
          .type(CSV_TYPE)
          .header('content-disposition', `attachment; filename="${csvFileName(figure, answer)}"`)
          .header('cache-control', 'no-store')
          .send(figureCsv(figure, answer));
      },
    );
  }
}
