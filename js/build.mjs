// Build the front end into src/nbchat/static/: the view, one minified ESM file (imported
// from a blob URL, so no chunks) plus one CSS file, which travel once per kernel in the
// runtime model; and each Chat's own `_esm`, the small loader of that view (js/loader.ts).
// `--watch` rebuilds on change.
//
// - KaTeX fonts: woff2 only, as data URLs (nothing is fetched at run time); the renderer
//   registers them in document.head itself, so @font-face rules are stripped from KaTeX's CSS
//   (a shadow root, as in marimo, would not register them anyway) and woff/ttf load as empty.
// - `define.amd` is false: UMD code that sniffs for an AMD loader would otherwise register
//   itself with the host's RequireJS (VS Code, classic Notebook) instead of returning exports.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const watch = process.argv.includes("--watch");

/** KaTeX's stylesheet without its @font-face rules. */
const katexCssWithoutFonts = {
  name: "katex-css-without-fonts",
  setup(build) {
    build.onLoad({ filter: /[\\/]katex[\\/]dist[\\/]katex(\.min)?\.css$/ }, async (args) => {
      const css = await readFile(args.path, "utf8");
      return { contents: css.replace(/@font-face\s*\{[^}]*\}/g, ""), loader: "css" };
    });
  },
};

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: { widget: "js/widget.ts", loader: "js/loader.ts" },
  outdir: "src/nbchat/static",
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  legalComments: "eof",
  define: { "define.amd": "false" },
  loader: { ".woff2": "dataurl", ".woff": "empty", ".ttf": "empty" },
  plugins: [katexCssWithoutFonts],
  metafile: true,
  logLevel: "warning",
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("watching js/ …");
} else {
  const result = await esbuild.build(options);
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    console.log(`${file}  ${(info.bytes / 1024).toFixed(1)} KiB`);
  }
}
