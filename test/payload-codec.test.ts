// The payload codec (issue #15): what it writes holds none of the payload in clear, reads back exactly, follows
// key rotation, refuses a tampered payload, and lets unencrypted payloads (older histories) through.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseEncryptionKeys } from '../lib/payload-codec';

const keyOf = (id: string) => ({ id, key: randomBytes(32) });
const customer = { name: '王芳', phone: '+8613800138000', email: 'wang.fang@example.cn' };
const payload = () => defaultPayloadConverter.toPayload(customer);

test('an encrypted payload holds nothing in clear and decodes to the very payload', async () => {
  const codec = new EncryptionCodec([keyOf('k1')]);
  const [sealed] = await codec.encode([payload()]);
  const raw = Buffer.from(sealed?.data ?? []).toString('latin1');
  for (const value of Object.values(customer)) expect(raw).not.toContain(value);
  expect(Buffer.from(sealed?.data ?? []).toString('utf8')).not.toContain('wang.fang');
  const [opened] = await codec.decode([sealed!]);
  expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
});

test('rotation: new payloads use the first key, payloads under an older listed key still decode', async () => {
  const [oldKey, newKey] = [keyOf('2026-01'), keyOf('2026-12')];
  const [underOld] = await new EncryptionCodec([oldKey]).encode([payload()]);
  const rotated = new EncryptionCodec([newKey, oldKey]);
  const [underNew] = await rotated.encode([payload()]);
  expect(Buffer.from(underNew?.metadata?.['encryption-key-id'] ?? []).toString()).toBe('2026-12');
  const opened = await rotated.decode([underOld!, underNew!]);
  expect(opened.map((one) => defaultPayloadConverter.fromPayload(one))).toEqual([customer, customer]);
  // A key dropped from the list no longer reads what it wrote, and says which key is missing.
  await expect(new EncryptionCodec([newKey]).decode([underOld!])).rejects.toThrow('"2026-01"');
});

test('a payload altered at rest is refused, not decoded to something else', async () => {
  const codec = new EncryptionCodec([keyOf('k1')]);
  const [sealed] = await codec.encode([payload()]);
  const data = Buffer.from(sealed!.data!);
  data[20] = (data[20] ?? 0) ^ 1;
  await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow();
});

test('a payload that was never encrypted passes through', async () => {
  const plain = payload();
  expect(await new EncryptionCodec([keyOf('k1')]).decode([plain])).toEqual([plain]);
});

test('PAYLOAD_KEYS: id:base64 of 32 bytes, first one current; a bad value names the setting', () => {
  const [a, b] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
  expect(parseEncryptionKeys(`new:${a}, old:${b}`).map((key) => key.id)).toEqual(['new', 'old']);
  expect(() => parseEncryptionKeys('short:AAAA')).toThrow('PAYLOAD_KEYS');
  expect(() => parseEncryptionKeys(`x:${a},x:${b}`)).toThrow('twice');
  expect(() => parseEncryptionKeys('')).toThrow('no key');
});
