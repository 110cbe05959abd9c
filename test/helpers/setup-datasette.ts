// `npm run setup:datasette`: makes the .venv the integration tests start Datasette from.
import { ensureDatasetteVenv } from "./datasette-venv.js";

const version = await ensureDatasetteVenv();
console.log(`datasette ${version}`);
