// `npm run setup:datasette`: makes the virtualenvs the integration tests start Datasette from:
// .venv (the 1.0 alpha) and .venv-0.65 (the stable Datasette; the dashboard's tests use both).
import { ensureDatasette065Venv, ensureDatasetteVenv } from "./datasette-venv.js";

const version = await ensureDatasetteVenv();
const stable = await ensureDatasette065Venv();
console.log(`datasette ${version} (.venv), datasette ${stable} (.venv-0.65)`);
