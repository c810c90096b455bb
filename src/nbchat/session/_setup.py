"""Making a conversation: its settings checked, its history given or restored.

Every way to get a :class:`~nbchat.session.Conversation` ends in :func:`setup`: the
constructor (``messages=``, or ``file=`` whose transcript it restores), and
:meth:`~nbchat.session.Conversation.from_json` / :meth:`~nbchat.session.Conversation.load`
through :func:`restore`. A restored transcript gives the model, system prompt, options and
every branch; what the caller passes wins over it. The saved server is used only when it is
the one configured (:mod:`._saved`). A conversation that keeps a file gets its writer last
(:func:`keep_file`), with the images kept beside the file.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Iterable, Mapping

from .. import resolve, settings, transcript
from ..errors import InvalidRequest
from ..images import MAX_SIDE, MemoryImageStore
from ..messages import Message
from ..providers.base import Timeouts
from ..tools import Approval, ApprovePolicy, ToolLike, Tools
from ._input import check_messages, check_text
from ._loop import DEFAULT_MAX_STEPS
from ._saved import server_notice
from .tree import Tree

if typing.TYPE_CHECKING:
    from .autosave import Autosave
    from .conversation import Conversation

__all__ = ["keep_file", "restore", "setup"]


def setup(
    conversation: Conversation,
    model: str | None,
    *,
    system: str | None,
    base_url: str | None,
    api_key: str | None,
    headers: Mapping[str, str] | None,
    timeouts: Timeouts | None,
    messages: Iterable[Message] | None,
    options: Mapping[str, object],
    saved: transcript.Transcript | None,
    source: str,
    tools: Iterable[ToolLike] = (),
    approve: ApprovePolicy = "ask",
    max_steps: int = DEFAULT_MAX_STEPS,
    max_image_side: int = MAX_SIDE,
    max_history_images: int | None = None,
    image_store: MemoryImageStore | None = None,
) -> None:
    """Give ``conversation`` its model, settings and history — those of ``saved`` (read
    from ``source``) under the arguments, when restoring."""
    conversation._lock = threading.Lock()
    conversation._notices = []
    conversation._autosave = None
    conversation.images = MemoryImageStore() if image_store is None else image_store
    active: Mapping[str, str] = {}
    leaf: str | None = None
    saved_url: str | None = None
    if saved is not None:
        if messages is not None:
            raise InvalidRequest(
                f"Pass either messages= or a file= to restore, not both: {source} exists.",
                hint="Leave messages= out to restore the file, or use another file=.",
            )
        if model is None:
            model = saved.model
        saved_url = None if base_url is not None else saved.base_url
        system = saved.system if system is None else system
        options = {**saved.options, **options}
        messages, active, leaf = saved.messages, saved.active, saved.leaf
    conversation.resolution = resolve.resolve(model, base_url, api_key)
    notice = server_notice(source, saved_url, conversation.resolution.base_url)
    if notice:
        conversation._notify(notice, warn=True)
    conversation.provider = conversation.resolution.create_provider(
        headers=headers, timeouts=timeouts
    )
    conversation.model = conversation.resolution.spec
    conversation.options = conversation.provider.check_options(options)
    conversation.tools = tools if isinstance(tools, Tools) else Tools(tools)
    conversation.approval = Approval(approve)
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise InvalidRequest(
            f"max_steps must be a whole number from 1, not {max_steps!r}.",
            hint="It is how many model requests one reply may take (default 8).",
        )
    conversation.max_steps = max_steps
    if not _whole(max_image_side) or max_image_side < 16:
        raise InvalidRequest(
            f"max_image_side must be a whole number of pixels from 16, not {max_image_side!r}.",
            hint=f"Images are scaled to it on their longest side (default {MAX_SIDE}).",
        )
    conversation.max_image_side = max_image_side
    if max_history_images is not None and (
        not _whole(max_history_images) or max_history_images < 0
    ):
        raise InvalidRequest(
            f"max_history_images must be None or a whole number from 0, not "
            f"{max_history_images!r}.",
            hint="It is how many past images each request sends again (None: all).",
        )
    conversation.max_history_images = max_history_images
    loaded, loaded_system = check_messages(messages or ())
    given = system if system is not None else loaded_system
    if given is None:
        given = settings.settings().system
    conversation.system = check_text("system prompt", given, allow_empty=True) if given else None
    last = loaded[-1]["id"] if loaded else None
    conversation._tree = Tree.of(loaded, active=active, leaf=leaf or last)
    conversation._current = None
    conversation._version = 0


def restore(
    cls: type[Conversation],
    saved: transcript.Transcript,
    source: str,
    kwargs: dict[str, typing.Any],
) -> Conversation:
    """A conversation of ``cls`` restored from ``saved`` (read from ``source``), with the
    constructor's keyword arguments ``kwargs`` over what was saved."""
    conversation = cls.__new__(cls)
    options = {**kwargs.pop("options", {})}
    known = ("model", "system", "base_url", "api_key", "headers", "timeouts")
    given = {name: kwargs.pop(name, None) for name in known}
    # Tools are the caller's functions, never saved: given again on each load.
    tools = kwargs.pop("tools", ())
    approve = kwargs.pop("approve", "ask")
    max_steps = kwargs.pop("max_steps", DEFAULT_MAX_STEPS)
    max_image_side = kwargs.pop("max_image_side", MAX_SIDE)
    max_history_images = kwargs.pop("max_history_images", None)
    image_store = kwargs.pop("image_store", None)
    if kwargs.pop("messages", None) is not None:
        raise InvalidRequest("Restoring takes the saved messages; pass no messages=.")
    setup(
        conversation,
        given["model"],
        system=given["system"],
        base_url=given["base_url"],
        api_key=given["api_key"],
        headers=given["headers"],
        timeouts=given["timeouts"],
        messages=None,
        options={**options, **kwargs},
        saved=saved,
        source=source,
        tools=tools,
        approve=approve,
        max_steps=max_steps,
        max_image_side=max_image_side,
        max_history_images=max_history_images,
        image_store=image_store,
    )
    return conversation


def keep_file(conversation: Conversation, writer: Autosave) -> None:
    """Make ``writer`` save ``conversation`` as it goes, once the images its file keeps
    are back in the store (a missing one is a notice: its thumbnail stays)."""
    missing = writer.load_images(conversation.images, conversation._tree)
    if missing:
        conversation._notify(
            f"{len(missing)} image(s) of {writer.path.name} are missing "
            f"from {writer.path.name}.images; their thumbnails are kept."
        )
    writer.start(conversation._snapshot, conversation.images)
    conversation._autosave = writer


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
