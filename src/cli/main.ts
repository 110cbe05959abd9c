#!/usr/bin/env node
import { parseArgs } from "node:util";
import { OptionError } from "../core/errors.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, eventsForward } from "../events-forward.js";
import type { Logger } from "../core/log.js";
import { readPublisherConfig, withIniKeys } from "../config/ini.js";
import { dashboardCommand } from "./dashboard.js";
import { deadLettersCommand } from "./dead-letters.js";
import { spoolTarget } from "./spool-target.js";
import { statusCommand, watchStatus } from "./status.js";
import { printable } from "../core/printable.js";
import { packageVersion } from "./version.js";

const USAGE = `Usage: events-forward publish --queue-name NAME [--debug] CONFIG
       events-forward --version
       events-forward status SPOOL [--json] [--watch]
       events-forward dead-letters list|replay|purge SPOOL [--reason TEXT] [--since 2h|ISO-TIME] [--json]
       events-forward dashboard --out PATH [--database NAME] [--table NAME] [--force]

SPOOL is one of:
  --queue-name NAME CONFIG          the spool of the sidecar's section (below)
  --spool PATH                      a SQLite spool file
  --spool redis://[:PASSWORD@]HOST:PORT/DB [--key NAME]
                                    a Redis spool (rediss:// for TLS; --key when the spool's key is
                                    not "events-forward"); e.g. --spool "$EVENTS_REDIS_URL"

Delivers the events that apps (option spool, publisher: false) write to a spool: a SQLite
file, or Redis (spool = redis://host:6379/0 or \${EVENTS_REDIS_URL}, with spool.key = NAME).
CONFIG is an INI file with a section [event-publisher:NAME] (or a JSON file with that key):

  [event-publisher:NAME]
  spool = /var/lib/myapp/events-spool.db
  api_url = https://datasette.example.com/data/-/create
  api_token = \${FORWARD_TOKEN}
  metrics.namespace = myapp.events
  metrics.endpoint = 127.0.0.1:8125

or, for a baseplate-style collector, collector.hostname, collector.version, collector.scheme,
key.name and key.secret (= \${EVENT_KEY}) instead of api_url and api_token.

SIGTERM or SIGINT finishes the batch in flight and exits; the rest stays in the spool.

status: events waiting and the oldest one's age, the publisher (host, pid, since when), the last
delivery (and on Redis the last failure), whether the publisher is holding events the store does
not take, the fleet's rate window, dead letters by reason, the capacity. dead-letters: the events
the store refused, kept in the spool (SQLite or Redis); replay puts them back to be sent again
(same ids: rows already written stay once). status and dead-letters work on the spool only: they
never need the store's secret (a section's \${FORWARD_TOKEN} may be unset for them).
See docs/operations.md and docs/redis.md. dashboard: a Datasette dashboard of the events
(docs/dashboard.md).`;

/** The sidecar: `events-forward publish --queue-name NAME CONFIG`, like baseplate's publisher. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === "dashboard") return dashboardCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        "queue-name": { type: "string" },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        spool: { type: "string" },
        key: { type: "string" },
        json: { type: "boolean", default: false },
        watch: { type: "boolean", default: false },
        reason: { type: "string" },
        since: { type: "string" },
        version: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    console.error(`events-forward: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(packageVersion());
    return 0;
  }
  if (positionals[0] === "status" || positionals[0] === "dead-letters") return operate(positionals, values);
  const [command, config, ...extra] = positionals;
  if (command !== "publish" || config === undefined || extra.length > 0 || values["queue-name"] === undefined) {
    console.error(USAGE);
    return 2;
  }
  const logger = cliLogger(values.debug);
  let forwarder;
  try {
    const publisher = readPublisherConfig(config, values["queue-name"]);
    forwarder = withIniKeys(publisher, () =>
      eventsForward({ ...publisher.options, logger, requestEvents: false, shutdownSignals: false }),
    );
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    console.error(error.message);
    return 2;
  }
  console.error(`[events-forward] publishing queue ${values["queue-name"]} (pid ${process.pid})`);
  return new Promise((resolve) => {
    // The forwarder's own timers never keep a process alive; the sidecar must stay up. Its signals
    // are handled here (shutdownSignals: false above): it exits 0 once the batch in flight is done.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = (signal: string) => {
      process.off("SIGTERM", stop).off("SIGINT", stop);
      console.error(`[events-forward] ${signal}: finishing the batch in flight`);
      void forwarder.close({ timeoutMs: DEFAULT_CLOSE_TIMEOUT_MS }).then((result) => {
        clearInterval(keepAlive);
        console.error(
          `[events-forward] stopped: ${result.delivered} event(s) delivered, ${result.spooled ?? 0} left in the spool`,
        );
        resolve(0);
      });
    };
    process.on("SIGTERM", stop).on("SIGINT", stop);
  });
}

/** status and dead-letters: read or change a spool, print, exit. */
async function operate(positionals: string[], values: OperateValues): Promise<number> {
  const [command, ...rest] = positionals;
  const action = command === "dead-letters" ? rest.shift() : undefined;
  const [config, ...extra] = rest;
  const print = (text: string) => console.log(text);
  try {
    if (extra.length > 0) throw new OptionError(command!, `does not take ${extra.join(" ")}`);
    // status and dead-letters work on the spool only, never on the store: its secret is not needed.
    const target = spoolTarget(values, config, true);
    if (command === "status") {
      if (values.watch) return await watchStatus(target, 2_000, (text) => process.stdout.write(text));
      return await statusCommand(target, values.json, print);
    }
    return await deadLettersCommand(
      target,
      { action, json: values.json, reason: values.reason, since: values.since },
      print,
    );
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
}

interface OperateValues {
  "queue-name"?: string;
  spool?: string;
  key?: string;
  json: boolean;
  watch: boolean;
  reason?: string;
  since?: string;
}

function cliLogger(debug: boolean): Logger {
  const stamp = () => new Date().toISOString();
  return {
    warn: (message) => console.error(`${stamp()} [events-forward] ${printable(message)}`),
    error: (message) => console.error(`${stamp()} [events-forward] ${printable(message)}`),
    debug: debug ? (message) => console.error(`${stamp()} [events-forward] debug: ${printable(message)}`) : undefined,
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
