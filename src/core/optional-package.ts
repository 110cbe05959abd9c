import { OptionError } from "./errors.js";

/**
 * Loads an optional package with `load` (createRequire's require); a failure becomes an
 * OptionError naming the option that needs it and what to do: install it, or why it did not load.
 */
export function requireOptional<T>(
  option: string,
  id: string,
  load: (id: string) => unknown,
  needer = "",
  label = id,
): T {
  try {
    return load(id) as T;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const problem =
      code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND"
        ? `${needer}needs the optional package ${label}, which is not installed: npm install ${id}`
        : `${needer}needs the package ${id}, which failed to load: ${(error as Error).message}`;
    throw new OptionError(option, problem, { cause: error });
  }
}
