import { createHmac, hkdfSync, randomBytes, type webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, calculateJwkThumbprint } from 'jose';
import type { Config } from '../config.js';

export const SERVICE_SIGNING_ALG = 'ES256';

export interface ServiceKeys {
  signing: { privateKey: CryptoKey; publicJwk: JWK; kid: string };
  identifier: { encKey: Buffer; hmacKey: Buffer };
}

interface StoredKeys {
  signingKeyJwk: JWK;
  identifierKey: string;
}

/**
 * The service's own keys: the ES256 key that signs access tokens, and the key that encrypts resident IDs.
 * Production passes both in configuration; development generates them once under ./data/keys (or keeps
 * them in memory when the database is in memory, so tests start clean).
 */
export async function loadKeys(config: Config): Promise<ServiceKeys> {
  let signingJwk: JWK | undefined = config.auth.signingKeyJwk ? JSON.parse(config.auth.signingKeyJwk) : undefined;
  let identifierKey = config.identifierKey;
  if (!signingJwk || !identifierKey) {
    const stored = await devKeys(config.keysDir);
    signingJwk ??= stored.signingKeyJwk;
    identifierKey ??= stored.identifierKey;
  }
  const rawIdKey = Buffer.from(identifierKey, 'base64');
  if (rawIdKey.length !== 32) throw new Error('IDENTIFIER_KEY must be 32 bytes, base64-encoded');
  const privateKey = (await importJWK(signingJwk, SERVICE_SIGNING_ALG)) as CryptoKey;
  const { d: _d, ...publicJwk } = signingJwk;
  const kid = signingJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    signing: { privateKey, publicJwk: { ...publicJwk, kid, alg: SERVICE_SIGNING_ALG, use: 'sig' }, kid },
    identifier: {
      // Separate keys for encryption and for the lookup hash, both derived from the one configured secret.
      encKey: Buffer.from(hkdfSync('sha256', rawIdKey, Buffer.alloc(0), 'ncd-gateway identifier encryption', 32)),
      hmacKey: Buffer.from(hkdfSync('sha256', rawIdKey, Buffer.alloc(0), 'ncd-gateway identifier lookup', 32)),
    },
  };
}

async function generate(): Promise<StoredKeys> {
  const { privateKey } = await generateKeyPair(SERVICE_SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return { signingKeyJwk: jwk, identifierKey: randomBytes(32).toString('base64') };
}

let inMemory: Promise<StoredKeys> | undefined;

async function devKeys(dir: string | undefined): Promise<StoredKeys> {
  if (!dir) return (inMemory ??= generate());
  const file = path.join(dir, 'service-keys.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as StoredKeys;
  const keys = await generate();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

export const hmacHex = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest('hex');
