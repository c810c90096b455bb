// The streaming renderer: settled blocks are rendered once and their nodes kept (append-only,
// so a selection in them survives streaming); only the live tail is healed, parsed and patched
// again on each update. Work per update is bounded by the tail, not by the reply.

import { completeLinesEnd, lineOffset, normalizeAppend, settledLines } from "./blocks.js";
import { heal } from "./heal.js";
import { parseBlocks, renderHtml } from "./parse.js";
import type { References } from "./parse.js";
import { patchTail } from "./patch.js";
import { sameFormula } from "./math.js";
import { fillMath, sanitizeToFragment } from "./sanitize.js";

/** Renders a growing Markdown text into one element. */
export interface StreamingRenderer {
  /**
   * Show `text` (the whole reply so far). Cheap to call once per animation frame: settled
   * blocks are rendered once and kept; only the unsettled tail is re-rendered.
   * `final` says the text will not grow any more: nothing is healed, and the element shows
   * exactly what `renderMarkdown(text)` gives. (Growing again afterwards is allowed.)
   */
  update(text: string, final?: boolean): void;
  /** Forget cached state and listeners. */
  destroy(): void;
}

/**
 * What an update cost, in characters handed to the Markdown parser (for tests, benchmarks):
 * `scan` looks for block boundaries, `heal` reads the tail to close what it leaves open,
 * `tail` renders the tail, `block` renders a settled block (once, or again when a reference
 * definition it may use arrives).
 */
export type WorkMeter = (kind: "scan" | "heal" | "tail" | "block", chars: number) => void;

interface Chunk {
  readonly src: string;
  nodes: ChildNode[];
  /** Which reference definitions it was rendered with (see `referencesKey`). */
  referencesKey: string;
  /** Could hold a reference-style link: "[text][label]", "[label]". */
  readonly mayUseReferences: boolean;
}

export class MarkdownStream implements StreamingRenderer {
  private raw = "";
  private text = "";
  private final = false;
  /** The settled prefix of `text` ends here; the tail starts here. */
  private settledEnd = 0;
  /** Complete lines up to here have been looked at for block boundaries. */
  private scannedEnd = 0;
  private chunks: Chunk[] = [];
  private tail: ChildNode[] = [];
  /** Reference definitions found in settled chunks, first definition of a label winning. */
  private references: References = {};
  private lastKey = "0|";
  /** What the tail showed last: skip the render when it would not change. */
  private lastTailKey = "";

  constructor(
    private readonly el: HTMLElement,
    private readonly meter: WorkMeter = () => {},
  ) {}

  update(text: string, final = false): void {
    if (text === this.raw && final === this.final) return;
    // Anything but an append (a resync that rewrote the text, a new reply): start over.
    if (!text.startsWith(this.raw)) this.reset();
    this.text += normalizeAppend(this.raw, text.slice(this.raw.length));
    this.raw = text;
    this.final = final;
    this.settle();
    this.renderTail();
  }

  destroy(): void {
    this.reset();
  }

  private reset(): void {
    this.el.textContent = "";
    this.raw = "";
    this.text = "";
    this.final = false;
    this.settledEnd = 0;
    this.scannedEnd = 0;
    this.chunks = [];
    this.tail = [];
    this.references = {};
    this.lastKey = "0|";
    this.lastTailKey = "";
  }

  /** Move the settled boundary forward if new complete lines show a later block starting. */
  private settle(): void {
    const end = completeLinesEnd(this.text);
    if (end <= this.scannedEnd) return;
    this.scannedEnd = end;
    const region = this.text.slice(this.settledEnd, end);
    this.meter("scan", region.length);
    const lines = settledLines(parseBlocks(region, this.references));
    if (lines === 0) return;
    const cut = lineOffset(region, lines);
    this.addChunk(region.slice(0, cut));
    this.settledEnd += cut;
  }

  private addChunk(src: string): void {
    this.meter("block", src.length);
    const { html, references } = renderHtml(src, this.references, false);
    this.references = references;
    const key = referencesKey(references, {});
    const nodes = this.adoptOrInsert(sanitizeToFragment(html));
    this.chunks.push({ src, nodes, referencesKey: key, mayUseReferences: src.includes("]") });
  }

  /**
   * The block being settled was, until now, the start of the tail and is usually on screen
   * already: keep those very nodes (and any selection in them) when they match.
   */
  private adoptOrInsert(fragment: DocumentFragment): ChildNode[] {
    const fresh = Array.from(fragment.childNodes);
    const shown = this.tail.slice(0, fresh.length);
    if (shown.length === fresh.length && fresh.every((node, i) => node.isEqualNode(shown[i]!))) {
      this.tail = this.tail.slice(fresh.length);
      return shown;
    }
    this.el.insertBefore(fragment, this.tail[0] ?? null);
    return fresh;
  }

  private renderTail(): void {
    let src = this.text.slice(this.settledEnd);
    if (!this.final) {
      this.meter("heal", src.length);
      src = heal(src, (s) => parseBlocks(s, this.references));
    }
    // Healing often yields the same text as last frame (a marker waiting for its content).
    const key = `${this.final ? "F" : "S"}${this.settledEnd}:${src}`;
    if (key === this.lastTailKey) return;
    this.lastTailKey = key;
    this.meter("tail", src.length);
    const { html, references } = renderHtml(src, this.references, !this.final);
    const fresh = sanitizeToFragment(html, { formulas: false });
    this.tail = patchTail(this.el, this.tail, fresh, { keep: sameFormula, prepare: fillMath });
    // Reference links resolve across the whole reply: a definition that arrives later
    // re-renders the earlier blocks that might use it (rare; correctness over append-only).
    // Definitions in the tail count only once the text is final: they may still be typing.
    const refsKey = referencesKey(this.references, this.final ? references : {});
    if (refsKey !== this.lastKey) {
      this.lastKey = refsKey;
      const effective = this.final ? references : this.references;
      for (const chunk of this.chunks) {
        if (chunk.mayUseReferences && chunk.referencesKey !== refsKey) {
          this.rerender(chunk, effective, refsKey);
        }
      }
    }
  }

  private rerender(chunk: Chunk, references: References, key: string): void {
    this.meter("block", chunk.src.length);
    const fragment = sanitizeToFragment(renderHtml(chunk.src, references, false).html);
    const nodes = Array.from(fragment.childNodes);
    const anchor = chunk.nodes[0] ?? this.nodeAfter(chunk);
    this.el.insertBefore(fragment, anchor);
    for (const node of chunk.nodes) node.remove();
    chunk.nodes = nodes;
    chunk.referencesKey = key;
  }

  /** The first node after `chunk` (it rendered to nothing, e.g. only definitions). */
  private nodeAfter(chunk: Chunk): ChildNode | null {
    const index = this.chunks.indexOf(chunk);
    for (const later of this.chunks.slice(index + 1)) if (later.nodes[0]) return later.nodes[0];
    return this.tail[0] ?? null;
  }
}

/**
 * Identifies a set of definitions: settled ones only grow (first definition wins), so their
 * count names them; definitions still in the tail are named by their content.
 */
function referencesKey(all: References, withTail: References | Record<string, never>): string {
  const settled = Object.keys(all).length;
  const extra = Object.entries(withTail).filter(([label]) => !(label in all));
  return `${settled}|${extra.length ? JSON.stringify(extra) : ""}`;
}
