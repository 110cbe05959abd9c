import { describe, expect, test } from "vitest";
import { redactSecrets } from "../../src/core/secret.js";
import { useLoopbackStore } from "../helpers/forward-to.js";

// Issue 28, item 4: a store's answer is redacted before anything cuts it, and in every form a
// proxy's error page may echo the token in.

/** Characters that URL encoding and JSON escaping both change. */
const TOKEN = 'dstok_S3cr3t/t0k+en="q"\\x==';
const t = useLoopbackStore();

/** Everything the drop of one refused batch told the app: the reasons handed to onDrop and the log. */
async function toldAfter(body: string, contentType = "text/html"): Promise<string> {
  t.store.behave = () => ({ status: 400, headers: { "content-type": contentType }, body });
  const h = t.forward({ apiToken: TOKEN });
  h.events.put({ event: "refused" });
  await h.events.flush();
  expect(h.drops).toHaveLength(1);
  return [...h.drops.map((d) => d.reason), ...h.logger.messages].join("\n");
}

/** No run of 6 characters of the token (nor of its encoded forms) is in `text`. */
function expectNoPieceOfToken(text: string): void {
  for (const form of [TOKEN, encodeURIComponent(TOKEN), JSON.stringify(TOKEN).slice(1, -1)]) {
    for (let i = 0; i + 6 <= form.length; i++) expect(text).not.toContain(form.slice(i, i + 6));
  }
}

describe("a store's answer that echoes the token", () => {
  test("is redacted before it is cut: a token across the 500th character leaves no piece behind", async () => {
    // The token starts at the 490th character: a cut at 500 would keep its first 10.
    const page = `<html><body>${"x".repeat(455)} Authorization: Bearer ${TOKEN} rejected</body></html>`;
    expect(page.indexOf(TOKEN)).toBe(490);
    const told = await toldAfter(page);
    expect(told).toContain("Datasette answered HTTP 400");
    expectNoPieceOfToken(told);
  });

  test("is redacted in its URL-encoded and JSON-escaped forms too", async () => {
    const page = `{"message":"bad header ${JSON.stringify(`Bearer ${TOKEN}`).slice(1, -1)}","url":"https://x/?token=${encodeURIComponent(TOKEN)}&t=${encodeURIComponent(TOKEN).toLowerCase()}"}`;
    const told = await toldAfter(page, "application/json");
    expect(told).toContain("[redacted]");
    expectNoPieceOfToken(told);
    expect(told.toLowerCase()).not.toContain(encodeURIComponent(TOKEN).toLowerCase());
  });

  test("redactSecrets covers each form", () => {
    const text = `a ${TOKEN} b ${encodeURIComponent(TOKEN)} c ${JSON.stringify(TOKEN)} d`;
    expect(redactSecrets(text, [TOKEN])).toBe('a [redacted] b [redacted] c "[redacted]" d');
  });
});
