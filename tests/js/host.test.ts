// The widget and the notebook around it: a reply that holds its cell offers no Stop (only how
// to interrupt the kernel), and code blocks go into a new cell where the notebook's extension
// answers (view/host.ts). The extension is played here by document listeners, as the real
// one (labext/index.js) listens.

import { describe, expect, it } from "vitest";
import { BLOCKING_REASON, BLOCKING_TEXT } from "../../js/view/blocking.js";
import {
  cellFor,
  INSERT_EVENT,
  INTERRUPT_EVENT,
  PROBE_EVENT,
  probeHost,
} from "../../js/view/host.js";
import { deltas, type FakeModel, type Mounted, mountEachTest, press } from "./helpers.js";

const { frames, mount: setup, defer } = mountEachTest();

/** A notebook extension that answers the probe and records what it was asked to do. */
function fakeExtension(abilities: Record<string, unknown>): {
  inserted: unknown[];
  interrupts: number;
} {
  const seen = { inserted: [] as unknown[], interrupts: 0 };
  const probe = (event: Event): void => {
    Object.assign((event as CustomEvent).detail, abilities);
    event.preventDefault();
  };
  const insert = (event: Event): void => {
    seen.inserted.push((event as CustomEvent).detail);
    event.preventDefault();
  };
  const interrupt = (event: Event): void => {
    seen.interrupts++;
    event.preventDefault();
  };
  document.addEventListener(PROBE_EVENT, probe);
  document.addEventListener(INSERT_EVENT, insert);
  document.addEventListener(INTERRUPT_EVENT, interrupt);
  defer(() => {
    document.removeEventListener(PROBE_EVENT, probe);
    document.removeEventListener(INSERT_EVENT, insert);
    document.removeEventListener(INTERRUPT_EVENT, interrupt);
  });
  return seen;
}

const sendButton = (view: Mounted): HTMLButtonElement =>
  view.root.querySelector<HTMLButtonElement>("button.nbc-send")!;
const note = (view: Mounted): HTMLElement => view.root.querySelector<HTMLElement>(".nbc-blocking")!;
const interruptButton = (view: Mounted): HTMLButtonElement =>
  view.root.querySelector<HTMLButtonElement>("button.nbc-interrupt")!;

function startReply(model: FakeModel, blocking: boolean): void {
  model.kernelSet("status", "streaming");
  model.push({ kind: "start", id: "r1", text: "", model: "ollama:m", blocking });
  for (const d of deltas("r1", ["Hel", "lo"])) model.push(d);
  frames.flush();
}

describe("a reply that holds its cell (chat.ask)", () => {
  it("offers no Stop: Send is disabled and the note says to interrupt the kernel", () => {
    const { model, view } = setup();
    startReply(model, true);
    expect(sendButton(view).textContent).toBe("Send");
    expect(sendButton(view).disabled).toBe(true);
    expect(view.root.querySelector(".nbc-stop:not([hidden])")).toBeNull();
    expect(note(view).hidden).toBe(false);
    expect(note(view).textContent).toContain(BLOCKING_TEXT);
    // Reachable from the keyboard, where Stop would have been.
    expect(note(view).querySelector("[tabindex='0']")?.textContent).toBe(BLOCKING_TEXT);

    // Esc and Enter send nothing the kernel could only act on after the reply ended.
    const area = view.root.querySelector<HTMLTextAreaElement>("textarea.nbc-input")!;
    area.value = "next";
    press(area, "Escape");
    press(area, "Enter");
    expect(model.sentOf("stop")).toEqual([]);
    expect(model.sentOf("submit")).toEqual([]);
    expect(view.root.querySelector(".nbc-input-reason")?.textContent).toBe(BLOCKING_REASON);

    model.push({ kind: "done", id: "r1", seq: 3 });
    model.kernelSet("status", "idle");
    frames.flush();
    expect(note(view).hidden).toBe(true);
    expect(sendButton(view).disabled).toBe(false);
  });

  it("offers Interrupt where the notebook can interrupt the kernel, and it does", () => {
    const host = fakeExtension({ insert: true, interrupt: true, kernelLanguage: "python" });
    const { model, view } = setup();
    startReply(model, true);
    expect(interruptButton(view).hidden).toBe(false);
    interruptButton(view).click();
    expect(host.interrupts).toBe(1);
    expect(model.sentOf("stop")).toEqual([]);
  });

  it("a reply that does not hold its cell (the UI, ask_async) keeps a working Stop", () => {
    const { model, view } = setup();
    startReply(model, false);
    expect(note(view).hidden).toBe(true);
    expect(sendButton(view).textContent).toBe("Stop");
    sendButton(view).click();
    expect(model.sentOf("stop")).toHaveLength(1);
  });
});

describe("Insert below on code blocks", () => {
  const reply = "Try:\n\n```python\nprint(6 * 7)\n```\n\n```bash\nls -l\n```\n";

  function showReply(model: FakeModel): void {
    model.kernelShow([
      { id: "u1", role: "user", content: "go" },
      { id: "r1", role: "assistant", content: reply, parent: "u1" },
    ]);
    frames.flush();
  }

  it("is hidden where nobody answers the probe (VS Code, Colab, marimo, nbconvert)", () => {
    const { model, view } = setup();
    showReply(model);
    expect(view.root.querySelectorAll(".nbc-insert")).toHaveLength(2);
    expect(view.root.classList.contains("can-insert")).toBe(false);
    expect(probeHost(view.el).insert).toBe(false);
  });

  it("inserts the block's code as a new cell where the notebook answers", () => {
    const host = fakeExtension({ insert: true, interrupt: true, kernelLanguage: "python" });
    const { model, view } = setup();
    showReply(model);
    expect(view.root.classList.contains("can-insert")).toBe(true);
    const [python, bash] = view.root.querySelectorAll<HTMLButtonElement>(".nbc-insert");
    python!.click();
    bash!.click();
    expect(host.inserted).toEqual([
      { code: "print(6 * 7)", cellType: "code" },
      { code: "%%bash\nls -l", cellType: "code" },
    ]);
    expect(python!.textContent).toBe("Inserted");
  });
});

describe("what a code block becomes", () => {
  it.each([
    ["python", "python", "code", "x = 1"],
    ["", "python", "code", "x = 1"],
    ["py", "", "code", "x = 1"],
    ["markdown", "python", "markdown", "x = 1"],
    ["md", "r", "markdown", "x = 1"],
    ["bash", "python", "code", "%%bash\nx = 1"],
    ["sh", "python", "code", "%%sh\nx = 1"],
    ["sql", "python", "code", "%%sql\nx = 1"],
    ["r", "R", "code", "x = 1"],
    ["json", "python", "markdown", "```json\nx = 1\n```"],
    ["bash", "r", "markdown", "```bash\nx = 1\n```"],
  ])("%s in a %s kernel: a %s cell", (language, kernel, cellType, code) => {
    // The block's last newline ends its last line: a cell does without it.
    expect(cellFor("x = 1\n", language, kernel)).toEqual({ cellType, code });
  });

  it("fences a block that holds a fence in a longer one", () => {
    expect(cellFor("```\nx\n```", "text", "python").code).toBe("````text\n```\nx\n```\n````");
  });
});
