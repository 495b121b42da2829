// The WebAssembly JS API as far as this package uses it (the repo's lib setting has no DOM types).
declare namespace WebAssembly {
  type Module = {};
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  type Imports = Record<string, Record<string, unknown>>;
  interface ModuleExportDescriptor {
    name: string;
    kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  }
  const Module: {
    new (bytes: Uint8Array): Module;
    exports(module: Module): ModuleExportDescriptor[];
    customSections(module: Module, name: string): ArrayBuffer[];
  };
  function compile(bytes: Uint8Array): Promise<Module>;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
