/**
 * Express changes the prototype of every `req` and `res` (`Object.setPrototypeOf`, so that mounted
 * apps get their own methods). Before V8 13 (Node 20 and 22), V8 then gives each of those objects
 * a hidden class of its own as properties are added (nodejs/node#37457), so no property access on
 * them is ever cached: each read or write costs 0.3 to 3 µs where it costs some 30 ns on Koa's
 * objects. An object in dictionary mode keeps its properties in a hash table behind a hidden class
 * that all such objects share, so the middleware's writes (`req.events`, the request id, the close
 * listener) are cheap again, and so are Express's own.
 */
const V8_SHARES_THEIR_HIDDEN_CLASSES = Number(process.versions.v8.split(".")[0]) >= 13;

const FIRST = Symbol("events-forward.dictionary-mode.first");
const SECOND = Symbol("events-forward.dictionary-mode.second");

/** Whether switching Express's objects to dictionary mode can help on this Node. */
export function expressObjectsNeedDictionaryMode(): boolean {
  return !V8_SHARES_THEIR_HIDDEN_CLASSES;
}

/**
 * Deleting a property other than the last one added is what makes V8 switch an object to
 * dictionary mode; the second delete leaves no trace of either. Nothing else about the object
 * changes. An object that takes no new properties (frozen, say) is left as it is, and so is one
 * that refuses them some other way (a Proxy): the switch only saves time, it never fails a request.
 */
export function toDictionaryMode(object: object): void {
  try {
    if (!Object.isExtensible(object)) return;
    const o = object as Record<symbol, unknown>;
    o[FIRST] = undefined;
    o[SECOND] = undefined;
    delete o[FIRST];
    delete o[SECOND];
  } catch {
    // Left as it was.
  }
}
