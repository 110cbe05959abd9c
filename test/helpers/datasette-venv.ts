import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The Datasette the integration tests run: a virtualenv in the project root, made on demand. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const VENV_DIR = join(PROJECT_ROOT, ".venv");
export const DATASETTE_BIN = join(VENV_DIR, "bin", "datasette");
/** The stable Datasette (`pip install datasette` gives 0.65): the dashboard is tested on both. */
export const VENV_065_DIR = join(PROJECT_ROOT, ".venv-0.65");
export const DATASETTE_065_BIN = join(VENV_065_DIR, "bin", "datasette");
const LOCK_WAIT_MS = 10 * 60_000;

interface Venv {
  dir: string;
  /** What pip installs, e.g. "datasette>=1.0a0". */
  requirement: string;
  /** Whether an installed version is the one wanted. */
  wanted: (version: string) => boolean;
  pre: boolean;
}

/** The newest 1.0 alpha (or later) from PyPI: the write API the package targets. */
const ALPHA: Venv = {
  dir: VENV_DIR,
  requirement: "datasette>=1.0a0",
  wanted: (v) => Number.parseInt(v, 10) >= 1,
  pre: true,
};
const STABLE: Venv = { dir: VENV_065_DIR, requirement: "datasette<1", wanted: (v) => v.startsWith("0."), pre: false };

/** "1.0a41" when a usable Datasette 1.x is installed in the virtualenv, else undefined. */
export function installedDatasetteVersion(): string | undefined {
  return installedVersion(ALPHA);
}

function installedVersion(venv: Venv): string | undefined {
  const bin = join(venv.dir, "bin", "datasette");
  if (!existsSync(bin)) return undefined;
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const version = /version\s+(\S+)/.exec(out)?.[1];
    return version !== undefined && venv.wanted(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `.venv` holds Datasette 1.x; fast when it already does. A lock directory keeps two
 * processes (a test run and `npm run setup:datasette`, say) from building the venv at once.
 */
export async function ensureDatasetteVenv(log: (message: string) => void = console.log): Promise<string> {
  return ensureVenv(ALPHA, log);
}

/** Makes sure `.venv-0.65` holds the stable Datasette 0.x (the dashboard's tests run on both). */
export async function ensureDatasette065Venv(log: (message: string) => void = console.log): Promise<string> {
  return ensureVenv(STABLE, log);
}

async function ensureVenv(venv: Venv, log: (message: string) => void): Promise<string> {
  const ready = installedVersion(venv);
  if (ready !== undefined) return ready;
  const lock = `${venv.dir}.lock`;
  await acquireLock(lock);
  try {
    // Another process may have finished the job while we waited for the lock.
    const done = installedVersion(venv);
    if (done !== undefined) return done;
    const python = process.env.PYTHON ?? "python3";
    log(`Creating the Datasette virtualenv in ${venv.dir} (${venv.requirement}, about a minute)...`);
    const run = (file: string, args: string[]) => execFileSync(file, args, { stdio: ["ignore", "inherit", "inherit"] });
    run(python, ["-m", "venv", venv.dir]);
    run(join(venv.dir, "bin", "python"), [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      ...(venv.pre ? ["--pre"] : []),
      venv.requirement,
    ]);
    const version = installedVersion(venv);
    if (version === undefined)
      throw new Error(
        `pip installed ${venv.requirement} into ${venv.dir}, but its datasette --version is not the one wanted`,
      );
    log(`Datasette ${version} is ready in ${venv.dir}`);
    return version;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** mkdir is atomic: whoever creates the directory holds the lock; a dead holder's lock is taken over. */
async function acquireLock(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!holderAlive(lock)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${lock}: another process is building the Datasette virtualenv`);
    await delay(500);
  }
}

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    // The holder made the directory but has not written its pid yet, or died doing so.
    const made = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
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
