import { OptionError } from "../core/errors.js";
import { OptionReader, rejectUnknown } from "../core/checks.js";
import { checkTable } from "../core/option-spec.js";
import { STORE_KINDS, storeKinds, storeOf } from "../stores/table.js";
import type { StoreKind } from "../stores/kind.js";
import { DEFAULTS } from "./option-defaults.js";
import { GENERAL_OPTIONS } from "./option-table.js";
import type { EventsForwardOptions, ResolvedFor, ResolvedGeneral, ResolvedOptions, StoreName } from "./options.js";

/** Every option name eventsForward() understands (the general table's and each store's own); anything else is a typo worth reporting. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  ...storeKinds().flatMap(([, kind]) => Object.keys(kind.options)),
  ...Object.keys(GENERAL_OPTIONS),
]);

/** Validates every option once, at start-up; a bad one throws an OptionError that names it. */
export function resolveOptions(options: EventsForwardOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new OptionError("options", "eventsForward() takes an options object");
  }
  try {
    return resolve(options);
  } catch (error) {
    // An options object whose getters throw (a Proxy, say) still fails as an OptionError.
    if (error instanceof OptionError) throw error;
    throw new OptionError("options", `could not be read: ${(error as Error)?.message ?? String(error)}`);
  }
}

function resolve(o: EventsForwardOptions): ResolvedOptions {
  rejectUnknown(o, KNOWN_OPTIONS, "an option of eventsForward()");
  return resolveFor(storeOf(o), o);
}

/** The general options, then the store's own; the other stores' options given anyway are checked too. */
function resolveFor<S extends StoreName>(store: S, given: EventsForwardOptions): ResolvedOptions<S> {
  const kind: StoreKind<S> = STORE_KINDS[store];
  // The store's defaults over the general ones, once: every option reads this one bag.
  const read = new OptionReader(given, { ...DEFAULTS, ...kind.defaults });
  const general: ResolvedGeneral = checkTable(GENERAL_OPTIONS, read, { maxBatchLimit: kind.maxBatchLimit });
  const own = kind.resolve(read, general);
  for (const [name, other] of storeKinds()) if (name !== store) other.unchosen(read);
  const resolved: ResolvedFor<S> = Object.assign({ store }, general, own);
  return resolved;
}
