// Branches in the view (issue #12): ‹ 2/3 › switchers read `c:<parent>`, Regenerate and Edit
// name the message they act on (the kernel keeps the earlier one as a sibling), and the
// header's Export menu downloads the kernel's Markdown/JSON or a typeset, inert HTML page.

import { describe, expect, it, vi } from "vitest";
import type { ChatTraits, Message } from "../../js/protocol.js";
import { conversationHtml, EXPORT_CSP, widgetCss } from "../../js/view/export.js";
import { controlProblems } from "./a11y.js";
import { assistant, FakeModel, type Mounted, mountEachTest, traits, user } from "./helpers.js";
import { CORPUS, problems } from "./markdown/xss-corpus.js";

const { frames, mount } = mountEachTest();

function setup(model: FakeModel): Mounted {
  const { view } = mount(model);
  frames.flush();
  return view;
}

/**
 * A tree as the kernel's state holds it: question u1 answered three times (r1, r2, r3) and
 * edited once (u2, answered by r4); the branch on screen ends at `leaf`.
 */
function tree(leaf: string): ChatTraits {
  const at = (m: Message, parent: string | null): Message => ({ ...m, parent });
  return traits({
    "c:": ["u1", "u2"],
    "c:u1": ["r1", "r2", "r3"],
    "c:u2": ["r4"],
    "m:u1": at(user("u1", "first question"), null),
    "m:u2": at(user("u2", "edited question"), null),
    "m:r1": at(assistant("r1", "one"), "u1"),
    "m:r2": at(assistant("r2", "two"), "u1"),
    "m:r3": at(assistant("r3", "three"), "u1"),
    "m:r4": at(assistant("r4", "four"), "u2"),
    leaf,
  } as Partial<ChatTraits>);
}

const versions = (view: Mounted, selector: string): HTMLElement =>
  view.root.querySelector<HTMLElement>(`${selector} .nbc-versions`)!;

describe("sibling switchers", () => {
  it("show ‹ 2/3 › on a reply with siblings and switch by id", () => {
    const model = new FakeModel(tree("r2"));
    const view = setup(model);
    const reply = versions(view, ".nbc-msg-assistant");
    expect(reply.hidden).toBe(false);
    expect(reply.textContent).toBe("‹2/3›");
    expect(reply.getAttribute("role")).toBe("group");
    expect(reply.getAttribute("aria-label")).toBe("Version 2 of 3 of this reply");
    const [previous, next] = [...reply.querySelectorAll("button")];
    expect(previous!.getAttribute("aria-label")).toBe("Previous version");
    expect(next!.getAttribute("aria-label")).toBe("Next version");
    next!.click();
    previous!.click();
    expect(model.sentOf("switch")).toEqual([
      { kind: "switch", id: "r3" },
      { kind: "switch", id: "r1" },
    ]);
    // The question has two versions too (u1 and its edit u2).
    const question = versions(view, ".nbc-msg-user");
    expect(question.textContent).toBe("‹1/2›");
    // A question's head is visually hidden (screen readers only): its switcher is in the foot.
    expect(question.closest(".nbc-msg-head")).toBeNull();
    expect(question.closest<HTMLElement>(".nbc-msg-foot")!.hidden).toBe(false);
    expect(controlProblems(view.root)).toEqual([]);
  });

  it("follow the kernel: a switch redraws the whole continuation of the other branch", () => {
    const model = new FakeModel(tree("r2"));
    const view = setup(model);
    model.kernelSet("leaf", "r4");
    frames.flush();
    const bodies = [...view.root.querySelectorAll(".nbc-msg .nbc-body")].map((b) =>
      b.textContent?.trim(),
    );
    expect(bodies).toEqual(["edited question", "four"]);
    expect(versions(view, ".nbc-msg-user").textContent).toBe("‹2/2›");
    expect(versions(view, ".nbc-msg-assistant").hidden).toBe(true); // r4 is its only answer
    // At an end the step that leads nowhere is disabled.
    const [previous, next] = [...versions(view, ".nbc-msg-user").querySelectorAll("button")];
    expect([previous!.disabled, next!.disabled]).toEqual([false, true]);
  });

  it("stay clickable while a reply streams, so the kernel can say why it refuses", () => {
    const model = new FakeModel(tree("r2"));
    const view = setup(model);
    model.kernelSet("status", "streaming");
    frames.flush();
    versions(view, ".nbc-msg-assistant")
      .querySelector<HTMLButtonElement>(".nbc-version-next")!
      .click();
    expect(model.sentOf("switch")).toHaveLength(1);
    model.push({
      kind: "notice",
      text: "A reply is still streaming — switch versions once it has ended, or press Stop.",
    });
    frames.flush();
    expect(view.root.querySelector(".nbc-notice-text")!.textContent).toContain("switch versions");
  });
});

describe("regenerate and edit name their message", () => {
  const history = [
    user("u1", "q1"),
    assistant("r1", "a1"),
    user("u2", "q2"),
    assistant("r2", "a2"),
  ];

  it("Regenerate on an earlier reply sends its id and hides it and what followed", () => {
    const model = new FakeModel(traits({ messages: history }));
    const view = setup(model);
    const first = view.root.querySelector(".nbc-msg-assistant")!;
    const regenerate = first.querySelector<HTMLButtonElement>(
      '[aria-label="Regenerate this reply"]',
    )!;
    expect(regenerate.hidden).toBe(false);
    regenerate.click();
    expect(model.sentOf("regenerate")).toEqual([{ kind: "regenerate", id: "r1" }]);
    frames.flush();
    const shown = [...view.root.querySelectorAll(".nbc-msg .nbc-body")].map((b) => b.textContent);
    expect(shown).toEqual(["q1"]);
  });

  it("Edit on the first question sends its id and shows the new text in its place", () => {
    const model = new FakeModel(traits({ messages: history }));
    const view = setup(model);
    const question = view.root.querySelector(".nbc-msg-user")!;
    question.querySelector<HTMLButtonElement>('[aria-label="Edit and resend"]')!.click();
    const area = question.querySelector<HTMLTextAreaElement>("textarea.nbc-edit-input")!;
    area.value = "q1, better";
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sentOf("edit")).toEqual([{ kind: "edit", text: "q1, better", id: "u1" }]);
    frames.flush();
    const shown = [...view.root.querySelectorAll(".nbc-msg .nbc-body")].map((b) => b.textContent);
    expect(shown).toEqual(["q1, better"]);
  });
});

describe("export menu", () => {
  const history = [user("u1", "What is $x^2$?"), assistant("r1", "It is $x^2$, a **square**.")];

  function openMenu(view: Mounted): HTMLButtonElement[] {
    const toggle = view.root.querySelector<HTMLButtonElement>(
      '[aria-label="Export the conversation"]',
    )!;
    expect(toggle.getAttribute("aria-haspopup")).toBe("menu");
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    return [...view.root.querySelectorAll<HTMLButtonElement>('.nbc-menu [role="menuitem"]')];
  }

  it("is named and keyboard driven: focus moves in, arrows step, Escape closes", () => {
    const view = setup(new FakeModel(traits({ messages: history })));
    const items = openMenu(view);
    expect(items.map((i) => i.getAttribute("aria-label"))).toEqual([
      "Export as Markdown",
      "Export as HTML",
      "Export as JSON",
      "Copy conversation as Markdown",
    ]);
    expect(document.activeElement).toBe(items[0]);
    items[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement).toBe(items[1]);
    items[1]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    items[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(document.activeElement).toBe(items[3]);
    expect(controlProblems(view.root)).toEqual([]);
    items[3]!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(view.root.querySelector<HTMLElement>(".nbc-menu")!.hidden).toBe(true);
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Export the conversation");
  });

  it("downloads the kernel's Markdown and JSON, answering this view's requests only", async () => {
    const model = new FakeModel(traits({ messages: history }));
    const view = setup(model);
    const blobs: Blob[] = [];
    vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return "blob:nbchat-test";
    });
    vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => {});
    const names: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      names.push(this.download);
    });
    openMenu(view)[0]!.click();
    openMenu(view)[2]!.click();
    const [md, json] = model.sentOf("export");
    expect(md).toMatchObject({ kind: "export", format: "markdown" });
    expect(json).toMatchObject({ kind: "export", format: "json" });
    // An answer to a request this view did not make (another view's) is not downloaded.
    model.push({ kind: "exported", request: -5, format: "markdown", filename: "x.md", text: "x" });
    model.push({ ...answer(md!), filename: "talk.md", text: "# talk" });
    model.push({ ...answer(json!), filename: "talk.json", text: "{}" });
    expect(names).toEqual(["talk.md", "talk.json"]);
    expect(await blobs[0]!.text()).toBe("# talk");
    expect(blobs.map((b) => b.type)).toEqual(["text/markdown", "application/json"]);
    // The same answer twice (a second view's echo) downloads once.
    model.push({ ...answer(md!), filename: "talk.md", text: "# talk" });
    expect(names).toHaveLength(2);
  });

  it("copies the conversation as the kernel's Markdown", async () => {
    const model = new FakeModel(traits({ messages: history }));
    const view = setup(model);
    const writeText = vi.fn(async () => {});
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    openMenu(view)[3]!.click();
    const [ask] = model.sentOf("export");
    model.push({ ...answer(ask!), filename: "chat.md", text: "## You\n\nWhat is $x^2$?" });
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith("## You\n\nWhat is $x^2$?"));
    vi.unstubAllGlobals();
  });

  it("builds HTML in the browser from the branch on screen, math typeset", () => {
    const model = new FakeModel(traits({ messages: history }));
    const view = setup(model);
    let html = "";
    vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
      void (blob as Blob).text().then((t) => {
        html = t;
      });
      return "blob:nbchat-test";
    });
    const names: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      names.push(this.download);
    });
    openMenu(view)[1]!.click();
    expect(names).toEqual(["chat.html"]);
    expect(model.sentOf("export")).toEqual([]); // no kernel round trip for HTML
    return vi.waitFor(() => {
      const page = new DOMParser().parseFromString(html, "text/html");
      expect(page.querySelector(".nbc-msg-assistant .katex")).not.toBeNull();
      expect(page.querySelector(".nbc-msg-assistant strong")?.textContent).toBe("square");
      // A question is shown as typed.
      expect(page.querySelector(".nbc-msg-user .nbc-body")?.textContent).toBe("What is $x^2$?");
    });
  });
});

describe("exported HTML is inert", () => {
  it("is standalone: a CSP that allows no script and no fetch, KaTeX's fonts in its CSS", () => {
    // The fonts are data URLs in the bundle (esbuild's dataurl loader; under vitest a path).
    expect(widgetCss(document.body)).toContain('font-family:"KaTeX_Main"');
    const html = conversationHtml([assistant("r", "$$\\int_0^1 x\\,dx$$")], "", "Chat");
    const page = new DOMParser().parseFromString(html, "text/html");
    const csp = page.querySelector('meta[http-equiv="Content-Security-Policy"]');
    expect(csp?.getAttribute("content")).toBe(EXPORT_CSP);
    expect(EXPORT_CSP).toContain("default-src 'none'");
    expect(page.querySelector(".katex-display")).not.toBeNull();
    expect(page.querySelectorAll("script, link")).toHaveLength(0);
  });

  it("embeds a question's safe thumbnails, and names any other image in text", () => {
    const THUMB = "data:image/jpeg;base64,/9j/4AAQ";
    const image = (id: string, thumbnail?: string) => ({
      type: "image" as const,
      id,
      mime: "image/png",
      width: 800,
      height: 600,
      ...(thumbnail === undefined ? {} : { thumbnail }),
    });
    const question = {
      ...user("u1", "what?"),
      parts: [
        { type: "text" as const, text: "what?" },
        image("a", THUMB),
        image("b", "https://example.com/tracker.png"),
        image("c", 'data:image/png;base64,x" onerror="alert(1)'),
        image("d"),
      ],
    };
    const html = conversationHtml([question], "", "Chat");
    const page = new DOMParser().parseFromString(html, "text/html");
    const imgs = [...page.querySelectorAll(".nbc-msg-user img")];
    expect(imgs.map((i) => [i.getAttribute("src"), i.getAttribute("alt")])).toEqual([
      [THUMB, "Image 1, 800×600 PNG"],
    ]);
    expect(imgs[0]!.attributes).toHaveLength(3);
    const named = [...page.querySelectorAll(".nbc-msg-user .nbc-thumb-text")];
    expect(named.map((t) => t.textContent)).toEqual(Array(3).fill("[image: 800×600 PNG]"));
  });

  it("keeps the XSS corpus inert, in replies and in questions", () => {
    const messages = CORPUS.flatMap((text, i) => [user(`u${i}`, text), assistant(`r${i}`, text)]);
    const html = conversationHtml(messages, "", "</title><script>alert(1)</script>");
    const page = new DOMParser().parseFromString(html, "text/html");
    expect(page.querySelectorAll("script")).toHaveLength(0);
    expect(problems(page.querySelector(".nbc-list")!)).toEqual([]);
    // A question's text is text: its markup never becomes elements.
    const questions = [...page.querySelectorAll(".nbc-msg-user .nbc-body")];
    expect(questions.map((q) => q.textContent)).toEqual([...CORPUS]);
    expect(questions.every((q) => q.children.length === 0)).toBe(true);
  });
});

function answer(ask: Record<string, unknown>): Record<string, unknown> {
  return { kind: "exported", request: ask.request, format: ask.format };
}
