import type { Sink } from "../pipeline/sink.js";

/**
 * A process with `publisher: false` has no store: its spool never lets it take events (it never
 * holds the lease), so this is never asked to send.
 */
export const spoolWriterSink: Sink = {
  description: "the spool's publisher (this process only writes: publisher false)",
  send: async () => ({
    ok: false,
    retry: true,
    reason: "this process only writes to the spool (option publisher is false)",
  }),
};
