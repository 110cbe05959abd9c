import { OptionError } from "../core/errors.js";
import type { DeadLetterFilter, DeadLetterStore } from "../spool/dead-letters.js";
import { openDeadLetters } from "./spool-access.js";
import { parseSince, type SpoolTarget } from "./spool-target.js";
import { formatAge, table } from "./format.js";
import { printable, terminalJson } from "../core/printable.js";

export interface DeadLetterArgs {
  action: string | undefined;
  json: boolean;
  reason?: string;
  since?: string;
}

/** `events-forward dead-letters list|replay|purge`: prints to `out`; returns the exit code. */
export async function deadLettersCommand(
  target: SpoolTarget,
  args: DeadLetterArgs,
  out: (line: string) => void,
): Promise<number> {
  if (args.action !== "list" && args.action !== "replay" && args.action !== "purge") {
    throw new OptionError(
      "dead-letters",
      `takes list, replay or purge, got ${args.action === undefined ? "nothing" : JSON.stringify(args.action)}`,
    );
  }
  const filter: DeadLetterFilter = { reason: args.reason, since: parseSince(args.since) };
  const store = await openDeadLetters(target);
  try {
    if (args.action === "list") return await list(store, filter, args.json, out);
    const count = args.action === "replay" ? await store.replay(filter) : await store.purge(filter);
    if (args.json) out(JSON.stringify({ [args.action === "replay" ? "replayed" : "purged"]: count }));
    else
      out(
        args.action === "replay"
          ? `${count} dead letter(s) put back into ${target.name} to be sent again`
          : `${count} dead letter(s) removed from ${target.name}`,
      );
    return 0;
  } finally {
    await store.close();
  }
}

async function list(
  store: DeadLetterStore,
  filter: DeadLetterFilter,
  json: boolean,
  out: (line: string) => void,
): Promise<number> {
  const letters = await store.list(filter);
  if (json) {
    out(
      terminalJson(
        letters.map((d) => ({ ...d, at: new Date(d.at).toISOString(), event: JSON.parse(d.json) as unknown })),
      ),
    );
    return 0;
  }
  if (letters.length === 0) {
    out("no dead letters");
    return 0;
  }
  // Grouped by reason, the largest group first; one line a dead letter under its group.
  const groups = new Map<string, typeof letters>();
  for (const letter of letters) groups.set(letter.reason, [...(groups.get(letter.reason) ?? []), letter]);
  const now = Date.now();
  for (const [reason, group] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    out(`${printable(reason)}: ${group.length} event(s); the store said: ${printable(group[0]!.answer)}`);
    out(
      table(
        [
          ["seq", "kept", "attempts", "event"],
          ...group.map((d) => [
            String(d.seq),
            `${formatAge(now - d.at)} ago`,
            String(d.attempts),
            d.json.length > 100 ? `${d.json.slice(0, 97)}...` : d.json,
          ]),
        ],
        "  ",
      ),
    );
  }
  return 0;
}
