import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { dashboardCommand } from "../../src/cli/dashboard.js";
import { freePort, listening } from "./datasette.js";
import { waitFor } from "./wait.js";

export interface DashboardDatasette {
  version: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The page's path, as the command printed it. */
  pagePath: string;
  /** What the command printed. */
  printed: string;
  stop(): Promise<void>;
}

/**
 * Runs `events-forward dashboard --out DIR/dashboard` with `bin`'s Datasette first on PATH, then
 * the very command it printed (in DIR, where `<database>.db` is), on a free loopback port;
 * `extraArgs` go after it (a later `--setting` wins).
 */
export async function serveDashboard(
  bin: string,
  dir: string,
  options: { database?: string; table?: string; extraArgs?: string[] } = {},
): Promise<DashboardDatasette> {
  let printed = "";
  const path = process.env.PATH;
  process.env.PATH = `${dirname(bin)}:${path}`;
  let code: number;
  try {
    code = dashboardCommand(
      [
        "--out",
        join(dir, "dashboard"),
        ...(options.database ? ["--database", options.database] : []),
        ...(options.table ? ["--table", options.table] : []),
      ],
      (text) => (printed += text),
    );
  } finally {
    process.env.PATH = path;
  }
  if (code !== 0) throw new Error(`events-forward dashboard exited ${code}`);
  const command = /^ {2}(datasette .*)$/m.exec(printed)?.[1];
  const pagePath = /open http:\/\/127\.0\.0\.1:8001(\S+)/.exec(printed)?.[1];
  const version = /for the Datasette (\S+) on PATH/.exec(printed)?.[1];
  if (command === undefined || pagePath === undefined || version === undefined)
    throw new Error(`unexpected output:\n${printed}`);
  const [, ...args] = command.split(" ");
  // A free port can be taken by someone else before Datasette binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      const { url, stop } = await start(bin, dir, [...args, ...(options.extraArgs ?? [])], version);
      return { version, url, pagePath, printed, stop };
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

/** Starts `bin args` in `dir` on a free port; resolves once this process answers there. */
async function start(bin: string, dir: string, args: string[], version: string) {
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(bin, [...args, "--host", "127.0.0.1", "--port", String(port)], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  child.stdout!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (running) child.kill("SIGTERM");
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (!running) throw new Error(`Datasette exited while starting:\n${output}`);
        // Ours, not another test's server that took the port first (its answer would pass the fetch).
        if (!listening(output, port)) return false;
        return (await fetch(`${url}/-/versions.json`).catch(() => undefined))?.ok === true;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `Datasette ${version} answering on port ${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
