// The history as the widget's state holds it: one key per message, walked from `leaf`.

import { describe, expect, it } from "vitest";
import { branchReader, childrenOf, readBranch } from "../../js/history.js";
import { assistant, FakeModel, renderView, traits, user } from "./helpers.js";

const reader = (state: Record<string, unknown>) => ({ get: (key: string) => state[key] });

describe("history keys", () => {
  it("walks parent from leaf, oldest first, and follows the leaf to another branch", () => {
    const state: Record<string, unknown> = {
      leaf: "r2",
      "c:": ["u1"],
      "m:u1": { ...user("u1", "q"), parent: null },
      "c:u1": ["r1", "r2"],
      "m:r1": { ...assistant("r1", "one"), parent: "u1" },
      "m:r2": { ...assistant("r2", "two"), parent: "u1" },
    };
    expect(readBranch(reader(state)).map((m) => m.content)).toEqual(["q", "two"]);
    expect(childrenOf(reader(state), "u1")).toEqual(["r1", "r2"]);
    expect(childrenOf(reader(state), null)).toEqual(["u1"]);
    state.leaf = "r1";
    expect(readBranch(reader(state)).map((m) => m.content)).toEqual(["q", "one"]);
  });

  it("stops where a message is missing or gone (null), and at a cycle", () => {
    const state: Record<string, unknown> = {
      leaf: "b",
      "m:a": null,
      "m:b": { ...user("b", "shown"), parent: "a" },
    };
    expect(readBranch(reader(state)).map((m) => m.id)).toEqual(["b"]);
    state["m:a"] = { ...user("a", "loop"), parent: "b" };
    expect(readBranch(reader(state)).map((m) => m.id)).toEqual(["a", "b"]);
    expect(readBranch(reader({ leaf: "" }))).toEqual([]);
  });

  it("reads the messages list of a notebook saved before per-message state (no leaf)", () => {
    const saved = { messages: [user("u1", "old q"), assistant("r1", "old a")] };
    expect(readBranch(reader(saved)).map((m) => m.content)).toEqual(["old q", "old a"]);
    const model = new FakeModel(traits({ legacy: true, messages: saved.messages }));
    const view = renderView(model);
    const bodies = [...view.root.querySelectorAll(".nbc-body")].map((b) => b.textContent?.trim());
    expect(bodies).toEqual(["old q", "old a"]);
    view.cleanup();
  });

  it("reports a change only when the branch holds other message objects", () => {
    const model = new FakeModel(traits({ messages: [user("u1", "q")] }));
    const branch = branchReader(model as never);
    model.kernelSet("status", "streaming");
    expect(branch.refresh()).toBe(false);
    model.kernelShow([user("u1", "q"), assistant("r1", "a")]);
    expect(branch.refresh()).toBe(true);
    expect(branch.current().map((m) => m.id)).toEqual(["u1", "r1"]);
  });
});
