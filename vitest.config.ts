// Unit tests run in jsdom: no layout, so scrolling, ResizeObserver and content-visibility are
// covered by the browser benchmarks and the e2e tests instead.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["tests/js/**/*.test.ts"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
