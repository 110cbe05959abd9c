/**
 * Node's built-in modules that only some paths need, loaded on first use instead of at import:
 * node:crypto alone costs `import("events-forward")` about a third of its time, and a serverless
 * function pays that on every cold start. process.getBuiltinModule() loads them synchronously
 * on Node (20.16 and later), Bun, Deno and Workers (nodejs_compat).
 */
type Builtins = {
  "node:crypto": typeof import("node:crypto");
  "node:zlib": typeof import("node:zlib");
};

export function builtin<Name extends keyof Builtins>(name: Name): Builtins[Name] {
  const load = (globalThis.process as { getBuiltinModule?: (id: string) => unknown } | undefined)?.getBuiltinModule;
  const module = typeof load === "function" ? load.call(globalThis.process, name) : undefined;
  if (module === undefined) throw new Error(`this runtime does not provide ${name}, which events-forward needs here`);
  return module as Builtins[Name];
}
