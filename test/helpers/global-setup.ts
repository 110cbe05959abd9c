import { ensureDatasette065Venv, ensureDatasetteVenv } from "./datasette-venv.js";

/** Runs once per `vitest run`, before any worker starts: so workers never race to build the venvs. */
export default async function setup(): Promise<void> {
  await ensureDatasetteVenv();
  await ensureDatasette065Venv();
}
