// A real, small tmpfs for the disk-full tests. Mounting needs root: the real one, or the root of
// an unprivileged user and mount namespace, where a user who is not root runs these tests
// (test/faults/disk-tests.ts). Nothing is left behind: release() unmounts and removes the folder.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  path: string;
  release(): void;
}

/** Mounts a tmpfs of `size` (such as "8m") for `what` (the test's name, for the error). */
export function mountTmpfs(size: string, what: string): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), "events-forward-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path], { stdio: "pipe" });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim() || (error as Error).message;
    throw new Error(
      `the ${what} cannot mount a ${size} tmpfs (${stderr.replace(/\s+/g, " ")}): run it as root, or through npm test, ` +
        "which runs it in an unprivileged user namespace where the kernel allows one (docs/troubleshooting.md)",
    );
  }
  return {
    path,
    release: () => {
      execFileSync("umount", [path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
