// What free text a query may hold. Control characters are no part of any name, number, address or state, and a
// NUL cannot go into the prefix patterns searches send (BSON writes a pattern as a C string): the fuzzer's NUL
// in `GET /v1/orders?email=` was answered 500.

/** Whether `value` is free of control characters (U+0000–U+001F, U+007F). */
export function withoutControlCharacters(value: string): boolean {
  for (const character of value) {
    const code = character.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}
