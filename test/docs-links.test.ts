// Every relative link in README.md and docs/*.md leads somewhere: to a file of the repository and
// of the published tarball (the files `npm pack` ships), and a #anchor to a heading of its file.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

interface Link {
  /** The Markdown file, relative to the root. */
  from: string;
  target: string;
  /** The file it leads to, relative to the root. */
  file: string;
  anchor?: string;
}

/** Markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchors for a file's headings: lowercased, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function linksOf(from: string, markdown: string): Link[] {
  const links: Link[] = [];
  for (const [, target] of prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:: not relative
    const [path, anchor] = target!.split("#", 2) as [string, string | undefined];
    const file = path === "" ? from : normalize(join(dirname(from), decodeURIComponent(path)));
    links.push({ from, target: target!, file, anchor: anchor === "" ? undefined : anchor });
  }
  return links;
}

const markdownFiles = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
const links = markdownFiles.flatMap((file) => linksOf(file, readFileSync(join(root, file), "utf8")));
const read = (file: string) => readFileSync(join(root, file), "utf8");

describe("links in README.md and docs/", () => {
  it("finds the links it checks (README links every guide)", () => {
    const fromReadme = new Set(links.filter((link) => link.from === "README.md").map((link) => link.file));
    for (const guide of markdownFiles.filter((file) => file.startsWith("docs/"))) expect(fromReadme).toContain(guide);
  });

  it("lead to files of the repository", () => {
    const broken = links.filter(
      (link) => relative(root, join(root, link.file)).startsWith("..") || !existsSync(join(root, link.file)),
    );
    expect(broken.map((link) => `${link.from}: ${link.target}`)).toEqual([]);
  });

  it("lead to headings of their files (#anchors)", () => {
    const anchors = new Map<string, Set<string>>();
    const broken = links.filter((link) => {
      if (link.anchor === undefined || !link.file.endsWith(".md") || !existsSync(join(root, link.file))) return false;
      if (!anchors.has(link.file)) anchors.set(link.file, anchorsOf(read(link.file)));
      return !anchors.get(link.file)!.has(link.anchor);
    });
    expect(broken.map((link) => `${link.from}: ${link.target}`)).toEqual([]);
  });

  describe("in the published tarball", () => {
    let packed: Set<string>;

    beforeAll(async () => {
      // The files `npm pack` would ship (package.json `files`), without building or writing a tarball.
      const { stdout } = await run("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], { cwd: root });
      packed = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path));
    }, 60_000);

    it("ship README.md and every guide", () => {
      for (const file of markdownFiles) expect(packed).toContain(file);
    });

    it("lead to files that are shipped too", () => {
      const broken = links.filter(
        (link) => !packed.has(link.file) && ![...packed].some((path) => path.startsWith(`${link.file}/`)),
      );
      expect(broken.map((link) => `${link.from}: ${link.target}`)).toEqual([]);
    });
  });
});

describe("the link checker itself", () => {
  it("reads links, skips code and absolute URLs, and resolves paths from the file's folder", () => {
    const found = linksOf(
      "docs/a.md",
      "[x](b.md#one) [y](../README.md) `[no](c.md)` [web](https://example.com)\n```\n[no](d.md)\n```\n[self](#here)",
    );
    expect(found.map((link) => [link.file, link.anchor])).toEqual([
      ["docs/b.md", "one"],
      ["README.md", undefined],
      ["docs/a.md", "here"],
    ]);
  });

  it("makes GitHub's anchors", () => {
    expect([
      ...anchorsOf("# Title\n## The publisher sidecar: `events-forward publish`\n## Title\n```\n# not a heading\n```"),
    ]).toEqual(["title", "the-publisher-sidecar-events-forward-publish", "title-1"]);
  });
});
