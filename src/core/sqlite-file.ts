import { closeSync, constants, lstatSync, openSync } from "node:fs";
import { OptionError } from "./errors.js";

/** What SQLite keeps beside a database in WAL mode; it creates them with the database's own mode. */
const COMPANIONS = ["", "-wal", "-shm", "-journal"];

/**
 * Before SQLite opens `path`: refuses a symbolic link in the place of the file or of its -wal,
 * -shm or -journal (someone who can write the directory could redirect every event elsewhere)
 * unless `allowSymlink`, and creates a missing file 0600, so the events in it, and the -wal and
 * -shm SQLite makes with the same mode, are for the file's owner only. An existing file keeps its
 * mode: the operator chose it. Every refusal is an OptionError naming `option`.
 */
export function prepareSqliteFile(option: string, path: string, allowSymlink: boolean): void {
  if (path === "" || path === ":memory:" || path.startsWith("file:")) return;
  if (!allowSymlink) {
    for (const suffix of COMPANIONS) {
      if (isSymlink(path + suffix))
        throw new OptionError(
          option,
          `cannot use ${JSON.stringify(path)}: ${JSON.stringify(path + suffix)} is a symbolic link (refused, as it could send the events elsewhere; set allowSymlinks: true if it is yours)`,
        );
    }
  }
  try {
    // O_EXCL: a file (or a link) made in between is not opened through; SQLite then opens what is there.
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return; // SQLite says why in its own words
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // not there (or not reachable: SQLite reports that)
  }
}
