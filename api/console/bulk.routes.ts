// Bulk cancellation in the console (issue #16): the jobs' page with the form that dry-runs and starts one, a
// job's page and its progress fragment, and pause, resume and stop. Each goes through the same service as the
// API's routes (api/bulk-cancellation.service.ts), as the signed-in person, never a name from the form.
import type { FastifyBaseLogger } from 'fastify';
import { bulkJobParams } from '../../client/bulk.contract';
import { callerOf, ANY_ROLE, type Access, type ApiInstance } from '../auth/access';
import type { BulkCancellationService } from '../bulk-cancellation.service';
import { all, isHtmx, one, sendHtml, textField, type ConsoleKit, type Form } from './kit';
import { bulkJobPage, bulkListPage, bulkProgress, dryRunResult } from './pages/bulk';

const startAccess = { roles: ['requester'] } as const satisfies Access;
const jobAccess = { roles: ANY_ROLE } as const satisfies Access;

/** A list field of the form: lines or commas separate its items. */
const items = (form: Form, name: string): string[] | undefined => {
  const values = (one(form[name]) ?? '')
    .split(/[\s,，]+/)
    .map((value) => value.trim())
    .filter(Boolean);
  return values.length > 0 ? values : undefined;
};

/** The form as the API's body (client/bulk.contract.ts `createBulkJobBody`), which the service validates. */
function requestOf(form: Form) {
  const status = all(form.status);
  const selection = {
    orderNumbers: items(form, 'orderNumbers'),
    skus: items(form, 'skus'),
    supplierId: textField(form, 'supplierId'),
    customerIds: items(form, 'customerIds'),
    status: status.length > 0 ? status : undefined,
    createdFrom: textField(form, 'createdFrom'),
    createdTo: textField(form, 'createdTo'),
  };
  return {
    selection: Object.fromEntries(Object.entries(selection).filter(([, value]) => value !== undefined)),
    reasonCode: one(form.reasonCode) ?? '',
    ...(textField(form, 'note') ? { note: textField(form, 'note') } : {}),
    confirm: all(form.confirm),
  };
}

export function registerBulkConsoleRoutes<Logger extends FastifyBaseLogger>(
  scope: ApiInstance<Logger>,
  kit: ConsoleKit,
  deps: { bulkCancellations: BulkCancellationService },
): void {
  const { bulkCancellations: bulk } = deps;

  scope.get(
    '/console/bulk',
    { config: { access: jobAccess }, schema: { hide: true } },
    async (request, reply) => {
      const caller = callerOf(request);
      const { items: jobs } = await bulk.list(caller);
      return sendHtml(
        reply,
        bulkListPage(
          await kit.pageContextOf(request, reply, 'bulk'),
          jobs,
          caller.roles.includes('requester'),
        ),
      );
    },
  );

  scope.post(
    '/console/bulk/dry-run',
    { config: { access: startAccess }, schema: { hide: true } },
    async (request, reply) => {
      const figures = await bulk.dryRun(requestOf((request.body ?? {}) as Form), callerOf(request).personId);
      return sendHtml(reply, dryRunResult(kit.contextOf(request, reply).t, figures));
    },
  );

  scope.post(
    '/console/bulk',
    { config: { access: startAccess }, schema: { hide: true } },
    async (request, reply) => {
      const { jobId } = await bulk.start(
        requestOf((request.body ?? {}) as Form),
        callerOf(request).personId,
        undefined,
        'console',
      );
      const location = `/console/bulk/${encodeURIComponent(jobId)}`;
      // htmx follows the page there itself; a plain form post is redirected.
      if (isHtmx(request)) return reply.header('hx-redirect', location).status(204).send();
      return reply.redirect(location, 303);
    },
  );

  scope.get(
    '/console/bulk/:id',
    { config: { access: jobAccess }, schema: { hide: true, params: bulkJobParams } },
    async (request, reply) => {
      const job = await bulk.get(request.params.id, callerOf(request));
      return sendHtml(reply, bulkJobPage(await kit.pageContextOf(request, reply, 'bulk'), job));
    },
  );

  scope.get(
    '/console/bulk/:id/progress',
    { config: { access: jobAccess }, schema: { hide: true, params: bulkJobParams } },
    async (request, reply) => {
      const job = await bulk.get(request.params.id, callerOf(request));
      return sendHtml(reply, bulkProgress(kit.contextOf(request, reply).t, job));
    },
  );

  for (const action of ['pause', 'resume', 'stop'] as const) {
    scope.post(
      `/console/bulk/:id/${action}`,
      { config: { access: jobAccess }, schema: { hide: true, params: bulkJobParams } },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const note = textField(form, 'note');
        const job = await bulk[action](request.params.id, callerOf(request), note ? { note } : {});
        if (!isHtmx(request)) return reply.redirect(`/console/bulk/${encodeURIComponent(job.jobId)}`, 303);
        return sendHtml(reply, bulkProgress(kit.contextOf(request, reply).t, job));
      },
    );
  }
}
