// A cancel form (the staff's order page, the customer's own) as the body POST /v1/cancellations takes.
import { CONFIRMABLE_STAGES, type ConfirmableStage } from '../../contracts/cancellation.contract';
import { all, one, type Form } from './kit';

/** A cancel form as the request the API takes (`lines` absent: the whole order). */
export function cancelRequestOf(orderNumber: string, form: Form) {
  const scope = one(form.scope) === 'lines' ? 'lines' : 'whole';
  const lines =
    scope === 'lines'
      ? all(form.line).map((lineId) => ({ lineId, quantity: Number(one(form[`quantity.${lineId}`]) ?? NaN) }))
      : undefined;
  const reasonCode = one(form.reasonCode) ?? '';
  const note = one(form.note)?.trim();
  return {
    scope,
    request: {
      orderNumber,
      ...(lines ? { lines } : {}),
      reasonCode,
      ...(note ? { note } : {}),
      confirm: all(form.confirm).filter((stage): stage is ConfirmableStage =>
        (CONFIRMABLE_STAGES as readonly string[]).includes(stage),
      ),
    },
  };
}
