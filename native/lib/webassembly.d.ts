// The slice of the WebAssembly JS API this package uses. Node 20 has it at runtime, but
// @types/node 20 does not declare it and the DOM lib would bring much more than needed.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  type Imports = Record<string, Record<string, unknown>>;
  type BufferSource = ArrayBufferView | ArrayBuffer;
}
