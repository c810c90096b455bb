// Shared by the renderer tests: fixtures, seeded chunkings, what a reader actually sees.
/// <reference types="vite/client" />
// Fixtures come through Vite's `?raw` imports: no Node APIs, so the file type-checks as DOM code.
const fixtures = import.meta.glob<string>("./fixtures/*.md", {
  query: "?raw",
  import: "default",
  eager: true,
});

const nameOf = (key: string): string => key.slice(key.lastIndexOf("/") + 1);

export const fixtureNames = (): string[] => Object.keys(fixtures).map(nameOf).sort();

export function fixture(name: string): string {
  const text = fixtures[`./fixtures/${name}`];
  if (text === undefined) throw new Error(`no fixture ${name}`);
  return text;
}

/**
 * Time limit for tests that stream whole fixtures through jsdom (thousands of renders): they
 * assert no speed, and a busy shared machine must not turn them into failures.
 */
export const STREAMING = { timeout: 180_000 };

/** A small deterministic PRNG (mulberry32), so a failing chunking can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Growing prefixes of `text`, cut into chunks of 1..maxChunk UTF-16 units. */
export function chunkedPrefixes(text: string, seed: number, maxChunk: number): string[] {
  const next = random(seed);
  const prefixes: string[] = [];
  let at = 0;
  while (at < text.length) {
    at = Math.min(text.length, at + 1 + Math.floor(next() * maxChunk));
    prefixes.push(text.slice(0, at));
  }
  return prefixes;
}

/** The visible text outside code and math, where Markdown markers would be raw. */
export function proseText(el: Element): string {
  const clone = el.cloneNode(true) as Element;
  const skipped = ".katex, code, .nbc-code, .nbc-math-pending, .nbc-math-error";
  for (const node of Array.from(clone.querySelectorAll(skipped))) node.remove();
  return clone.textContent ?? "";
}
