// Personal data out of Temporal's history (issue #15): every payload the worker, the API and the CLI's Temporal
// clients send is encrypted with AES-256-GCM before it leaves the process, and decrypted when it comes back.
// The server, its database and anyone reading raw history see ciphertext; an authorised person reads it in
// the Temporal UI through the codec endpoint (api/codec.routes.ts).
//
// The cipher is Node's own (OpenSSL) AES-256-GCM: authenticated, so a payload altered at rest fails to decrypt
// rather than decrypting to something else. Keys rotate: payloads are encrypted with the current key and carry
// its id; every key still listed decrypts, so histories written under an older key stay readable. A payload
// that is not encrypted (histories recorded before encryption, payloads from another tool) passes through.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CancelflowError } from './errors';

const ENCODING = 'binary/encrypted';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  /** Carried on each payload, so a later key set still knows which key wrote it. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const text = (value: string) => new TextEncoder().encode(value);
const read = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/**
 * Reads `id:base64key,id:base64key`, the first being the one new payloads are encrypted with (the form the
 * PAYLOAD_KEYS setting takes). Each key must be 32 bytes (`openssl rand -base64 32`).
 */
export function parseEncryptionKeys(setting: string): EncryptionKey[] {
  const keys = setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      const id = entry.slice(0, separator).trim();
      const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
      if (separator <= 0 || key.length !== 32) {
        throw new CancelflowError(
          'validation_failed',
          'PAYLOAD_KEYS: each key is id:base64 of 32 bytes (openssl rand -base64 32)',
          { field: 'PAYLOAD_KEYS' },
        );
      }
      return { id, key };
    });
  if (keys.length === 0)
    throw new CancelflowError('validation_failed', 'PAYLOAD_KEYS names no key', { field: 'PAYLOAD_KEYS' });
  if (new Set(keys.map((key) => key.id)).size !== keys.length)
    throw new CancelflowError('validation_failed', 'PAYLOAD_KEYS names a key id twice', {
      field: 'PAYLOAD_KEYS',
    });
  return keys;
}

function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: EncryptionKey;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (!current) throw new Error('an encryption codec needs at least one key');
    this.current = current;
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  // Promise-returning as the SDK's interface asks; the work is synchronous, and a failure rejects the promise.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() =>
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            encoding: text(ENCODING),
            'encryption-cipher': text(CIPHER),
            'encryption-key-id': text(this.current.id),
          },
          data: sealed,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() =>
      payloads.map((payload) => {
        if (read(payload.metadata?.encoding) !== ENCODING) return payload;
        const keyId = read(payload.metadata?.['encryption-key-id']) ?? '';
        const key = this.byId.get(keyId);
        if (!key)
          throw new Error(`payload encrypted with key "${keyId}", which PAYLOAD_KEYS no longer lists`);
        const sealed = Buffer.from(payload.data ?? new Uint8Array());
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(), // throws when the payload or its tag was altered
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}

/** What every Temporal client and worker of cancelflow uses: payloads encrypted with the configured keys. */
export function temporalDataConverter(settings: { PAYLOAD_KEYS: string }): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(parseEncryptionKeys(settings.PAYLOAD_KEYS))] };
}
