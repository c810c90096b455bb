import { afterEach, describe, expect, it, vi } from "vitest";
import { BUSY_REASON } from "../../js/view/input.js";
import { DEMO_TOOLTIP } from "../../js/view/message.js";
import {
  assistant,
  delta,
  deltas,
  FakeModel,
  type Mounted,
  mountEachTest,
  press,
  renderView,
  snapshot,
  traits,
  user,
} from "./helpers.js";

const { frames, mount: setup, defer } = mountEachTest();

afterEach(() => {
  for (const name of ["data-jp-theme-light", "data-vscode-theme-kind", "class", "data-theme"]) {
    document.body.removeAttribute(name);
  }
  document.documentElement.removeAttribute("theme");
});

function textarea(view: Mounted): HTMLTextAreaElement {
  return view.root.querySelector("textarea.nbc-input")!;
}

function sendButton(view: Mounted): HTMLButtonElement {
  return view.root.querySelector("button.nbc-send")!;
}

function replies(view: Mounted): HTMLElement[] {
  return [...view.root.querySelectorAll<HTMLElement>(".nbc-msg-assistant")];
}

function bodies(view: Mounted): string[] {
  // The renderer ends blocks with a newline; compare the text itself.
  const all = view.root.querySelectorAll(".nbc-msg .nbc-body");
  return [...all].map((b) => (b.textContent ?? "").trim());
}

describe("the live reply", () => {
  it("initialize greets the kernel once per model", () => {
    const { model } = setup();
    renderView(model).cleanup();
    expect(model.sentOf("hello")).toHaveLength(1);
  });

  it("renders streamed deltas at most once per frame", () => {
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    for (const d of deltas("r1", ["Hello", ", ", "world"])) model.push(d);
    expect(frames.pending()).toBe(1); // three deltas, one frame requested
    frames.flush();
    expect(replies(view)).toHaveLength(1);
    expect(replies(view)[0]!.querySelector(".nbc-body")!.textContent).toContain("Hello, world");
  });

  it("a second view of the same model mirrors the same live reply", () => {
    const { model, view } = setup();
    const second = renderView(model);
    defer(second.cleanup);
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    for (const d of deltas("r1", ["same ", "text"])) model.push(d);
    frames.flush();
    expect(bodies(view)).toEqual(bodies(second));
    expect(bodies(second).join("")).toContain("same text");
    expect(model.sentOf("hello")).toHaveLength(1); // the second view reuses the model's store
  });

  it("two chats on one page keep their replies apart", () => {
    const a = setup();
    const b = setup(new FakeModel(traits({ messages: [] })));
    a.model.push({ kind: "start", id: "ra", text: "", model: "ollama:m" });
    a.model.push(deltas("ra", ["only in A"])[0]!);
    frames.flush();
    expect(bodies(a.view)).toEqual(["only in A"]);
    expect(bodies(b.view)).toEqual([]);
    expect(b.model.sentOf("resync")).toEqual([]);
  });

  it("a view created mid-stream shows the full text after hello → snapshot", () => {
    // A page reload: a new model instance connects while the kernel is streaming.
    const model = new FakeModel(traits({ status: "streaming", messages: [user("u1", "tell me")] }));
    const { view } = setup(model);
    expect(model.sentOf("hello")).toHaveLength(1);
    model.push(snapshot("r1", 7, "Everything so far"));
    model.push(deltas("r1", [" and more"], 8, "Everything so far".length)[0]!);
    frames.flush();
    expect(bodies(view)).toEqual(["tell me", "Everything so far and more"]);
    expect(model.sentOf("resync")).toEqual([]);
  });

  it("shows the reply exactly once whether done or the trait update comes first", () => {
    for (const order of ["done-first", "trait-first"] as const) {
      const model = new FakeModel(traits({ messages: [user("u1", "q")] }));
      const { view } = setup(model);
      model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
      for (const d of deltas("r1", ["an", "swer"])) model.push(d);
      const commit = () => model.kernelShow([user("u1", "q"), assistant("r1", "answer")]);
      const done = () => model.push({ kind: "done", id: "r1", seq: 3 });
      if (order === "done-first") {
        done();
        frames.flush();
        expect(bodies(view)).toEqual(["q", "answer"]);
        commit();
      } else {
        commit();
        frames.flush();
        expect(bodies(view)).toEqual(["q", "answer"]);
        done();
      }
      frames.flush();
      expect(bodies(view), order).toEqual(["q", "answer"]);
      expect(replies(view)[0]!.classList.contains("is-settled")).toBe(true);
    }
  });

  it("shows a typing indicator until the first token, and a live status line", () => {
    const { model, view } = setup();
    frames.now = 0;
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:llama3.2" });
    frames.flush(); // t = 100 ms
    const reply = replies(view)[0]!;
    expect(reply.querySelector<HTMLElement>(".nbc-typing")!.hidden).toBe(false);
    expect(reply.getAttribute("aria-busy")).toBe("true");
    frames.now = 500;
    model.push(deltas("r1", ["Hi"])[0]!);
    frames.now = 3600;
    model.push({ ...deltas("r1", [" there"], 2, 2)[0]!, tokens: 32 });
    frames.flush(); // t = 3.7 s: 32 tokens in the 3.2 s since the first
    expect(reply.querySelector<HTMLElement>(".nbc-typing")!.hidden).toBe(true);
    const stats = reply.querySelector(".nbc-stats")!.textContent;
    expect(stats).toBe("llama3.2 · 32 tokens · 10 tok/s · 3.7 s");
  });

  it("re-renders the streaming text at most every 50 ms, and the final text at once", async () => {
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    const ds = deltas("r1", ["one ", "two ", "three"]);
    model.push(ds[0]!);
    frames.flush();
    const body = () => replies(view)[0]!.querySelector(".nbc-body")!.textContent!.trim();
    expect(body()).toBe("one");
    model.push(ds[1]!);
    frames.flush(17); // one frame later: too soon to re-render the live text
    expect(body()).toBe("one");
    // A timer asks for the frame the held text is drawn in, with no new delta needed.
    await vi.waitFor(() => expect(frames.pending()).toBe(1));
    frames.flush(40);
    expect(body()).toBe("one two");
    model.push(ds[2]!);
    model.push({ kind: "done", id: "r1", seq: 4 });
    frames.flush(17); // the final text does not wait
    expect(body()).toBe("one two three");
  });
});

describe("the message", () => {
  it("shows the error and its hint inside the message and keeps the partial text", () => {
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    model.push(deltas("r1", ["partial answer"])[0]!);
    const hint = "Press Continue to resume.";
    model.push({ kind: "error", id: "r1", message: "The stream was cut off.", hint });
    frames.flush();
    const reply = replies(view)[0]!;
    expect(reply.querySelector(".nbc-body")!.textContent).toContain("partial answer");
    const error = reply.querySelector<HTMLElement>(".nbc-error")!;
    expect(error.hidden).toBe(false);
    expect(error.getAttribute("role")).toBeNull(); // announced once by announce.ts instead
    expect(error.querySelector(".nbc-error-text")!.textContent).toBe("The stream was cut off.");
    expect(error.querySelector(".nbc-error-hint")!.textContent).toBe("Press Continue to resume.");
  });

  it("shows a committed error, the stopped marker and Continue from the trait", () => {
    const model = new FakeModel(
      traits({
        messages: [
          user("u1", "q"),
          assistant("r1", "half", { stopped: true, finish_reason: null }),
        ],
      }),
    );
    const { view } = setup(model);
    const reply = replies(view)[0]!;
    expect(reply.querySelector(".nbc-tag-stopped")?.textContent).toBe("stopped");
    const resume = [...reply.querySelectorAll("button")].find((b) => b.textContent === "Continue")!;
    expect(resume.hidden).toBe(false);
    resume.click();
    expect(model.sentOf("continue")).toHaveLength(1);
  });

  it("collapses the reasoning once the answer starts", () => {
    const { model, view } = setup();
    model.push({ kind: "start", id: "r1", text: "", model: "ollama:m" });
    model.push(delta("r1", 1, { reasoning: "Thinking hard" }));
    frames.flush();
    const details = replies(view)[0]!.querySelector<HTMLDetailsElement>("details.nbc-reasoning")!;
    expect(details.hidden).toBe(false);
    expect(details.open).toBe(true);
    expect(details.textContent).toContain("Thinking hard");
    model.push(delta("r1", 2, { text: "The answer", reasoningOffset: 13 }));
    frames.flush();
    expect(details.open).toBe(false);
    expect(details.textContent).toContain("Thinking hard");
  });

  it("labels the offline demo provider with a badge and tooltip", () => {
    const model = new FakeModel(
      traits({
        model: "demo:showcase",
        messages: [user("u1", "q"), assistant("r1", "demo text", { model: "demo:showcase" })],
      }),
    );
    const { view } = setup(model);
    const toolbarBadge = view.root.querySelector<HTMLElement>(".nbc-toolbar .nbc-badge-demo")!;
    expect(toolbarBadge.hidden).toBe(false);
    expect(toolbarBadge.title).toBe(DEMO_TOOLTIP);
    expect(replies(view)[0]!.querySelector<HTMLElement>(".nbc-badge-demo")!.hidden).toBe(false);

    model.kernelSet("model", "ollama:llama3.2");
    frames.flush();
    expect(toolbarBadge.hidden).toBe(true);
  });

  it("offers Regenerate on every settled reply and sends which one", () => {
    const model = new FakeModel(
      traits({
        messages: [
          user("u1", "q1"),
          assistant("r1", "a1"),
          user("u2", "q2"),
          assistant("r2", "a2"),
        ],
      }),
    );
    const { view } = setup(model);
    const regenerate = (reply: HTMLElement) =>
      [...reply.querySelectorAll<HTMLButtonElement>("button")].find(
        (b) => b.textContent === "Regenerate",
      )!;
    const [first, last] = replies(view);
    // The earlier reply is kept as a sibling (‹ 1/2 ›), so any reply may be answered again.
    expect(regenerate(first!).hidden).toBe(false);
    expect(regenerate(last!).hidden).toBe(false);
    regenerate(last!).click();
    expect(model.sentOf("regenerate")).toEqual([{ kind: "regenerate", id: "r2" }]);
    frames.flush();
    expect(bodies(view)).toEqual(["q1", "a1", "q2"]); // the reply being replaced is hidden
  });

  it("edits and resends the last user message", () => {
    const model = new FakeModel(traits({ messages: [user("u1", "old"), assistant("r1", "a")] }));
    const { view } = setup(model);
    const edit = [...view.root.querySelectorAll<HTMLButtonElement>(".nbc-msg-user button")].find(
      (b) => b.textContent === "Edit",
    )!;
    edit.click();
    const area = view.root.querySelector<HTMLTextAreaElement>("textarea.nbc-edit-input")!;
    expect(area.value).toBe("old");
    area.value = "new question";
    press(area, "Enter");
    expect(model.sentOf("edit")).toEqual([{ kind: "edit", text: "new question", id: "u1" }]);
    frames.flush();
    expect(bodies(view)).toEqual(["new question"]); // the reply being redone is hidden
  });

  it("copies a code block through the delegated .nbc-copy button", async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const { view } = setup();
    // The renderer's code block structure, as it emits it.
    view.root
      .querySelector(".nbc-list")!
      .insertAdjacentHTML(
        "beforeend",
        '<div class="nbc-code"><div class="nbc-code-bar"><span class="nbc-code-lang">python</span>' +
          '<button type="button" class="nbc-copy">Copy</button></div>' +
          "<pre><code>print(1)</code></pre></div>",
      );
    const copy = view.root.querySelector<HTMLButtonElement>(".nbc-copy")!;
    copy.click();
    await vi.waitFor(() => expect(copy.textContent).toBe("Copied"));
    expect(writeText).toHaveBeenCalledWith("print(1)");
  });
});

describe("the input", () => {
  it("Enter sends, Shift+Enter does not, and the box empties", () => {
    const { model, view } = setup();
    const area = textarea(view);
    area.value = "line one";
    const shift = press(area, "Enter", { shiftKey: true });
    expect(shift.defaultPrevented).toBe(false); // the newline goes in
    expect(model.sentOf("submit")).toEqual([]);
    area.value = "line one\nline two";
    const enter = press(area, "Enter");
    expect(enter.defaultPrevented).toBe(true);
    expect(model.sentOf("submit")).toEqual([{ kind: "submit", text: "line one\nline two" }]);
    expect(area.value).toBe("");
    frames.flush();
    expect(bodies(view)).toEqual(["line one\nline two"]); // shown before the kernel echoes it
  });

  it("Enter during IME composition does not send", () => {
    const { model, view } = setup();
    textarea(view).value = "かな";
    press(textarea(view), "Enter", { isComposing: true });
    expect(model.sentOf("submit")).toEqual([]);
  });

  it("refuses a submit while streaming, says why, and keeps the text", () => {
    const { model, view } = setup(new FakeModel(traits({ status: "streaming" })));
    const area = textarea(view);
    area.value = "too soon";
    press(area, "Enter");
    expect(model.sentOf("submit")).toEqual([]);
    expect(area.value).toBe("too soon");
    const reason = view.root.querySelector<HTMLElement>(".nbc-input-reason")!;
    expect(reason.hidden).toBe(false);
    expect(reason.textContent).toBe(BUSY_REASON);
  });

  it("Send becomes Stop while streaming; Esc and the button stop", () => {
    const { model, view } = setup();
    expect(sendButton(view).textContent).toBe("Send");
    model.kernelSet("status", "streaming");
    frames.flush();
    expect(sendButton(view).textContent).toBe("Stop");
    expect(sendButton(view).getAttribute("aria-label")).toBe("Stop generating");
    press(textarea(view), "Escape");
    sendButton(view).click();
    expect(model.sentOf("stop")).toHaveLength(2);
    model.kernelSet("status", "idle");
    frames.flush();
    expect(sendButton(view).textContent).toBe("Send");
  });

  it("takes back the text of a prompt the kernel refused", () => {
    const { model, view } = setup();
    textarea(view).value = "hello";
    press(textarea(view), "Enter");
    model.push({ kind: "notice", text: "A reply is still streaming — press Stop first." });
    frames.flush();
    expect(textarea(view).value).toBe("hello");
    const notice = view.root.querySelector<HTMLElement>(".nbc-notice")!;
    expect(notice.hidden).toBe(false);
    expect(notice.textContent).toContain("still streaming");
    expect(bodies(view)).toEqual([]);
  });

  it("key events never reach the notebook's shortcut handlers", () => {
    const { view } = setup();
    const seen: string[] = [];
    const spy = (e: Event) => seen.push(e.type);
    for (const type of ["keydown", "keyup", "keypress"]) document.addEventListener(type, spy);
    try {
      const area = textarea(view);
      for (const key of ["a", "b", "Enter", "Escape", "m", "d"]) {
        for (const type of ["keydown", "keyup", "keypress"]) {
          area.dispatchEvent(new KeyboardEvent(type, { key, bubbles: true }));
        }
      }
      expect(seen).toEqual([]);
      expect(view.root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    } finally {
      for (const type of ["keydown", "keyup", "keypress"]) document.removeEventListener(type, spy);
    }
  });

  it("Clear asks for a second click before clearing", () => {
    const { model, view } = setup(new FakeModel(traits({ messages: [user("u1", "q")] })));
    const clear = view.root.querySelector<HTMLButtonElement>(".nbc-toolbar button")!;
    clear.click();
    expect(model.sentOf("clear")).toEqual([]);
    expect(clear.textContent).toBe("Confirm clear");
    clear.click();
    expect(model.sentOf("clear")).toEqual([{ kind: "clear" }]);
    expect(clear.textContent).toBe("Clear");
  });

  it("compact mode hides the toolbar and the input", () => {
    const { view } = setup(new FakeModel(traits({ compact: true })));
    expect(view.root.querySelector<HTMLElement>(".nbc-toolbar")!.hidden).toBe(true);
    expect(view.root.querySelector<HTMLElement>(".nbc-input-area")!.hidden).toBe(true);
  });

  it("applies the height and placeholder traits", () => {
    const model = new FakeModel(traits({ height: "300px", placeholder: "Ask me" }));
    const { view } = setup(model);
    expect(view.root.querySelector<HTMLElement>(".nbc-scroller")!.style.maxHeight).toBe("300px");
    expect(textarea(view).placeholder).toBe("Ask me");
    model.kernelSet("height", "40vh");
    frames.flush();
    expect(view.root.querySelector<HTMLElement>(".nbc-scroller")!.style.maxHeight).toBe("40vh");
  });

  it("has no defaults of its own for them: Python's are the only ones", () => {
    const model = new FakeModel(traits({ height: "", placeholder: "" }));
    const { view } = setup(model);
    expect(view.root.querySelector<HTMLElement>(".nbc-scroller")!.style.maxHeight).toBe("");
    expect(textarea(view).placeholder).toBe("");
  });
});

describe("theme", () => {
  it("the theme trait overrides the host", () => {
    document.body.dataset.jpThemeLight = "true";
    const { model, view } = setup(new FakeModel(traits({ theme: "dark" })));
    expect(view.root.dataset.theme).toBe("dark");
    expect(view.root.dataset.themeSource).toBe("forced");
    model.kernelSet("theme", "auto");
    expect(view.root.dataset.theme).toBe("light");
    expect(view.root.dataset.themeSource).toBe("host");
  });

  it("follows JupyterLab's theme as it changes", async () => {
    document.body.dataset.jpThemeLight = "true";
    const { view } = setup();
    expect(view.root.dataset.theme).toBe("light");
    document.body.dataset.jpThemeLight = "false";
    await vi.waitFor(() => expect(view.root.dataset.theme).toBe("dark"));
  });

  it.each([
    ["VS Code kind", () => (document.body.dataset.vscodeThemeKind = "vscode-dark"), "dark"],
    [
      "VS Code high contrast light",
      () => document.body.classList.add("vscode-high-contrast", "vscode-high-contrast-light"),
      "light",
    ],
    ["VS Code class", () => document.body.classList.add("vscode-dark"), "dark"],
    ["Colab", () => document.documentElement.setAttribute("theme", "dark"), "dark"],
    ["marimo class", () => document.body.classList.add("dark"), "dark"],
    ["marimo data-theme", () => (document.body.dataset.theme = "dark"), "dark"],
  ])("detects %s", (_name, arrange, expected) => {
    arrange();
    const { view } = setup();
    expect(view.root.dataset.theme).toBe(expected);
  });

  it("falls back to prefers-color-scheme", () => {
    vi.stubGlobal("matchMedia", (query: string) => ({
      matches: query.includes("dark"),
      addEventListener: () => {},
      removeEventListener: () => {},
    }));
    const { view } = setup();
    expect(view.root.dataset.theme).toBe("dark");
  });
});
