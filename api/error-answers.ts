// The error answers every route declares in the OpenAPI document, beside its own: any route can be given bad
// input (400) or be called too often (429), and every route reads the books, so any can answer 503 while the
// database is away (api/deadlines.ts). Routes behind credentials add 401 and 403.
import { apiErrorBody } from '../client/contract';

export const publicErrors = { 400: apiErrorBody, 429: apiErrorBody, 503: apiErrorBody };
export const callerErrors = { ...publicErrors, 401: apiErrorBody, 403: apiErrorBody };
