/**
 * Detached ed25519 signatures of native libraries (`libplugin.so.sig` beside `libplugin.so`),
 * verified with node:crypto BEFORE the library is opened: dlopen runs a library's constructors,
 * so a library that fails verification must never reach it.
 *
 * Keys: `plugin_settings.trusted_keys` is a list of ed25519 public keys, each a PEM block
 * (`-----BEGIN PUBLIC KEY-----`, SPKI) or the base64 of the raw 32-byte key. A signature file holds
 * the base64 of the 64-byte signature over the library's exact bytes (raw 64 bytes are accepted too).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CpexError } from '@cpex/core/host';

/** The DER prefix of an ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A trusted key, parsed. `id` is the first 16 hex chars of sha256(raw key): what `cpex plugins` shows. */
export interface TrustedKey {
  id: string;
  key: KeyObject;
}

/** Where a signature check happened (for coded errors). */
export interface SignatureWhere {
  plugin?: string;
  path: string;
}

/** The outcome of a check that did not throw. */
export interface SignatureState {
  state: 'verified' | 'unsigned' | 'not-required';
  keyId?: string;
  detail?: string;
}

function rawOf(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

/** The key id shown for a public key: sha256 of the raw 32 bytes, first 16 hex chars. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(rawOf(key)).digest('hex').slice(0, 16);
}

/**
 * Parses one trusted key (PEM or base64 raw). Throws CPEX_ERR_CONFIG_INVALID naming `where`
 * (e.g. `plugin_settings.trusted_keys[0]`) for anything that is not an ed25519 public key.
 */
export function parseTrustedKey(text: string, where: string): TrustedKey {
  const bad = (why: string, cause?: unknown) =>
    new CpexError('CPEX_ERR_CONFIG_INVALID', `${where}: not an ed25519 public key (${why})`, {
      path: where,
      ...(cause ? { cause } : {}),
    });
  if (typeof text !== 'string' || !text.trim()) throw bad('empty');
  let key: KeyObject;
  const t = text.trim();
  try {
    if (t.startsWith('-----BEGIN')) key = createPublicKey(t);
    else {
      if (!/^[A-Za-z0-9+/=\s]+$/.test(t)) throw bad('neither PEM nor base64');
      const raw = Buffer.from(t, 'base64');
      if (raw.length !== 32) throw bad(`base64 decodes to ${raw.length} bytes, want 32`);
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    }
  } catch (e) {
    if (e instanceof CpexError) throw e;
    throw bad((e as Error).message, e);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw bad(`key type is ${key.asymmetricKeyType}`);
  return { id: keyId(key), key };
}

/** Parses every key of `plugin_settings.trusted_keys`. */
export function parseTrustedKeys(
  list: readonly string[],
  where = 'plugin_settings.trusted_keys',
): TrustedKey[] {
  return list.map((k, i) => parseTrustedKey(k, `${where}[${i}]`));
}

/** The signature file of a library: `<path>.sig`. */
export function signaturePath(libraryPath: string): string {
  return `${libraryPath}.sig`;
}

function readSignature(sigPath: string, where: SignatureWhere): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(sigPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw sigError('CPEX_ERR_SIGNATURE_INVALID', `signature file ${sigPath} cannot be read`, where, e);
  }
  if (bytes.length === 64) return bytes;
  const text = bytes.toString('utf8').trim();
  const sig = /^[A-Za-z0-9+/=]+$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (sig.length !== 64)
    throw sigError(
      'CPEX_ERR_SIGNATURE_INVALID',
      `signature file ${sigPath} is not a base64 ed25519 signature`,
      where,
    );
  return sig;
}

function sigError(
  code: 'CPEX_ERR_SIGNATURE_REQUIRED' | 'CPEX_ERR_SIGNATURE_INVALID',
  message: string,
  where: SignatureWhere,
  cause?: unknown,
): CpexError {
  return new CpexError(code, `native plugin${where.plugin ? ` "${where.plugin}"` : ''}: ${message}`, {
    ...(where.plugin ? { plugin: where.plugin } : {}),
    details: { path: where.path },
    ...(cause ? { cause } : {}),
  });
}

/**
 * Checks a library's detached signature against the trusted keys, reading the file's bytes
 * once. Never opens the library. Returns the state when the library may be loaded:
 * - a signature that verifies with a trusted key → 'verified' (with the key id);
 * - no signature and `required` false → 'unsigned' (or 'not-required' when no keys are configured);
 * Throws CPEX_ERR_SIGNATURE_REQUIRED (no .sig, or no trusted keys, while required) and
 * CPEX_ERR_SIGNATURE_INVALID (a .sig that no trusted key verifies: a wrong key or changed bytes
 * — a present but bad signature is refused even when signatures are optional).
 */
export function checkSignature(
  libraryPath: string,
  keys: readonly TrustedKey[],
  required: boolean,
  where: SignatureWhere = { path: libraryPath },
): SignatureState {
  const sigPath = signaturePath(libraryPath);
  const sig = readSignature(sigPath, where);
  if (sig === undefined) {
    if (required)
      throw sigError(
        'CPEX_ERR_SIGNATURE_REQUIRED',
        `require_signature is set and ${sigPath} does not exist`,
        where,
      );
    return keys.length ? { state: 'unsigned', detail: `no ${sigPath}` } : { state: 'not-required' };
  }
  if (keys.length === 0) {
    if (required)
      throw sigError(
        'CPEX_ERR_SIGNATURE_REQUIRED',
        'require_signature is set but plugin_settings.trusted_keys is empty: nothing can verify the signature',
        where,
      );
    return { state: 'unsigned', detail: `${sigPath} present but no trusted_keys configured; not verified` };
  }
  let data: Buffer;
  try {
    data = readFileSync(libraryPath);
  } catch (e) {
    throw sigError('CPEX_ERR_SIGNATURE_INVALID', `library ${libraryPath} cannot be read`, where, e);
  }
  for (const k of keys) {
    if (verify(null, data, k.key, sig)) return { state: 'verified', keyId: k.id };
  }
  throw sigError(
    'CPEX_ERR_SIGNATURE_INVALID',
    `${sigPath} does not verify with any of the ${keys.length} trusted key(s): the library was changed after signing or signed with another key`,
    where,
  );
}

/** A new ed25519 key pair as PEM (PKCS#8 private, SPKI public) plus the base64 raw public key. */
export function generateKeyPair(): {
  privateKeyPem: string;
  publicKeyPem: string;
  publicKeyBase64: string;
  keyId: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: rawOf(publicKey).toString('base64'),
    keyId: keyId(publicKey),
  };
}

/** Signs a file's bytes with a PEM ed25519 private key; returns the base64 signature. */
export function signFile(libraryPath: string, privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `the private key is ${key.asymmetricKeyType}, not ed25519`,
    );
  return sign(null, readFileSync(libraryPath), key).toString('base64');
}
