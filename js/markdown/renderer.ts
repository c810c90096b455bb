// The streaming renderer. Each update heals, renders and patches the live tail (the text
// after the settled blocks), then settles the blocks that have ended: they keep the nodes the
// tail just drew for them — nothing is rendered twice — and are never touched again
// (append-only, so a selection in them survives streaming). Work per update is bounded by
// the tail, not by the reply.

import { completeLinesEnd, lineOffsets, normalizeAppend, settledBoundaries } from "./blocks.js";
import { heal } from "./heal.js";
import { sameFormula } from "./math.js";
import type { References } from "./parse.js";
import { parseBlocks, renderBlocks, renderHtml } from "./parse.js";
import type { PatchHooks } from "./patch.js";
import { patchRun } from "./patch.js";
import { fillMath, sanitizeBlocksToFragment, sanitizeToFragment } from "./sanitize.js";

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
  /**
   * How many elements the renderer has put on screen so far (a running count: the browser
   * styles and lays out each of them once), when it counts them.
   */
  readonly inserted?: number;
}

/**
 * What an update cost, in characters handed to the Markdown parser (for tests, benchmarks):
 * `scan` looks for block boundaries, `heal` reads the tail to close what it leaves open,
 * `tail` renders the tail, `block` renders a settled block (when the tail's nodes could not
 * be kept, or again when a reference definition it may use arrives). `adopt` is not parsed:
 * a settled block that keeps the nodes the tail drew from the same source.
 */
export type WorkMeter = (kind: "scan" | "heal" | "tail" | "block" | "adopt", chars: number) => void;

interface Chunk {
  readonly src: string;
  nodes: ChildNode[];
  /** Which reference definitions it was rendered with (see `referencesKey`). */
  referencesKey: string;
  /** Could hold a reference-style link: "[text][label]", "[label]". */
  readonly mayUseReferences: boolean;
}

/** Elements in `node` and below (a fragment counts its children's). */
function elementsIn(node: Node): number {
  if (node.nodeType === Node.ELEMENT_NODE) {
    return 1 + (node as Element).getElementsByTagName("*").length;
  }
  if (node.nodeType === Node.DOCUMENT_FRAGMENT_NODE) {
    return (node as DocumentFragment).querySelectorAll("*").length;
  }
  return 0;
}

/** What the tail's last render showed: its source, and which of its nodes each block drew. */
interface DrawnTail {
  /** The (healed) source that was rendered, starting at the settled boundary. */
  readonly src: string;
  /** How many reference definitions that render knew (the settled ones + the tail's). */
  readonly references: number;
  readonly blocks: readonly DrawnBlock[];
}

interface DrawnBlock {
  /** Its lines in `src` (-1: unknown). */
  readonly start: number;
  readonly end: number;
  readonly provisional: boolean;
  /** How many of the tail's nodes it drew, in order. */
  readonly nodes: number;
}

/** `block` lies before `cut` and shows what a settled render of it would. */
const isKept = (block: DrawnBlock, cut: number): boolean =>
  block.start >= 0 && block.end <= cut && !block.provisional;

/** How many of the tail's nodes drew blocks starting before `cut` (unknown ones included). */
function shownBefore(drawn: DrawnTail, cut: number): number {
  let nodes = 0;
  for (const block of drawn.blocks) if (block.start < cut) nodes += block.nodes;
  return nodes;
}

/** Length of the common start of `a` and `b`, looked for up to `max`. */
function commonPrefix(a: string, b: string, max: number): number {
  const limit = Math.min(a.length, b.length, max);
  let i = 0;
  while (i < limit && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
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
  /** The same render, block by block; null when `tail` no longer matches it. */
  private drawn: DrawnTail | null = null;
  /** Definitions that render knew: the settled ones and any in the tail. */
  private tailReferences: References = {};
  private added = 0;
  /** Formulas on screen are kept when a render asks for the same one; new ones typeset. */
  private readonly hooks: PatchHooks = {
    keep: sameFormula,
    prepare: (node) => {
      fillMath(node);
      this.added += elementsIn(node);
    },
  };

  constructor(
    private readonly el: HTMLElement,
    private readonly meter: WorkMeter = () => {},
  ) {}

  get inserted(): number {
    return this.added;
  }

  /** How much of the (normalised) text is settled: its blocks are drawn for good. */
  get settledLength(): number {
    return this.settledEnd;
  }

  update(text: string, final = false): void {
    if (text === this.raw && final === this.final) return;
    // Anything but an append (a resync that rewrote the text, a new reply): start over.
    if (!text.startsWith(this.raw)) this.reset();
    this.text += normalizeAppend(this.raw, text.slice(this.raw.length));
    this.raw = text;
    this.final = final;
    this.renderTail();
    if (this.settle()) this.renderTail();
    this.resolveReferences();
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
    this.drawn = null;
    this.tailReferences = {};
  }

  /**
   * Move the settled boundary forward if new complete lines show later blocks starting.
   * Returns true when the tail's nodes no longer show the text after it (rare: see `adopt`).
   */
  private settle(): boolean {
    const end = completeLinesEnd(this.text);
    if (end <= this.scannedEnd) return false;
    this.scannedEnd = end;
    const region = this.text.slice(this.settledEnd, end);
    this.meter("scan", region.length);
    const lines = settledBoundaries(parseBlocks(region, this.references));
    if (lines.length === 0) return false;
    const cuts = lineOffsets(region, lines);
    const cut = cuts[cuts.length - 1]!;
    const drawn = this.drawn;
    this.drawn = null; // the tail is about to lose nodes either way
    this.settledEnd += cut;
    const tailNodes = this.tail.length;
    const adopted = drawn ? this.adopt(drawn, region, cuts) : 0;
    if (adopted === cut) return false;
    // The tail's nodes that drew the rest (what `adopt` took is gone from the tail already).
    const shown = drawn ? shownBefore(drawn, cut) - (tailNodes - this.tail.length) : 0;
    this.addChunk(region.slice(adopted, cut), shown);
    return true;
  }

  /**
   * Keep the tail's nodes as the blocks now settling, unrendered, as far as its last render
   * (`drawn`) showed exactly what rendering them on their own would: up to the last of `cuts`
   * where that render had the same source (healing touched none of it: it only ever changes
   * the last block), a block boundary too, the same reference definitions and nothing drawn
   * provisionally. Blocks are parsed line by line, so the ones that end by a cut do not
   * depend on what follows it. Returns how much of `region` became a chunk this way.
   */
  private adopt(drawn: DrawnTail, region: string, cuts: readonly number[]): number {
    if (drawn.references !== Object.keys(this.references).length) return 0;
    const same = commonPrefix(region, drawn.src, cuts[cuts.length - 1]!);
    const { blocks } = drawn;
    let b = 0;
    let counted = 0;
    let length = 0;
    let nodes = 0;
    for (const cut of cuts) {
      if (cut > same) break;
      for (let block = blocks[b]; block && isKept(block, cut); block = blocks[++b]) {
        counted += block.nodes;
      }
      const next = blocks[b];
      if (next && next.start < cut) {
        // Straddles this cut (a later one may take it whole), or cannot be kept at all.
        if (next.start < 0 || next.provisional || next.end <= cut) break;
        continue;
      }
      length = cut;
      nodes = counted;
    }
    if (length === 0) return 0;
    this.meter("adopt", length);
    const src = region.slice(0, length);
    const kept = this.tail.slice(0, nodes);
    this.tail = this.tail.slice(nodes);
    const key = referencesKey(this.references, {});
    this.chunks.push({ src, nodes: kept, referencesKey: key, mayUseReferences: src.includes("]") });
    return length;
  }

  /**
   * Render `src` as settled blocks. The first `shown` nodes of the tail drew (part of) it: they
   * are patched into the settled render rather than replaced, so what did not change —
   * typeset formulas above all, and any selection — stays as it is.
   */
  private addChunk(src: string, shown: number): void {
    this.meter("block", src.length);
    const { html, references } = renderHtml(src, this.references, false);
    this.references = references;
    const key = referencesKey(references, {});
    const old = this.tail.slice(0, shown);
    this.tail = this.tail.slice(old.length);
    let nodes: ChildNode[];
    if (old.length === 0) {
      const fragment = sanitizeToFragment(html);
      nodes = Array.from(fragment.childNodes);
      this.added += elementsIn(fragment);
      this.el.insertBefore(fragment, this.tail[0] ?? null);
    } else {
      const fresh = sanitizeToFragment(html, { formulas: false });
      nodes = patchRun(this.el, old, fresh, this.hooks, this.tail[0] ?? null);
    }
    this.chunks.push({ src, nodes, referencesKey: key, mayUseReferences: src.includes("]") });
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
    const { blocks, references } = renderBlocks(src, this.references, !this.final);
    this.tailReferences = references;
    const htmls = blocks.map((block) => block.html);
    let counts: number[] | null;
    if (this.tail.length === 0) {
      // Nothing on screen to keep (a first render, say of a whole finished reply).
      const sanitized = sanitizeBlocksToFragment(htmls);
      counts = sanitized.counts;
      this.tail = Array.from(sanitized.fragment.childNodes);
      this.added += elementsIn(sanitized.fragment);
      this.el.append(sanitized.fragment);
    } else {
      const sanitized = sanitizeBlocksToFragment(htmls, { formulas: false });
      counts = sanitized.counts;
      this.tail = patchRun(this.el, this.tail, sanitized.fragment, this.hooks);
    }
    this.drawn = counts && {
      src,
      references: Object.keys(references).length,
      blocks: blocks.map(({ start, end, provisional }, i) => ({
        start,
        end,
        provisional,
        nodes: counts[i]!,
      })),
    };
  }

  /**
   * Reference links resolve across the whole reply: a definition that arrives later
   * re-renders the earlier blocks that might use it (rare; correctness over append-only).
   * Definitions in the tail count only once the text is final: they may still be typing.
   */
  private resolveReferences(): void {
    const tail = this.final ? this.tailReferences : {};
    const refsKey = referencesKey(this.references, tail);
    if (refsKey === this.lastKey) return;
    this.lastKey = refsKey;
    const effective = this.final ? { ...this.tailReferences, ...this.references } : this.references;
    for (const chunk of this.chunks) {
      if (chunk.mayUseReferences && chunk.referencesKey !== refsKey) {
        this.rerender(chunk, effective, refsKey);
      }
    }
  }

  private rerender(chunk: Chunk, references: References, key: string): void {
    this.meter("block", chunk.src.length);
    const fragment = sanitizeToFragment(renderHtml(chunk.src, references, false).html);
    const nodes = Array.from(fragment.childNodes);
    this.added += elementsIn(fragment);
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
