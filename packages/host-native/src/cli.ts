/**
 * `@cpex/host-native/cli` — subcommands the `cpex` command picks up when this package is
 * installed: `cpex keygen` and `cpex sign` (ed25519 with node:crypto, no extra dependency).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CpexError } from '@cpex/core/host';
import { generateKeyPair, keyId, signaturePath, signFile } from './signature.js';

/** The slice of `@cpex/cli`'s CliIo these commands use. */
export interface NativeCliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Record<string, string | undefined>;
}

/** A `cpex` subcommand (the shape `@cpex/cli` expects from `cliCommands`). */
export interface NativeCliCommand {
  name: string;
  summary: string;
  help: string;
  run(argv: string[], io: NativeCliIo): Promise<number>;
}

export const keygenHelp = `Usage: cpex keygen [--out PREFIX] [--force]

Create an ed25519 key pair for signing native plugin libraries:
  PREFIX.key  the private key (PKCS#8 PEM, file mode 0600) — keep it secret, use it with cpex sign
  PREFIX.pub  the public key (SPKI PEM) — put it (or the base64 line printed) in
              plugin_settings.trusted_keys
Prints the key id and the base64 public key.

Options:
  --out PREFIX  file prefix (default: cpex-signing)
  --force       overwrite existing files
  -h, --help    show this help

Exit codes: 0 ok, 1 a file exists (without --force) or cannot be written, 2 usage error.`;

export const signHelp = `Usage: cpex sign <library> --key PRIVATE.key [--out FILE]

Sign a native plugin library with an ed25519 private key (from cpex keygen): writes the detached
signature (base64) to <library>.sig, where the native host looks for it. Sign the exact file you
ship: any later change to its bytes makes the signature fail, and the host refuses the library
before opening it.

Options:
  --key FILE   the private key (PKCS#8 PEM)
  --out FILE   where to write the signature (default: <library>.sig)
  -h, --help   show this help

Exit codes: 0 ok, 1 the key or library cannot be read, 2 usage error.`;

function parse(
  command: string,
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_INVALID_ARGUMENT',
      `cpex ${command}: ${(e as Error).message} (see cpex ${command} --help)`,
    );
  }
}

function fail(io: NativeCliIo, e: unknown): number {
  const code = (e as { code?: string }).code ?? 'CPEX_ERR_INVALID_ARGUMENT';
  io.err(`error ${code}: ${(e as Error).message}\n`);
  return code === 'CPEX_ERR_INVALID_ARGUMENT' ? 2 : 1;
}

/** `cpex keygen`. */
export async function keygenCommand(argv: string[], io: NativeCliIo): Promise<number> {
  try {
    const { values, positionals } = parse('keygen', argv, {
      out: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (values.help) {
      io.out(`${keygenHelp}\n`);
      return 0;
    }
    if (positionals.length)
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `cpex keygen: unexpected argument ${JSON.stringify(positionals[0])}`,
      );
    const prefix = path.resolve(io.cwd, (values.out as string | undefined) ?? 'cpex-signing');
    const keyFile = `${prefix}.key`;
    const pubFile = `${prefix}.pub`;
    if (!values.force) {
      for (const f of [keyFile, pubFile])
        if (existsSync(f))
          throw new CpexError('CPEX_ERR_CONFIG_INVALID', `${f} exists; pass --force to overwrite it`);
    }
    const pair = generateKeyPair();
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(pubFile, pair.publicKeyPem);
    io.out(
      `private key: ${keyFile} (keep it secret)\npublic key:  ${pubFile}\nkey id:      ${pair.keyId}\nbase64:      ${pair.publicKeyBase64}\n\nplugin_settings:\n  trusted_keys:\n    - ${pair.publicKeyBase64}\n`,
    );
    return 0;
  } catch (e) {
    return fail(io, e);
  }
}

/** `cpex sign`. */
export async function signCommand(argv: string[], io: NativeCliIo): Promise<number> {
  try {
    const { values, positionals } = parse('sign', argv, { key: { type: 'string' }, out: { type: 'string' } });
    if (values.help) {
      io.out(`${signHelp}\n`);
      return 0;
    }
    if (positionals.length !== 1)
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        'cpex sign: expected exactly one <library> (see cpex sign --help)',
      );
    if (typeof values.key !== 'string')
      throw new CpexError('CPEX_ERR_INVALID_ARGUMENT', 'cpex sign: --key PRIVATE.key is required');
    const lib = path.resolve(io.cwd, positionals[0] as string);
    let pem: string;
    try {
      pem = readFileSync(path.resolve(io.cwd, values.key), 'utf8');
    } catch (e) {
      throw new CpexError(
        'CPEX_ERR_CONFIG_READ',
        `cannot read the private key ${values.key}: ${(e as Error).message}`,
      );
    }
    let sig: string;
    try {
      sig = signFile(lib, pem);
    } catch (e) {
      if (e instanceof CpexError) throw e;
      throw new CpexError('CPEX_ERR_CONFIG_READ', `cannot sign ${lib}: ${(e as Error).message}`);
    }
    const out = typeof values.out === 'string' ? path.resolve(io.cwd, values.out) : signaturePath(lib);
    writeFileSync(out, `${sig}\n`);
    const { createPublicKey } = await import('node:crypto');
    const pub = createPublicKey(pem);
    io.out(`signed ${lib}\nsignature: ${out}\nkey id:    ${keyId(pub)}\n`);
    return 0;
  } catch (e) {
    return fail(io, e);
  }
}

/** The commands `cpex` adds when @cpex/host-native is installed. */
export const cliCommands: NativeCliCommand[] = [
  {
    name: 'keygen',
    summary: 'create an ed25519 key pair for signing native plugin libraries',
    help: keygenHelp,
    run: keygenCommand,
  },
  {
    name: 'sign',
    summary: 'write <library>.sig, a detached ed25519 signature of a native plugin',
    help: signHelp,
    run: signCommand,
  },
];
