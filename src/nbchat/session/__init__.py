"""Conversation and Turn: the history, and one reply being produced.

Semantics:

- ``Conversation.prompt(text)`` validates the input (empty or whitespace-only text, NUL or
  lone surrogates, unknown options) and raises :class:`~nbchat.errors.InvalidRequest` or
  :class:`~nbchat.errors.ConversationBusy` *before* any request. It returns a lazy
  :class:`Turn`; nothing is sent until the turn is iterated. A turn made but never
  iterated records nothing; if the conversation changed before it starts, starting it
  raises :class:`~nbchat.errors.InvalidRequest` (ask again).
- A turn streams :data:`~nbchat.providers.base.StreamEvent` values. Iterating a finished
  turn replays its events. Sync iteration (``for``) runs the async provider on a private
  loop in a worker thread, so it works inside a running kernel; async iteration runs on
  the caller's loop. Either way the provider runs in a task of its own, so :meth:`Turn.stop`
  can end it from any thread without touching the consumer.
- When a turn ends — done, stopped, or failed — the conversation records the user message
  (for ``prompt``/``edit``) and the assistant message with its ``meta`` (model, provider
  label, prompt_tokens, tokens, tokens_per_s, elapsed_s, ttft_s, finish_reason, stopped;
  ``error`` + ``hint``). Nothing is lost: a failed turn keeps the partial text, then the
  error is raised from the iteration. A stopped turn ends the iteration normally with
  ``status == "stopped"``.
- Leaving the iteration early (``break``, an exception in the loop body) stops the turn. A
  ``KeyboardInterrupt`` (kernel interrupt) during sync iteration stops the turn, records the
  partial reply as stopped, and then propagates so the cell still ends.
- A turn's life is one state machine (``session/turn.py``: ``_State`` and its table of
  moves); ``status`` is what callers see of it.
- ``Turn.stop()`` is thread-safe and closes the HTTP response (the server stops). A turn
  stopped before its first step sends nothing; iterated anyway, it ends at once and is
  recorded like any stopped turn (the prompt, an empty reply marked stopped), so a Stop
  racing a Send never loses what the user typed.
- The history is a tree (:mod:`nbchat.session.tree`): ``regenerate()`` answers again
  beside the last reply (or beside ``regenerate(id)``, any reply on screen), keeping the
  earlier one as a sibling — a failed one too; ``edit(text)`` asks ``text`` beside the
  last question (``edit(text, id)``: any question on screen) with a fresh reply, keeping
  the earlier question and everything after it. ``messages`` is the branch on screen,
  which is exactly what the model is sent; ``tree`` has every message
  (``tree.siblings(id)``, ``tree.children(id)``, ``tree.leaf``); ``select(id)`` shows the
  branch through a message, and each fork remembers which version it showed last, so
  switching back shows a branch's whole continuation. Switching is refused while a
  reply streams (:class:`~nbchat.errors.ConversationBusy`), and a turn made before a
  switch is refused when it starts. ``resume()`` continues the last reply on screen (stopped or
  cut off) by resending it as the final assistant message so the model carries on,
  appending to the same message.

  How servers treat a trailing assistant message: Ollama's native ``/api/chat`` continues
  it (its templates leave the last assistant turn open). OpenAI-compatible servers vary:
  recent llama.cpp ``llama-server`` builds treat it as a prefill, vLLM continues it only
  with ``continue_final_message``, and others (OpenAI's own API among them) answer with a
  new reply. The new text is appended either way; a server that starts over leaves a seam
  the user can see, and regenerate.
- Every message recorded names its ``parent``: the id of the message before it (``None``
  for the first). A history handed in without parents (``messages=``, a version-1 file)
  becomes that chain; see :mod:`nbchat.messages`.
- Failed or stopped exchanges with no text (e.g. server down) stay in ``messages`` for the
  user to see but are not sent to the model on later turns.
- Options: per-turn > conversation > :func:`nbchat.configure` defaults; the provider
  validates them before any request. ``None`` for an option drops it for that turn.
"""

from __future__ import annotations

from .conversation import Conversation
from .turn import Turn, TurnAction, TurnStatus

__all__ = ["Conversation", "Turn", "TurnAction", "TurnStatus"]
