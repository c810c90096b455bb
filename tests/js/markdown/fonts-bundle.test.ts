// @vitest-environment node
// (esbuild's API needs Node's own TextEncoder, which a jsdom environment replaces.)
// Bundled with the dataurl loader the view's build uses, every KaTeX font is inlined.

import { build } from "esbuild";
import { expect, test } from "vitest";

test("every font is inlined as a data URL (no file to serve, nothing to fetch)", async () => {
  const result = await build({
    entryPoints: [new URL("../../../js/markdown/fonts.ts", import.meta.url).pathname],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    loader: { ".woff2": "dataurl" },
    logLevel: "silent",
  });
  const js = result.outputFiles[0]?.text ?? "";
  expect(js.match(/data:font\/woff2;base64,/g) ?? []).toHaveLength(20);
  expect(js).not.toMatch(/fonts\/KaTeX_[A-Za-z0-9-]+\.woff2/);
});
