// Every message between the kernel and the front end, tagged by `kind`.
// Mirrors src/nbchat/_protocol.py name for name (same tags, same snake_case keys).
// Types only: the checks that untyped JSON has these shapes are in guards.ts.
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

// A message's body in order, when it holds more than text (src/nbchat/messages.py).
export interface TextPart {
  type: "text";
  text: string;
}
export interface ToolCallPart {
  type: "tool_call";
  id: string;
  name: string;
  arguments: string; // JSON text, exactly as the model wrote it
}
export type ToolStatus =
  | "waiting"
  | "running"
  | "done"
  | "failed"
  | "declined"
  | "stopped"
  | "invalid"
  | "skipped";
export interface ToolResultPart {
  type: "tool_result";
  call_id: string;
  name: string;
  content: string; // what the model was told
  status?: ToolStatus;
  elapsed_s?: number;
  truncated?: boolean;
  detail?: string; // a traceback
  output?: string; // what the tool printed (captured)
  figures?: string[]; // small PNG data: URLs
}
/** An image of a message; its bytes stay in the kernel (ask with an `image` command). */
export interface ImagePart {
  type: "image";
  id: string; // content hash: the key of the full image in the kernel
  mime: string; // "image/png" | "image/jpeg"
  width: number;
  height: number;
  thumbnail?: string; // a small data: URL; only PNG/JPEG ones are ever shown (view/sniff.ts)
}
export interface OtherPart {
  type: "reasoning";
}
export type Part = TextPart | ToolCallPart | ToolResultPart | ImagePart | OtherPart;

export interface Message {
  id: string;
  role: Role;
  content: string;
  parent?: string | null; // the message before it on its branch (src/nbchat/messages.py)
  reasoning?: string;
  parts?: Part[]; // the whole body in order; `content` is its text parts joined
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
  /** Longest side, in pixels, an attached image is scaled to before it is sent. */
  max_image_side?: number;
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
  parts?: PartEntry[]; // the reply's cards so far, in order
  blocking?: boolean; // as in `start`
}

export interface NoticeMsg {
  kind: "notice";
  text: string; // e.g. "A reply is still streaming — press Stop first."
}

/** A tool call's card as the live reply carries it: the call with its status, or its result. */
export type LiveToolCall = ToolCallPart & { status: ToolStatus; always_ask?: boolean };
export interface PartEntry {
  at: number; // UTF-16 offset in the reply's text where the part sits
  part: LiveToolCall | ToolResultPart; // a later one for the same call replaces the earlier
}

/** A tool call's card changed; the text before `at` was sent before it. */
export interface PartMsg extends PartEntry {
  kind: "part";
  id: string;
  seq: number;
}

/** The answer to an `export` command: the kernel's own Markdown or JSON (nbchat.transcript). */
export interface ExportedMsg {
  kind: "exported";
  request: number; // the number the `export` carried
  format: "markdown" | "json";
  filename: string; // a suggested name, e.g. "talk.md"
  text: string;
}

/** The answer to an `image` command; the image's bytes are the message's one buffer (absent,
 * with `error`, when the kernel does not have it). */
export interface ImageMsg {
  kind: "image";
  request: number; // the number the `image` command carried
  id: string;
  mime?: string;
  error?: string;
}

export type ServerMessage =
  | StartMsg
  | DeltaMsg
  | DoneMsg
  | ErrorMsg
  | SnapshotMsg
  | NoticeMsg
  | PartMsg;

// ---------------------------------------------------------------------------------------
// Front end -> kernel.

export interface HelloMsg {
  kind: "hello";
}
export interface ResyncMsg {
  kind: "resync";
  id: string;
}
/** What the browser says of each image it sends; the bytes travel as the message's binary
 * buffers, one per image, in the same order (never as base64 text). */
export interface SentImage {
  mime: "image/png" | "image/jpeg";
  width: number;
  height: number;
}
export interface SubmitMsg {
  kind: "submit";
  text: string;
  images?: SentImage[];
}
/** Ask for the full image `id` of a message (for the larger view); answered by `image`. */
export interface ImageRequestMsg {
  kind: "image";
  id: string;
  request: number; // echoed in the answer
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
/** The user's answer on a waiting tool call's card. */
export interface ApproveMsg {
  kind: "approve";
  call_id: string;
  allow: boolean;
  reason?: string; // why not, sent to the model
  always?: boolean; // "Always allow <name>" for this chat
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
  | ClearMsg
  | ApproveMsg
  | ImageRequestMsg;

// ---------------------------------------------------------------------------------------
// A comparison (src/nbchat/widget/_compare.py): one Chat model per column.

export interface CompareTraits {
  /** The columns' Chat models, as "IPY_MODEL_<id>" references, in order. */
  columns: string[];
  /** The columns' names ("ollama:llama3.2", a repeated one as "… #2"). */
  labels: string[];
  /** The column continued with ("Continue with this one"), or -1 while comparing. */
  chosen: number;
  theme: ThemePreference;
  height: string;
  placeholder: string;
}

/** Front end -> kernel, to the comparison itself (a column's own commands go to its Chat). */
export type CompareCommand =
  | { kind: "submit"; text: string }
  | { kind: "stop" }
  | { kind: "choose"; column: number };
