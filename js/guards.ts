// Guards: custom messages arrive as untyped JSON, and saved notebooks hold whatever was
// written, so check a value's shape (protocol.ts) before trusting it — and whether a model
// is a comparison's. Apart from protocol.ts, which mirrors _protocol.py type for type and
// holds types only; these are the checks the bundle runs.

import type {
  ExportedMsg,
  ImageMsg,
  ImagePart,
  Message,
  PartEntry,
  ServerMessage,
} from "./protocol.js";

const SERVER_KINDS = new Set(["start", "delta", "done", "error", "snapshot", "notice", "part"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `value` has a known server `kind` and the fields that kind needs. */
export function isServerMessage(value: unknown): value is ServerMessage {
  if (!isRecord(value) || typeof value.kind !== "string" || !SERVER_KINDS.has(value.kind)) {
    return false;
  }
  const str = (k: string): boolean => typeof value[k] === "string";
  const num = (k: string): boolean => typeof value[k] === "number";
  const absent = (k: string): boolean => value[k] === undefined;
  // An optional pair of a delta: both there (offset a number, text a string) or neither.
  const pair = (offset: string, text: string): boolean =>
    (num(offset) && str(text)) || (absent(offset) && absent(text));
  switch (value.kind) {
    case "start":
      return str("id") && str("text");
    case "delta":
      return (
        str("id") &&
        num("seq") &&
        pair("offset", "text") &&
        pair("reasoning_offset", "reasoning") &&
        (absent("tokens") || num("tokens"))
      );
    case "done":
      return str("id") && num("seq");
    case "error":
      return (value.id === null || str("id")) && str("message");
    case "snapshot":
      return value.id === null || (str("id") && num("seq") && str("text"));
    case "notice":
      return str("text");
    case "part":
      return str("id") && num("seq") && isPartEntry(value);
    default:
      return false;
  }
}

/** A part entry whose part is a tool call (with a status) or a tool result. */
export function isPartEntry(value: unknown): value is PartEntry {
  if (!isRecord(value) || typeof value.at !== "number" || !isRecord(value.part)) return false;
  const part = value.part;
  if (part.type === "tool_call") {
    return (
      typeof part.id === "string" &&
      typeof part.name === "string" &&
      typeof part.arguments === "string" &&
      typeof part.status === "string"
    );
  }
  return (
    part.type === "tool_result" &&
    typeof part.call_id === "string" &&
    typeof part.name === "string" &&
    typeof part.content === "string"
  );
}

/** An `exported` answer (handled by the view that asked, not by the reducer). */
export function isExported(value: unknown): value is ExportedMsg {
  return (
    isRecord(value) &&
    value.kind === "exported" &&
    typeof value.request === "number" &&
    (value.format === "markdown" || value.format === "json") &&
    typeof value.filename === "string" &&
    typeof value.text === "string"
  );
}

/** An `image` answer (handled by the view that asked, not by the reducer). */
export function isImageAnswer(value: unknown): value is ImageMsg {
  return (
    isRecord(value) &&
    value.kind === "image" &&
    typeof value.request === "number" &&
    typeof value.id === "string"
  );
}

/** The image parts of a message, keeping only those with the fields a view relies on. */
export function imagesOf(message: Message | null | undefined): ImagePart[] {
  const parts: unknown[] = Array.isArray(message?.parts) ? message.parts : [];
  return parts.filter(
    (p): p is ImagePart =>
      isRecord(p) &&
      p.type === "image" &&
      typeof p.id === "string" &&
      typeof p.mime === "string" &&
      typeof p.width === "number" &&
      typeof p.height === "number",
  );
}

/** A saved `messages` list, keeping only entries with the fields the view relies on. */
export function asMessages(value: unknown): Message[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (m): m is Message =>
      isRecord(m) &&
      typeof m.id === "string" &&
      typeof m.role === "string" &&
      typeof m.content === "string",
  );
}

export function isCompare(model: { get(key: string): unknown }): boolean {
  return Array.isArray(model.get("columns"));
}
