// Build the prebuilt JupyterLab 4 / Notebook 7 extension into src/nbchat/labextension/.
// Calls @jupyterlab/builder's script directly: no Python (jupyterlab) needed at build time,
// no network. The builder wants a "core" package.json (the host app's shared packages); a
// stub is enough because package.json's jupyterlab.sharedPackages declares every host
// package we import (@jupyterlab/notebook, @jupyterlab/cells, …) as a non-bundled singleton.
// An undeclared @jupyterlab import would fail the build (it is not in node_modules), not ship
// a copy.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const builder = path.join(
  path.dirname(require.resolve("@jupyterlab/builder/package.json")),
  "lib",
  "build-labextension.js",
);
const core = mkdtempSync(path.join(tmpdir(), "nbchat-labext-core-"));
writeFileSync(
  path.join(core, "package.json"),
  JSON.stringify({ name: "core-stub", dependencies: {}, jupyterlab: { singletonPackages: [] } }),
);
const args = [builder, "--core-path", core, ...process.argv.slice(2), root];
const run = spawnSync(process.execPath, args, { stdio: "inherit", cwd: root });
rmSync(core, { recursive: true, force: true });
process.exit(run.status ?? 1);
