// Every message between the kernel and the front end, tagged by `kind`.
// Mirrors src/nbchat/_protocol.py name for name (same tags, same snake_case keys).
// Offsets and lengths count UTF-16 code units, i.e. JavaScript string length.

// ---------------------------------------------------------------------------------------
// Committed history (one `m:<id>` state key per message, see history.ts; also the JSON
// transcript format).

export type Role = "system" | "user" | "assistant";

export interface MessageMeta {
  model?: string; // "provider:name" as resolved, e.g. "ollama:llama3.2", "demo:showcase"
  provider?: string; // provider label: "Ollama", "OpenAI-compatible", "demo"
  prompt_tokens?: number;
  tokens?: number; // completion tokens
  tokens_per_s?: number;
  elapsed_s?: number; // wall time from request to last token
  ttft_s?: number; // time to first token
  finish_reason?: string | null; // "stop", "length", …; null when stopped or failed
  stopped?: boolean; // the user stopped it (or a kernel interrupt did)
  error?: string; // one-line message of the error that ended it
  hint?: string; // one-line next step for that error
}

export interface Message {
  id: string;
  role: Role;
  content: string;
  parent?: string | null; // the message before it on its branch (src/nbchat/messages.py)
  reasoning?: string;
  meta?: MessageMeta;
}

// ---------------------------------------------------------------------------------------
// Synced traits the view reads.

export type Status = "idle" | "streaming" | "error";
export type ThemePreference = "auto" | "light" | "dark";

export interface ChatTraits {
  /** Id of the last message of the branch on screen ("" = none); absent in notebooks saved
   * before per-message state, which hold `messages` instead. */
  leaf?: string;
  /** Saved by nbchat before per-message state: the branch (read when `leaf` is absent). */
  messages?: Message[];
  [message: `m:${string}`]: Message | null; // null: the message left the conversation
  [children: `c:${string}`]: string[] | null;
  status: Status;
  model: string; // "provider:name"; provider "demo" is the offline demo
  theme: ThemePreference;
  height: string; // CSS max-height of the message list, e.g. "520px"
  compact: boolean; // no input box or toolbar (the %chat magic shows one exchange)
  placeholder: string;
}

// ---------------------------------------------------------------------------------------
// Kernel -> front end (custom messages).

export interface StartMsg {
  kind: "start";
  id: string; // id the assistant message will have in the history (`m:<id>`)
  text: string; // text already there (a continued reply starts from its partial)
  reasoning?: string; // likewise for its reasoning
  model: string;
  // The turn holds its cell (chat.ask, %%chat): the kernel hears nothing from us until it
  // ends, so the view offers no Stop, only how to interrupt the kernel.
  blocking?: boolean;
}

// A delta is sent many times a second, so it carries only what changed: `offset` + `text` when
// there is new answer text, `reasoning_offset` + `reasoning` when there is new reasoning (each
// pair both or neither), and `tokens` when the count is refreshed (a few times a second; in
// between the reducer estimates it from the text's growth).
export interface DeltaMsg {
  kind: "delta";
  id: string;
  seq: number; // 1, 2, 3… per reply, shared by every message kind after `start`
  offset?: number; // where `text` starts in the reply's content (UTF-16 units)
  text?: string;
  reasoning_offset?: number;
  reasoning?: string;
  tokens?: number; // deltas received so far (a live token count)
}

export interface DoneMsg {
  kind: "done";
  id: string;
  seq: number;
}

export interface ErrorMsg {
  kind: "error";
  id: string | null; // the reply it ended, or null for a refused command
  message: string;
  hint: string;
}

export interface SnapshotMsg {
  kind: "snapshot";
  id: string | null; // null: nothing in flight
  seq: number;
  text: string;
  reasoning: string;
  model: string;
  tokens: number;
  blocking?: boolean; // as in `start`
}

export interface NoticeMsg {
  kind: "notice";
  text: string; // e.g. "A reply is still streaming — press Stop first."
}

/** The answer to an `export` command: the kernel's own Markdown or JSON (transcript.py). */
export interface ExportedMsg {
  kind: "exported";
  request: number; // the number the `export` carried
  format: "markdown" | "json";
  filename: string; // a suggested name, e.g. "talk.md"
  text: string;
}

export type ServerMessage = StartMsg | DeltaMsg | DoneMsg | ErrorMsg | SnapshotMsg | NoticeMsg;

// ---------------------------------------------------------------------------------------
// Front end -> kernel.

export interface HelloMsg {
  kind: "hello";
}
export interface ResyncMsg {
  kind: "resync";
  id: string;
}
export interface SubmitMsg {
  kind: "submit";
  text: string;
}
export interface StopMsg {
  kind: "stop";
}
export interface RegenerateMsg {
  kind: "regenerate";
  id?: string; // the reply to answer again (default: the last); the earlier one stays a sibling
}
export interface ContinueMsg {
  kind: "continue";
}
export interface EditMsg {
  kind: "edit";
  text: string; // the question's new text; it gets a fresh reply
  id?: string; // the question it replaces (default: the last), kept as a sibling
}
export interface SwitchMsg {
  kind: "switch";
  id: string; // show the branch through this message (a sibling of one on screen)
}
export interface ExportMsg {
  kind: "export";
  format: "markdown" | "json";
  request: number; // echoed in the answer
}
export interface ClearMsg {
  kind: "clear";
}

export type ClientMessage =
  | HelloMsg
  | ResyncMsg
  | SubmitMsg
  | StopMsg
  | RegenerateMsg
  | ContinueMsg
  | EditMsg
  | SwitchMsg
  | ExportMsg
  | ClearMsg;

// ---------------------------------------------------------------------------------------
// Guards: custom messages arrive as untyped JSON, so check the shape before trusting it.

const SERVER_KINDS = new Set(["start", "delta", "done", "error", "snapshot", "notice"]);

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
    default:
      return false;
  }
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
