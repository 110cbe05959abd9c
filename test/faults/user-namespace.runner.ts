// For a user who is not root (vitest.config.ts includes this file only then): runs each disk-full
// test in a nested vitest inside an unprivileged user and mount namespace, where the user is root
// and the test mounts its real tmpfs. Where the kernel allows no such namespace, it fails with one
// line saying so.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { DISK_TESTS } from "./disk-tests.js";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const vitest = new URL("../../node_modules/vitest/vitest.mjs", import.meta.url).pathname;
const UNSHARE = ["--user", "--map-root-user", "--mount"];

function assertUserNamespaces(): void {
  try {
    execFileSync("unshare", [...UNSHARE, "true"], { stdio: "pipe" });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim() || (error as Error).message;
    throw new Error(
      `the disk-full tests need root or an unprivileged user namespace, and this system allows neither (unshare ${UNSHARE.join(" ")}: ${stderr.replace(/\s+/g, " ")}); see docs/troubleshooting.md`,
    );
  }
}

function withoutColor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _, ...rest } = env;
  return rest;
}

test.each(DISK_TESTS)(
  "%s, in an unprivileged user and mount namespace",
  async (file) => {
    assertUserNamespaces();
    // --configLoader runner: the config is not bundled into a temporary file in node_modules, which
    // the namespace's root may not be allowed to write.
    const args = [
      ...UNSHARE,
      process.execPath,
      vitest,
      "run",
      "--configLoader",
      "runner",
      "--config",
      "test/faults/disk.vitest.config.ts",
      file,
    ];
    const result = await run("unshare", args, { cwd: root, env: { ...withoutColor(process.env), NO_COLOR: "1" } }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        output: `${error.stdout ?? ""}${error.stderr ?? ""}`,
      }),
    );
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Tests\s+\d+ passed/);
  },
  240_000,
);
