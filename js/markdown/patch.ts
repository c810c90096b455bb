// Replace the live tail's nodes with a fresh render while keeping every node that did not
// change: a text selection, a hovered copy button or a typeset formula inside the growing
// block survives the next frame, and the browser lays out only what changed.

export interface PatchHooks {
  /** `before` already shows what `after` stands for (and `after` is not ready to insert). */
  keep(before: Node, after: Node): boolean;
  /** Make a fresh node ready before it goes on screen. */
  prepare(node: Node): void;
}

/**
 * Make `old` (a run of `parent`'s children, followed by `anchor`: null for the last ones) look
 * like `fresh`; returns the new run.
 */
export function patchRun(
  parent: Node,
  old: readonly ChildNode[],
  fresh: DocumentFragment,
  hooks: PatchHooks,
  anchor: Node | null = null,
): ChildNode[] {
  const next = Array.from(fresh.childNodes);
  const result: ChildNode[] = [];
  for (let i = 0; i < Math.max(old.length, next.length); i++) {
    const before = old[i];
    const after = next[i];
    if (before && after) {
      result.push(morph(parent, before, after, hooks));
    } else if (after) {
      hooks.prepare(after);
      parent.insertBefore(after, anchor);
      result.push(after);
    } else if (before) {
      before.remove();
    }
  }
  return result;
}

function sameShape(a: Node, b: Node): boolean {
  if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) return false;
  if (!(a instanceof Element) || !(b instanceof Element)) return true;
  if (a.namespaceURI !== b.namespaceURI) return false;
  // Same attribute names in the same order, so the serialisation matches a fresh render.
  const x = a.attributes;
  const y = b.attributes;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i]!.name !== y[i]!.name) return false;
  return true;
}

function morph(parent: Node, before: ChildNode, after: ChildNode, hooks: PatchHooks): ChildNode {
  if (hooks.keep(before, after) || before.isEqualNode(after)) return before;
  if (!sameShape(before, after)) {
    hooks.prepare(after);
    parent.replaceChild(after, before);
    return after;
  }
  if (before instanceof Element && after instanceof Element) {
    for (const { name, value } of Array.from(after.attributes)) {
      if (before.getAttribute(name) !== value) before.setAttribute(name, value);
    }
    const olds = Array.from(before.childNodes);
    const news = Array.from(after.childNodes);
    for (let i = 0; i < Math.max(olds.length, news.length); i++) {
      const o = olds[i];
      const n = news[i];
      if (o && n) {
        morph(before, o, n, hooks);
      } else if (n) {
        hooks.prepare(n);
        before.appendChild(n);
      } else if (o) {
        o.remove();
      }
    }
  } else if (before.nodeValue !== after.nodeValue) {
    before.nodeValue = after.nodeValue;
  }
  return before;
}
