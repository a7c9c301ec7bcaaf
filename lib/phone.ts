// Phone numbers as an SMS provider takes them: E.164 ("+8613800138000"). People write them every other way
// ("+1 (512) 555-0534", "138-0013-8000", "0086 138…", full-width "＋８６ １３８…"), and a number written
// without its country code means something only with the customer's country.
//
// libphonenumber-js rather than `normalizePhone` (text-normalize.ts): that one keeps the digits for search and
// cannot tell a Chinese mobile from a US number, nor a whole number from half of one. This one carries each
// country's trunk and international prefixes and number lengths (Google's libphonenumber metadata, the "min"
// set: patterns and lengths, no number types), so "138-0013-8000" for CN becomes +8613800138000 and "+86 123"
// is refused instead of being handed to the provider, which would refuse it for good (Twilio error 21211).
import { isSupportedCountry, parsePhoneNumberWithError, ParseError } from 'libphonenumber-js/min';

export type PhoneReading = { ok: true; e164: string } | { ok: false; problem: string };

const PARSE_PROBLEMS: Record<string, string> = {
  INVALID_COUNTRY: 'has no country code, and no country was given to read it with',
  NOT_A_NUMBER: 'is not a phone number',
  TOO_SHORT: 'is too short to be a phone number',
  TOO_LONG: 'is too long to be a phone number',
  INVALID_LENGTH: 'has the wrong number of digits',
};

/**
 * Reads a phone number as written, with `country` (ISO 3166-1 alpha-2, "CN", "US") for a number written
 * without its country code; a number written with one (+1…, 0086…) keeps it whatever the country. Pure.
 */
export function readPhone(written: string, country?: string | null): PhoneReading {
  // NFKC folds full-width digits and plus signs; with no country to read a national number by, a leading
  // 00 is taken as the international prefix most of the world dials (0086 138… → +86 138…).
  let text = written.normalize('NFKC').trim();
  const region = country ? country.trim().toUpperCase() : undefined;
  if (region !== undefined && !isSupportedCountry(region)) {
    return { ok: false, problem: `cannot be read for country "${country}": not a country code` };
  }
  if (region === undefined) text = text.replace(/^00(?=\s*[1-9])/, '+');
  try {
    const number = parsePhoneNumberWithError(text, region);
    if (!number.isValid()) {
      const where = number.country ?? region;
      return {
        ok: false,
        problem: where ? `is not a valid number in ${where}` : 'is not a valid phone number',
      };
    }
    return { ok: true, e164: number.number };
  } catch (error) {
    if (error instanceof ParseError)
      return { ok: false, problem: PARSE_PROBLEMS[error.message] ?? 'is not a phone number' };
    throw error;
  }
}

/** The E.164 form of a phone number as written (see `readPhone`), or undefined if it cannot be read. */
export function toE164(written: string | null | undefined, country?: string | null): string | undefined {
  if (!written) return undefined;
  const reading = readPhone(written, country);
  return reading.ok ? reading.e164 : undefined;
}
