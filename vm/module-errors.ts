/**
 * Errors of loading and running a module that came from outside this process (loadFilter,
 * `fpl run X.wasm`, a cache entry): each says what was refused and why, and callers can tell
 * them apart by class.
 */

/** Base class: the module could not be loaded or run as an fplc module. */
export class ModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not WebAssembly, or not a module of the shape fplc emits (imports, exports, memory, sections). */
export class ModuleFormatError extends ModuleError {}

/** A field of the module's `fplc` metadata section is missing, of the wrong type or out of range. */
export class ModuleMetadataError extends ModuleError {
  constructor(readonly field: string, readonly reason: string) {
    super(`the module's metadata: ${field}: ${reason}`);
  }
}

/** The module calls an extern this process does not have (neither shipped nor given by the application). */
export class ExternUnavailableError extends ModuleError {
  constructor(readonly extern: string, known: readonly string[]) {
    super(`the module calls extern ${JSON.stringify(extern)}, which is not available; known: ${known.join(', ') || 'none'}`);
  }
}

/**
 * The module calls an extern with effects outside the module (files, the application's
 * buffers, code the application registered) that the caller did not grant.
 */
export class ExternNotGrantedError extends ModuleError {
  constructor(readonly extern: string, readonly config: readonly (string | number)[], why: string) {
    super(`the module calls extern ${extern} with config ${JSON.stringify(config)}, which ${why}; ` +
      `it is bound only when granted: loadFilter(bytes, { allowExterns: [${JSON.stringify(extern)}] }) or fpl run --allow-extern ${extern}`);
  }
}

/** An entry point of a loaded module ran longer than its time limit and was stopped. */
export class ModuleTimeoutError extends ModuleError {
  constructor(readonly entry: string, readonly limitMs: number, where: string) {
    super(`the module's ${entry} did not finish within ${limitMs} ms ${where} and was stopped (a loaded module may loop; ` +
      'modules fplc compiles are fuel-bounded)');
  }
}

/** An entry point trapped (unreachable, a read outside memory, …). */
export class ModuleTrapError extends ModuleError {
  constructor(readonly entry: string, readonly packet: number | undefined, where: string, readonly trap: string) {
    super(`the module trapped in ${entry} ${where}: ${trap}`);
  }
}

/** An entry point returned what the ABI rules out (more results than records, a stop offset outside the batch). */
export class ModuleAbiError extends ModuleError {
  constructor(readonly entry: string, what: string) {
    super(`the module's ${entry} broke the ABI: ${what}`);
  }
}
