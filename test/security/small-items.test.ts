import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { eventsForward, OptionError } from "../../src/index.js";
import { loadPublisherConfig } from "../../src/config/ini.js";
import { FAST } from "../helpers/fast-options.js";
import { useTempDirs } from "../helpers/temp-dir.js";

// Issue 28, item 11: an answer's size, a token read from a secret file, a configuration's typo.

const tempDir = useTempDirs();
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

describe("a store's answer", () => {
  test("is read up to 64 KiB: a huge error page is not read to its end", async () => {
    const MB = 1024 * 1024;
    let answered: ServerResponse | undefined;
    const ended = new Promise<boolean>((resolve) => {
      const server = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          answered = res;
          res.writeHead(400, { "content-type": "text/html" });
          // 256 MB of page, written as the client reads it: only a client reading it all lets it finish.
          let sent = 0;
          const more = () => {
            while (sent < 256 * MB) {
              sent += MB;
              if (!res.write(Buffer.alloc(MB, 0x78))) return void res.once("drain", more);
            }
            res.end();
          };
          res.on("close", () => resolve(res.writableFinished));
          more();
        });
      });
      server.listen(0, "127.0.0.1");
      closing.push(() => new Promise((done) => server.close(done)));
      server.once("listening", () => {
        const { port } = server.address() as AddressInfo;
        const events = eventsForward({
          apiUrl: `http://127.0.0.1:${port}/data/-/create`,
          ...FAST,
          requestEvents: false,
          logger: false,
          requestTimeoutMs: 60_000,
        });
        closing.push(() => events.close({ timeoutMs: 100 }));
        events.put({ event: "refused" });
        void events.flush();
      });
    });
    // The client stopped reading and closed the connection before the page was all sent.
    expect(await ended).toBe(false);
    expect(answered).toBeDefined();
  });
});

describe("a token", () => {
  test.each(["dstok_abc\n", "dstok_abc\r\n", " dstok_abc", "dstok_abc\t"])(
    "with whitespace around it (%j, from a secret file) is refused at start-up, without repeating it",
    (token) => {
      for (const apiToken of [token, { $env: "EF_TEST_TOKEN" }]) {
        process.env.EF_TEST_TOKEN = token;
        try {
          eventsForward({ apiUrl: "https://d.example/db/-/create", apiToken, logger: false });
          throw new Error("taken");
        } catch (error) {
          expect(error).toBeInstanceOf(OptionError);
          expect((error as OptionError).option).toBe("apiToken");
          expect((error as Error).message).toMatch(/whitespace|newline/);
          expect((error as Error).message).not.toContain("dstok_abc");
        } finally {
          delete process.env.EF_TEST_TOKEN;
        }
      }
    },
  );
});

describe("a JSON configuration", () => {
  test("that does not parse is an OptionError that does not echo the text around the error", () => {
    const file = join(tempDir(), "publisher.json");
    writeFileSync(file, '{"event-publisher:main": {"api_token": dstok_SECRETVALUE0123456789, "spool": "/x.db"}}');
    try {
      loadPublisherConfig(file, "main");
      throw new Error("parsed");
    } catch (error) {
      expect(error).toBeInstanceOf(OptionError);
      expect((error as Error).message).toContain("not valid JSON");
      expect((error as Error).message).not.toMatch(/SECR|dstok|api_token/);
      expect((error as Error).message).toMatch(/line 1, column \d+/);
    }
  });
});
