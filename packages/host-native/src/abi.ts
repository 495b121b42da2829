/**
 * The C ABI of `include/cpex_plugin.h`, bound with koffi: the version constants, the interface
 * hash, and `openLibrary()` which checks the manifest before any plugin code runs.
 */
import { createRequire } from 'node:module';
import { CpexError } from '@cpex/core/host';

/** The ABI version this host speaks (`CPEX_ABI_VERSION`). */
export const ABI_VERSION = 1;
/** The MessagePack request/result schema version (`CPEX_WIRE_SCHEMA_VERSION`). */
export const WIRE_SCHEMA_VERSION = 1;

/** Status codes of the ABI. */
export const STATUS = { OK: 0, ERROR: 1, BAD_REQUEST: 2, CANCELLED: 3 } as const;

/** 64-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** The interface hash a library must declare: FNV-1a 64 of "cpex_plugin abi=<abi> wire=<wire>". */
export function interfaceHash(abi = ABI_VERSION, wire = WIRE_SCHEMA_VERSION): bigint {
  return fnv1a64(`cpex_plugin abi=${abi} wire=${wire}`);
}

/** The library's manifest, as read and checked at load. */
export interface NativeManifest {
  abiVersion: number;
  interfaceHash: string;
  name: string;
  version: string;
  hooks: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: koffi's typings are loose by design.
type Koffi = any;
let koffiModule: Koffi | undefined;

/** koffi, loaded lazily with a clear error when it is missing (heavy native module). */
export function koffi(): Koffi {
  if (koffiModule) return koffiModule;
  try {
    koffiModule = createRequire(import.meta.url)('koffi');
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      'the native host needs the koffi package (a dependency of @cpex/host-native); reinstall it',
      { cause: e },
    );
  }
  return koffiModule;
}

let manifestType: unknown;
function manifestStruct(): unknown {
  manifestType ??= koffi().struct({
    abi_version: 'uint32_t',
    hook_count: 'uint32_t',
    interface_hash: 'uint64_t',
    name: 'const char *',
    version: 'const char *',
    hooks: 'void *',
  });
  return manifestType;
}

/** A koffi function with its `.async` form. */
export interface KoffiFn {
  (...args: unknown[]): unknown;
  async(...args: unknown[]): void;
}

/** An opened, checked library: its manifest and the bound ABI functions. */
export interface NativeLibrary {
  readonly path: string;
  readonly manifest: NativeManifest;
  readonly init: KoffiFn;
  readonly invoke: KoffiFn;
  readonly free: KoffiFn;
  readonly shutdown: KoffiFn;
  unload(): void;
}

const PROTOTYPES = {
  manifest: 'const void *cpex_plugin_manifest(void)',
  init: 'int32_t cpex_plugin_init(const uint8_t *config, size_t config_len, _Out_ void **state, _Out_ void **err, _Out_ size_t *err_len)',
  invoke:
    'int32_t cpex_plugin_invoke(void *state, const uint8_t *request, size_t request_len, void *cancel, _Out_ void **out, _Out_ size_t *out_len)',
  free: 'void cpex_plugin_free(void *ptr, size_t len)',
  shutdown: 'void cpex_plugin_shutdown(void *state)',
} as const;

export function loadError(path: string, message: string, cause?: unknown, plugin?: string): CpexError {
  return new CpexError('CPEX_ERR_PLUGIN_LOAD', `native library ${path}: ${message}`, {
    ...(plugin ? { plugin } : {}),
    ...(cause ? { cause } : {}),
    details: { path },
  });
}

/** A manifest as read from memory (in this process, or by an isolation: process child). */
export interface RawManifest {
  abi_version: number;
  /** Absent when abi_version differs: nothing else is read then. */
  interface_hash?: number | bigint | string;
  hook_count?: number;
  name?: string | null;
  version?: string | null;
  hooks?: ReadonlyArray<string | null>;
}

/** Checks a manifest: ABI version first (nothing else is trusted when it differs), then the hash. */
export function validateManifest(path: string, raw: RawManifest, plugin?: string): NativeManifest {
  const abi = raw.abi_version;
  if (abi !== ABI_VERSION) {
    throw new CpexError(
      'CPEX_ERR_NATIVE_ABI_MISMATCH',
      `native library ${path}: declares ABI version ${abi}, this host speaks ${ABI_VERSION}; rebuild it against this cpex_plugin.h`,
      { ...(plugin ? { plugin } : {}), details: { path, declared: abi, expected: ABI_VERSION } },
    );
  }
  const declared = BigInt(raw.interface_hash ?? 0);
  const expected = interfaceHash();
  if (declared !== expected) {
    throw new CpexError(
      'CPEX_ERR_NATIVE_INTERFACE_HASH',
      `native library ${path}: interface hash 0x${declared.toString(16)} is not this host's 0x${expected.toString(16)} (ABI ${ABI_VERSION}, wire schema ${WIRE_SCHEMA_VERSION}); it was built against another wire format`,
      {
        ...(plugin ? { plugin } : {}),
        details: { path, declared: `0x${declared.toString(16)}`, expected: `0x${expected.toString(16)}` },
      },
    );
  }
  const count = raw.hook_count ?? raw.hooks?.length ?? 0;
  if (count > 4096) throw loadError(path, `manifest hook_count ${count} is implausible`, undefined, plugin);
  const hooks = (raw.hooks ?? []).map((h, i) => {
    if (typeof h !== 'string' || !h)
      throw loadError(path, `manifest hook ${i} is NULL or empty`, undefined, plugin);
    return h;
  });
  if (typeof raw.name !== 'string' || !raw.name)
    throw loadError(path, 'manifest name is NULL or empty', undefined, plugin);
  return {
    abiVersion: abi,
    interfaceHash: `0x${declared.toString(16)}`,
    name: raw.name,
    version: typeof raw.version === 'string' ? raw.version : '',
    hooks,
  };
}

/** Reads the manifest at `ptr` (in this process) and checks it. */
export function readManifest(path: string, ptr: unknown, plugin?: string): NativeManifest {
  const k = koffi();
  if (ptr === null || ptr === undefined)
    throw loadError(path, 'cpex_plugin_manifest() returned NULL', undefined, plugin);
  const abi = k.decode(ptr, 'uint32_t') as number;
  if (abi !== ABI_VERSION) return validateManifest(path, { abi_version: abi }, plugin);
  const raw = k.decode(ptr, manifestStruct()) as RawManifest & { hooks: unknown; hook_count: number };
  const hooks =
    raw.hook_count === 0 || raw.hooks === null || raw.hook_count > 4096
      ? []
      : (k.decode(raw.hooks, 'const char *', raw.hook_count) as Array<string | null>);
  return validateManifest(path, { ...raw, hooks }, plugin);
}

/**
 * Opens a library with koffi (dlopen), binds the ABI and checks its manifest. Signature checks
 * happen BEFORE this is called (see signature.ts): opening a library runs its constructors.
 */
export function openLibrary(path: string, plugin?: string): NativeLibrary {
  const k = koffi();
  let lib: { func(proto: string): KoffiFn; unload(): void };
  try {
    lib = k.load(path);
  } catch (e) {
    throw loadError(path, `cannot be opened: ${(e as Error).message}`, e, plugin);
  }
  try {
    const fns = {} as Record<keyof typeof PROTOTYPES, KoffiFn>;
    for (const [key, proto] of Object.entries(PROTOTYPES)) {
      try {
        fns[key as keyof typeof PROTOTYPES] = lib.func(proto);
      } catch (e) {
        throw loadError(
          path,
          `does not export ${proto.split('(')[0]!.split(' ').pop()} (${(e as Error).message})`,
          e,
          plugin,
        );
      }
    }
    const manifest = readManifest(path, fns.manifest(), plugin);
    return {
      path,
      manifest,
      init: fns.init,
      invoke: fns.invoke,
      free: fns.free,
      shutdown: fns.shutdown,
      unload: () => lib.unload(),
    };
  } catch (e) {
    // Keep the library mapped: unloading code that may still have threads or atexit handlers is worse.
    throw e;
  }
}
