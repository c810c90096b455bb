// labext/toc.js keeps a chat's static transcript out of JupyterLab's table of contents: in a
// cell holding transcript outputs, the code cell's heading lookup runs with those outputs
// empty, so their Markdown is never parsed, and the cell's other outputs keep their headings
// and output index. The cell here is a stand-in with the shape JupyterLab 4.6's CodeCell has
// (getHeadings over `this.model.outputs`, a cache on the cell, the parser reached through
// `this`); tests/e2e/test_toc.py checks the real one in a real JupyterLab.

import { describe, expect, it } from "vitest";
import {
  isTranscript,
  keepTranscriptsOutOfToc,
  TRANSCRIPT_MIME,
  tocPlugin,
} from "../../labext/toc.js";

interface Output {
  data: Record<string, unknown>;
}
interface Heading {
  text: string;
  level: number;
  outputIndex: number;
}

class Outputs {
  constructor(private readonly items: Output[]) {}
  get length(): number {
    return this.items.length;
  }
  get(i: number): Output {
    return this.items[i]!;
  }
}

/** A Markdown "parser" that records every text it is asked to parse. */
class Parser {
  readonly parsed: string[] = [];
  headings(text: string): { text: string; level: number }[] {
    this.parsed.push(text);
    return [...text.matchAll(/^(#{1,6}) (.+)$/gm)].map((m) => ({
      text: m[2]!,
      level: m[1]!.length,
    }));
  }
}

/** JupyterLab's CodeCell as far as its headings go: parse each output's Markdown once, cache
 * the result on the cell until the outputs change. */
class FakeCodeCell {
  _headingsCache: Heading[] | null = null;
  readonly model: { outputs: Outputs; id: string };
  constructor(
    outputs: Output[],
    readonly _parser: Parser,
  ) {
    this.model = { outputs: new Outputs(outputs), id: "cell-1" };
  }
  get headings(): Heading[] {
    return this._headingsCache ?? [];
  }
  async getHeadings(): Promise<Heading[]> {
    if (this._headingsCache === null) {
      const found: Heading[] = [];
      const outputs = this.model.outputs;
      for (let i = 0; i < outputs.length; i++) {
        const markdown = outputs.get(i).data["text/markdown"];
        if (typeof markdown !== "string") continue;
        found.push(...this._parser.headings(markdown).map((h) => ({ ...h, outputIndex: i })));
      }
      this._headingsCache = found;
    }
    return [...this._headingsCache];
  }
}

const TRANSCRIPT = '<div class="nbchat-static"></div>\n\n## Question\n\n# Gaussian integral\n';
const transcript = (part: number): Output => ({
  data: { "text/markdown": TRANSCRIPT, [TRANSCRIPT_MIME]: { version: 1, part } },
});
const widgetView: Output = {
  data: { "application/vnd.jupyter.widget-view+json": { model_id: "m" }, "text/plain": "Chat" },
};
const userMarkdown: Output = { data: { "text/markdown": "# Results\n\n## Table 1\n" } };

// One class per test: the wrap sets getHeadings on the prototype it is given.
function wrappedClass(): typeof FakeCodeCell {
  class Cell extends FakeCodeCell {}
  expect(keepTranscriptsOutOfToc(Cell.prototype)).toBe(true);
  return Cell;
}

describe("the static transcript in the table of contents", () => {
  it("is never parsed, and the cell's other outputs keep their headings and index", async () => {
    const Cell = wrappedClass();
    const parser = new Parser();
    const cell = new Cell(
      [widgetView, transcript(0), transcript(1), userMarkdown, transcript(2)],
      parser,
    );

    const headings = await cell.getHeadings();

    expect(headings).toEqual([
      { text: "Results", level: 1, outputIndex: 3 },
      { text: "Table 1", level: 2, outputIndex: 3 },
    ]);
    expect(parser.parsed).toEqual([userMarkdown.data["text/markdown"]]);
    // The cell's own cache holds the result (what its `headings` getter returns).
    expect(cell.headings).toEqual(headings);
    expect(cell._headingsCache).toEqual(headings);
  });

  it("adds no headings for a chat's cell", async () => {
    const Cell = wrappedClass();
    const parser = new Parser();
    const cell = new Cell([widgetView, transcript(0), transcript(1)], parser);
    expect(await cell.getHeadings()).toEqual([]);
    expect(parser.parsed).toEqual([]);
  });

  it("leaves cells without a transcript as they are", async () => {
    const Cell = wrappedClass();
    const parser = new Parser();
    const cell = new Cell([userMarkdown], parser);
    const unwrapped = new FakeCodeCell([userMarkdown], new Parser());
    expect(await cell.getHeadings()).toEqual(await unwrapped.getHeadings());
    expect(parser.parsed).toHaveLength(1);
  });

  it("wraps once, and only what it can", async () => {
    const Cell = wrappedClass();
    const once = Cell.prototype.getHeadings;
    expect(keepTranscriptsOutOfToc(Cell.prototype)).toBe(true);
    expect(Cell.prototype.getHeadings).toBe(once);
    expect(keepTranscriptsOutOfToc({})).toBe(false); // JupyterLab 4.0: no getHeadings
    expect(keepTranscriptsOutOfToc(undefined)).toBe(false);
  });

  it("is what the plugin does when JupyterLab activates it", async () => {
    class Cell extends FakeCodeCell {}
    const plugin = tocPlugin(Cell);
    expect(plugin.autoStart).toBe(true);
    plugin.activate();
    const parser = new Parser();
    expect(await new Cell([transcript(0)], parser).getHeadings()).toEqual([]);
    expect(parser.parsed).toEqual([]);
  });

  it("recognises transcript outputs by their mime type only", () => {
    expect(isTranscript(transcript(0))).toBe(true);
    expect(isTranscript(userMarkdown)).toBe(false);
    expect(isTranscript({ data: { "text/markdown": TRANSCRIPT } })).toBe(false);
    expect(isTranscript(null)).toBe(false);
  });
});
