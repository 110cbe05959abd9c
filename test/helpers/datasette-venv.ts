import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The Datasette the integration tests run: a virtualenv in the project root, made on demand. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const VENV_DIR = join(PROJECT_ROOT, ".venv");
export const DATASETTE_BIN = join(VENV_DIR, "bin", "datasette");
/** The newest 1.0 alpha (or later) from PyPI: the write API the package targets. */
const REQUIREMENT = "datasette>=1.0a0";
const LOCK_DIR = join(PROJECT_ROOT, ".venv.lock");
const LOCK_WAIT_MS = 10 * 60_000;

/** "1.0a41" when a usable Datasette 1.x is installed in the virtualenv, else undefined. */
export function installedDatasetteVersion(): string | undefined {
  if (!existsSync(DATASETTE_BIN)) return undefined;
  try {
    const out = execFileSync(DATASETTE_BIN, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const version = /version\s+(\S+)/.exec(out)?.[1];
    return version !== undefined && Number.parseInt(version, 10) >= 1 ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `.venv` holds Datasette 1.x; fast when it already does. A lock directory keeps two
 * processes (a test run and `npm run setup:datasette`, say) from building the venv at once.
 */
export async function ensureDatasetteVenv(log: (message: string) => void = console.log): Promise<string> {
  const ready = installedDatasetteVersion();
  if (ready !== undefined) return ready;
  await acquireLock();
  try {
    // Another process may have finished the job while we waited for the lock.
    const done = installedDatasetteVersion();
    if (done !== undefined) return done;
    const python = process.env.PYTHON ?? "python3";
    log(`Creating the Datasette virtualenv in ${VENV_DIR} (${REQUIREMENT}, about a minute)...`);
    const run = (file: string, args: string[]) => execFileSync(file, args, { stdio: ["ignore", "inherit", "inherit"] });
    run(python, ["-m", "venv", VENV_DIR]);
    run(join(VENV_DIR, "bin", "python"), [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      "--pre",
      REQUIREMENT,
    ]);
    const version = installedDatasetteVersion();
    if (version === undefined)
      throw new Error(
        `pip installed ${REQUIREMENT} into ${VENV_DIR}, but ${DATASETTE_BIN} --version does not report 1.x`,
      );
    log(`Datasette ${version} is ready in ${VENV_DIR}`);
    return version;
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** mkdir is atomic: whoever creates the directory holds the lock; a dead holder's lock is taken over. */
async function acquireLock(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, "pid"), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!holderAlive()) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${LOCK_DIR}: another process is building the Datasette virtualenv`);
    await delay(500);
  }
}

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK_DIR, "pid"), "utf8"));
  } catch {
    // The holder made the directory but has not written its pid yet, or died doing so.
    const made = statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs;
    return made !== undefined && Date.now() - made < 10_000;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
