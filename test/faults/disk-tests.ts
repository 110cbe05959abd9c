// Which files run the two disk-full tests, for vitest.config.ts and disk.vitest.config.ts. They
// mount a tmpfs, which needs root. As root they run as they are; as any other user, the runner
// below runs them instead, in a nested vitest inside an unprivileged user and mount namespace
// (`unshare --user --map-root-user --mount`), where that user is root and may mount a tmpfs.
export const DISK_TESTS = ["test/faults/spool-disk-full.test.ts", "test/faults/spool-small-disk.test.ts"];
export const USER_NAMESPACE_RUNNER = "test/faults/user-namespace.runner.ts";

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The files that run the disk-full tests for this user. */
export function diskTestFiles(): string[] {
  return isRoot() ? DISK_TESTS : [USER_NAMESPACE_RUNNER];
}
