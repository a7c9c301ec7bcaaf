// The fields of a cancel form, shared by the staff's order page and the customer's own: the parts both read
// back the same way (api/console/cancel-request.ts) must be written the same way. Each page words the labels
// for its reader, wraps the fields in its own <form> and puts its own answer beside them.
import { randomUUID } from 'node:crypto';
import { html, type SafeHtml } from '../html';

export interface CancelFormLine {
  lineId: string;
  /** Quantity not cancelled yet: the most that may be asked. */
  left: number;
  /** The checkbox's label. */
  label: string;
  /** The quantity field's label (read by screen readers only). */
  quantityLabel: string;
}

export interface CancelFormFields {
  lines: readonly CancelFormLine[];
  reasons: readonly { code: string; label: string }[];
  labels: { scope: string; whole: string; chosen: string; lines: string; reason: string; note: string };
  /** The explicit confirmation R2 asks for at this stage of the order, if any. */
  confirmation?: { stage: string; label: string };
}

export function cancelFormFields({ lines, reasons, labels, confirmation }: CancelFormFields): SafeHtml {
  return html`<input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
    <fieldset>
      <legend>${labels.scope}</legend>
      <div class="choice">
        <input type="radio" id="scope-whole" name="scope" value="whole" checked />
        <label for="scope-whole">${labels.whole}</label>
      </div>
      <div class="choice">
        <input type="radio" id="scope-lines" name="scope" value="lines" />
        <label for="scope-lines">${labels.chosen}</label>
      </div>
    </fieldset>
    <fieldset>
      <legend>${labels.lines}</legend>
      ${lines.map(
        (line, index) =>
          html`<div class="line-choice" data-line="${line.lineId}">
            <div class="choice">
              <input type="checkbox" id="line-${index}" name="line" value="${line.lineId}" />
              <label for="line-${index}">${line.label}</label>
            </div>
            <div>
              <label class="visually-hidden" for="quantity-${index}">${line.quantityLabel}</label>
              <input
                id="quantity-${index}"
                name="quantity.${line.lineId}"
                type="number"
                min="1"
                max="${line.left}"
                step="1"
                value="${line.left}"
              />
            </div>
          </div>`,
      )}
    </fieldset>
    <p>
      <label for="reasonCode">${labels.reason}</label>
      <select id="reasonCode" name="reasonCode" required>
        ${reasons.map(({ code, label }) => html`<option value="${code}">${label}</option>`)}
      </select>
    </p>
    <p>
      <label for="note">${labels.note}</label>
      <textarea id="note" name="note" rows="2" maxlength="2000"></textarea>
    </p>
    ${
      confirmation
        ? html`<div class="choice">
            <input type="checkbox" id="confirm" name="confirm" value="${confirmation.stage}" />
            <label for="confirm">${confirmation.label}</label>
          </div>`
        : ''
    }`;
}
