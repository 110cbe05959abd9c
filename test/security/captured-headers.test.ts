import { createHmac } from "node:crypto";
import express from "express";
import request from "supertest";
import { describe, expect, test } from "vitest";
import { eventsForward, OptionError, type EventsForwardOptions } from "../../src/index.js";
import { NEVER_CAPTURED_HEADERS } from "../../src/http/request-privacy.js";
import { useLoopbackStore } from "../helpers/forward-to.js";
import { waitFor } from "../helpers/wait.js";

// Issue 28, item 8: captureHeaders must not record a credential, a raw client IP past the option
// that hashes it, or a control character.

const IP_KEY = "ip-key-SeCrEt-0123456789";
const t = useLoopbackStore();

function hash(ip: string): string {
  return createHmac("sha256", IP_KEY).update(ip).digest("hex").slice(0, 16);
}

function refusal(options: EventsForwardOptions): OptionError {
  try {
    void eventsForward({ apiUrl: t.store.url(), logger: false, ...options }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error("no OptionError");
}

async function recorded(
  options: EventsForwardOptions,
  headers: Record<string, string>,
): Promise<Record<string, unknown>> {
  const h = t.forward({ requestEvents: true, ...options });
  const app = express();
  app.use(h.events);
  app.get("/", (_req, res) => {
    res.send("ok");
  });
  await request(app).get("/").set(headers).expect(200);
  await waitFor(() => h.events.stats().queued === 1, { what: "the request event" });
  await h.events.flush();
  const row = [...t.store.table.values()].find((r) => r.event === "request")!;
  return JSON.parse(row.properties) as Record<string, unknown>;
}

describe("captureHeaders", () => {
  test.each([
    "x-api-key",
    "X-Auth-Token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-amz-security-token",
    "proxy-authorization",
    "set-cookie",
    "x-access-token",
    "x-session-id",
    "x-hub-signature-256",
    "x-client-secret",
  ])("refuses %s, which carries a credential, at start-up", (name) => {
    const error = refusal({ captureHeaders: ["user-agent", name] });
    expect(error.option).toBe("captureHeaders");
    expect(error.message).toContain("never recorded");
  });

  test("the list of refused names is one list, and names each of the issue's", () => {
    for (const name of ["authorization", "cookie", "x-api-key", "x-amz-security-token"])
      expect(NEVER_CAPTURED_HEADERS).toContain(name);
  });

  test.each(["x-forwarded-for", "x-real-ip", "forwarded", "cf-connecting-ip"])(
    "refuses %s without clientIpKey (it holds a client IP)",
    (name) => {
      const error = refusal({ captureHeaders: [name] });
      expect(error.option).toBe("captureHeaders");
      expect(error.message).toContain("clientIpKey");
    },
  );

  test("with clientIpKey, records the IP headers through the same HMAC as the client IP, each address apart", async () => {
    const p = await recorded(
      { clientIpKey: IP_KEY, captureHeaders: ["x-forwarded-for", "x-real-ip", "cf-connecting-ip", "forwarded"] },
      {
        "x-forwarded-for": "203.0.113.7, 198.51.100.2",
        "x-real-ip": "203.0.113.7",
        "cf-connecting-ip": "2001:db8::1",
        forwarded: "for=203.0.113.7;proto=https",
      },
    );
    expect(p.headers).toEqual({
      "x-forwarded-for": `${hash("203.0.113.7")}, ${hash("198.51.100.2")}`,
      "x-real-ip": hash("203.0.113.7"),
      "cf-connecting-ip": hash("2001:db8::1"),
      forwarded: hash("for=203.0.113.7;proto=https"),
    });
    expect(JSON.stringify(p)).not.toMatch(/203\.0\.113\.7|198\.51|2001:db8/);
  });

  test("drops C1 control characters from values, as it does C0 ones", async () => {
    const p = await recorded({ captureHeaders: ["user-agent"] }, { "user-agent": "agent\u009b2J\u0085/1.0" });
    expect((p.headers as Record<string, string>)["user-agent"]).not.toMatch(/[\u0080-\u009f]/);
    expect((p.headers as Record<string, string>)["user-agent"]).toContain("agent");
  });
});
