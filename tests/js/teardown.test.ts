// Teardown must leave nothing behind: no model listener, DOM listener, observer, animation
// frame, interval or timer — whichever way the host asks (returned cleanup, signal, both).

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  assistant,
  deltas,
  FakeModel,
  initializeModel,
  manualFrames,
  press,
  renderView,
  type Tracker,
  trackResources,
  traits,
  user,
} from "./helpers.js";

let tracker: Tracker;
let frames: ReturnType<typeof manualFrames>;

beforeEach(() => {
  tracker = trackResources();
  frames = manualFrames();
});

afterEach(() => {
  tracker.restore();
  document.body.innerHTML = "";
});

/** Use every part of the view that registers something: stream, notices, copy, refusal. */
async function exercise(model: FakeModel, views: ReturnType<typeof renderView>[]): Promise<void> {
  vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: async () => {} } });
  model.push({ kind: "start", id: "r2", text: "", model: "ollama:m" });
  for (const d of deltas("r2", ["Hello ", "again"])) model.push(d);
  frames.flush();
  expect(tracker.intervals()).toBeGreaterThan(0); // the live status line ticks
  for (const view of views) {
    const area = view.root.querySelector<HTMLTextAreaElement>("textarea.nbc-input")!;
    area.value = "refused while streaming";
    press(area, "Enter");
    view.root.querySelector<HTMLButtonElement>(".nbc-act-copy")!.click();
    view.root.querySelector<HTMLButtonElement>(".nbc-btn-quiet")!.click(); // arms Clear
  }
  model.push({ kind: "notice", text: "A notice" });
  model.push({ kind: "done", id: "r2", seq: 3 });
  frames.flush();
  await vi.waitFor(() => {
    expect(views[0]!.root.querySelector(".nbc-act-copy")!.textContent).toBe("Copied");
  });
  expect(tracker.timeouts()).toBeGreaterThan(0);
  expect(tracker.listeners().length).toBeGreaterThan(0);
  expect(tracker.observers()).toBeGreaterThan(0);
}

function expectNothingLeft(model: FakeModel): void {
  expect(model.listenerCount()).toBe(0);
  expect(tracker.listeners().map((r) => `${r.target.constructor.name}:${r.type}`)).toEqual([]);
  expect(tracker.observers()).toBe(0);
  expect(tracker.intervals()).toBe(0);
  expect(tracker.timeouts()).toBe(0);
  expect(frames.pending()).toBe(0);
  expect(document.querySelector(".nbc-root")).toBeNull();
}

const history = () => traits({ messages: [user("u1", "q"), assistant("r1", "first answer")] });

describe("teardown", () => {
  it("the returned cleanups remove everything (hosts before anywidget 0.11)", async () => {
    const model = new FakeModel(history());
    const hostSignal = new AbortController(); // never aborted by this host
    const disposeModel = initializeModel(model, hostSignal.signal);
    const views = [renderView(model), renderView(model)];
    await exercise(model, views);
    for (const view of views) view.cleanup();
    disposeModel();
    expectNothingLeft(model);
  });

  it("aborting the signals removes everything (anywidget 0.11 hosts)", async () => {
    const model = new FakeModel(history());
    const modelSignal = new AbortController();
    initializeModel(model, modelSignal.signal);
    const views = [renderView(model), renderView(model)];
    await exercise(model, views);
    for (const view of views) view.signal.abort();
    modelSignal.abort();
    expectNothingLeft(model);
  });

  it("both at once tear down exactly once", async () => {
    const model = new FakeModel(history());
    const modelSignal = new AbortController();
    const disposeModel = initializeModel(model, modelSignal.signal);
    const view = renderView(model);
    await exercise(model, [view]);
    view.signal.abort();
    view.cleanup();
    view.cleanup();
    modelSignal.abort();
    disposeModel();
    expectNothingLeft(model);
  });

  it("one view going away leaves the other view and the stream working", () => {
    const model = new FakeModel(history());
    const disposeModel = initializeModel(model);
    const a = renderView(model);
    const b = renderView(model);
    a.cleanup();
    model.push({ kind: "start", id: "r2", text: "", model: "ollama:m" });
    model.push(deltas("r2", ["still here"])[0]!);
    frames.flush();
    expect(b.root.textContent).toContain("still here");
    b.cleanup();
    disposeModel();
    expect(model.listenerCount()).toBe(0);
  });
});
