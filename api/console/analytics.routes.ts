// The console's analytics page (R22, R23, R29): one window, every figure, through the same service as
// GET /v1/analytics/… (../analytics.service.ts), for the same readers; and the page's chart script.
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { analyticsQueries, type AnalyticsFigure } from '../../client/contract';
import {
  ANALYTICS_FIGURES,
  ANALYTICS_GRANULARITIES,
  type AnalyticsGranularity,
} from '../../contracts/analytics.contract';
import { CancelflowError, isCancelflowError } from '../../lib/errors';
import type { Models } from '../../models';
import { DEFAULT_WINDOW_DAYS, normalisedOffset, offsetMsOf } from '../../models/analytics';
import { analyticsAccess } from '../analytics.routes';
import { figureAnswer, type AnalyticsCriteria } from '../analytics.service';
import type { ApiInstance } from '../auth/access';
import { ANALYTICS_SCRIPT, ANALYTICS_SCRIPT_ETAG } from './analytics-script';
import { one, sendHtml, type ConsoleKit } from './kit';
import { analyticsPage, type AnalyticsAnswers, type AnalyticsForm } from './pages/analytics';

const DAY_MS = 86_400_000;
/** The page shows the top of the long lists; their CSV has all of them (the API's most). */
const PAGE_ROWS = 10;
const CSV_ROWS = 1000;
const REPEAT_MINIMUM = 2;

/** The form as sent, or the last 90 days (today included) at UTC, by week. */
function formOf(query: Record<string, unknown>, now: Date): AnalyticsForm {
  const text = (name: string) => one(query[name])?.trim() || undefined;
  const utcOffset = normalisedOffset(text('utcOffset') ?? '+00:00');
  const granularity = text('granularity') ?? 'week';
  let today = now.toISOString().slice(0, 10);
  try {
    today = new Date(now.getTime() + offsetMsOf(utcOffset)).toISOString().slice(0, 10);
  } catch {
    // A bad offset is reported with the figures; the dates fall back to UTC's.
  }
  const to = text('to') ?? today;
  // The 90 days up to `to` (a `to` that is not a date is reported with the figures; count back from today).
  const lastDay = Date.parse(`${to}T00:00:00Z`);
  const defaultFrom = new Date(
    (Number.isNaN(lastDay) ? Date.parse(`${today}T00:00:00Z`) : lastDay) - (DEFAULT_WINDOW_DAYS - 1) * DAY_MS,
  );
  return {
    from: text('from') ?? defaultFrom.toISOString().slice(0, 10),
    to,
    granularity: (ANALYTICS_GRANULARITIES as readonly string[]).includes(granularity)
      ? (granularity as AnalyticsGranularity)
      : 'week',
    utcOffset,
  };
}

/** What each figure takes from the page's form: the window, and the page's number of rows. */
function criteriaOf(form: AnalyticsForm, figure: AnalyticsFigure, rows: number): Record<string, string> {
  const window = { from: form.from, to: form.to, utcOffset: form.utcOffset };
  if (figure === 'over-time') return { ...window, granularity: form.granularity };
  if (figure === 'repeat-cancellers')
    return { ...window, limit: String(rows), minimum: String(REPEAT_MINIMUM) };
  if (figure === 'products' || figure === 'customers') return { ...window, limit: String(rows) };
  return window;
}

/** A figure's criteria as the API reads them, or its 400 naming the field. */
function parsedCriteria<F extends AnalyticsFigure>(
  figure: F,
  fields: Record<string, string>,
): AnalyticsCriteria<F> {
  const parsed = analyticsQueries[figure].safeParse(fields);
  if (parsed.success) return parsed.data as AnalyticsCriteria<F>;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'query');
  throw new CancelflowError('validation_failed', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

export function registerAnalyticsConsoleRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  kit: ConsoleKit,
  deps: { models: Models },
): void {
  scope.get(
    '/console/assets/analytics.js',
    { config: { access: { public: "the analytics page's chart script" } }, schema: { hide: true } },
    (request, reply) => {
      if (request.headers['if-none-match'] === ANALYTICS_SCRIPT_ETAG) return reply.status(304).send();
      return reply
        .type('text/javascript; charset=utf-8')
        .header('etag', ANALYTICS_SCRIPT_ETAG)
        .header('cache-control', 'public, max-age=300')
        .send(ANALYTICS_SCRIPT);
    },
  );

  scope.get(
    '/console/analytics',
    {
      config: { access: analyticsAccess },
      schema: {
        hide: true,
        querystring: z.looseObject({
          from: z.string().max(64).optional(),
          to: z.string().max(64).optional(),
          granularity: z.string().max(16).optional(),
          utcOffset: z.string().max(16).optional(),
        }),
      },
    },
    async (request, reply) => {
      const context = await kit.pageContextOf(request, reply, 'analytics');
      const form = formOf(request.query, new Date());
      const csvHref = (figure: AnalyticsFigure) =>
        `/v1/analytics/${figure}?${new URLSearchParams({ ...criteriaOf(form, figure, CSV_ROWS), format: 'csv' }).toString()}`;
      const view = { csvHref, repeatMinimum: REPEAT_MINIMUM };
      try {
        // Each figure is its own aggregation; the database runs them side by side.
        const answers = Object.fromEntries(
          await Promise.all(
            ANALYTICS_FIGURES.map(async (figure) => [
              figure,
              await figureAnswer(
                deps.models,
                figure,
                parsedCriteria(figure, criteriaOf(form, figure, PAGE_ROWS)),
              ),
            ]),
          ),
        ) as AnalyticsAnswers;
        return sendHtml(reply, analyticsPage(context, form, { ...view, answers }));
      } catch (error) {
        if (!isCancelflowError(error) || error.code !== 'validation_failed') throw error;
        return sendHtml(reply, analyticsPage(context, form, { ...view, error: error.message }), 400);
      }
    },
  );
}
