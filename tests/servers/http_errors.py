"""HTTP error answers in each server's own words (research/protocols.md §1.6, §2.4, §2.7).

An *envelope* is the shape a server family wraps errors in; each error kind has a
status and a message, and a few servers word some kinds their own way.
"""

from __future__ import annotations

import typing

from .plan import Plan, whole

__all__ = ["error_plan", "json_error_plan", "litellm_refusal"]

_OLLAMA_CONTEXT = (
    "the prompt is longer than the context length currently available to the model; shorten "
    "the prompt, adjust the context length in settings, or use a model with a longer context "
    "length"
)

_OVERLOADED = "The engine is currently overloaded, please try again later"

# kind → (status, OpenAI-style type, code, message template)
_OPENAI: dict[str, tuple[int, str, str | None, str]] = {
    "unauthorized": (401, "invalid_request_error", "invalid_api_key", ""),  # worded below
    "forbidden": (
        403,
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    "model_not_found": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "context": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 512 tokens. However, you requested 4425 "
        "tokens (4417 in the messages, 8 in the completion). Please reduce the length of "
        "the messages or completion.",
    ),
    "rate_limit": (
        429,
        "tokens",
        "rate_limit_exceeded",
        "Rate limit reached for {model} on tokens per min (TPM): Limit 30000, Used 29000, "
        "Requested 1500. Please try again in 6.596s.",
    ),
    "server": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "loading": (
        503,
        "server_error",
        None,
        "The engine is currently overloaded, please try again later",
    ),
    "busy": (
        503,
        "server_error",
        None,
        "The engine is currently overloaded, please try again later",
    ),
    "bad_request": (400, "invalid_request_error", None, "Invalid value for 'temperature'."),
    "not_found": (404, "invalid_request_error", None, "Invalid URL ({method} {path})"),
}


def _mask(auth: str) -> str:
    key = auth.removeprefix("Bearer ").strip()
    return f"{key[:8]}{'*' * 20}{key[-4:]}" if len(key) > 12 else "***"


def error_plan(
    envelope: str,
    kind: str | None,
    status: int | None,
    *,
    model: str,
    method: str = "POST",
    path: str = "/",
    auth: str = "",
    retry_after: str | None = None,
    leak: str = "",
) -> Plan:
    """The error answer for ``kind`` (or a bare ``status``) in ``envelope``'s shape.

    ``leak`` is appended to the message, as a careless proxy might echo a header.
    """
    kind = kind or _kind_for(status or 500)
    base_status, err_type, code, template = _OPENAI[kind]
    status = status or base_status
    message = template.format(model=model, method=method, path=path)
    if kind == "unauthorized":
        message = (
            f"Incorrect API key provided: {_mask(auth)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
            if auth
            else "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    if leak:
        message = f"{message} (request had {leak})"
    plan = _envelope(envelope, kind, status, err_type, code, message, model=model, leak=leak)
    if retry_after is not None:
        # LiteLLM's proxy passes the upstream's header on only under its own prefix.
        name = "llm_provider-retry-after" if envelope == "litellm" else "Retry-After"
        plan.headers[name] = retry_after
    return plan


def _kind_for(status: int) -> str:
    return {
        401: "unauthorized",
        403: "forbidden",
        404: "model_not_found",
        429: "rate_limit",
        503: "busy",
    }.get(status, "bad_request" if status < 500 else "server")


def _envelope(
    envelope: str,
    kind: str,
    status: int,
    err_type: str,
    code: str | None,
    message: str,
    *,
    model: str,
    leak: str = "",
) -> Plan:
    if envelope == "ollama":
        if kind == "forbidden":
            return whole(403, b"")  # CORS/Host rejection: no body at all
        if kind == "not_found":
            return whole(404, "404 page not found")
        text = {
            "unauthorized": "unauthorized",
            "model_not_found": f"model '{model}' not found",
            "context": _OLLAMA_CONTEXT,
            "rate_limit": "too many requests, please slow down",
            "server": "model runner has unexpectedly stopped, this may be due to resource "
            "limitations or an internal error, check ollama server logs for details",
            "loading": "server busy, please try again.  maximum pending requests exceeded",
            "busy": "server busy, please try again.  maximum pending requests exceeded",
            "bad_request": f'"{model}" does not support thinking',
        }[kind]
        body: dict[str, typing.Any] = {"error": f"{text} ({leak})" if leak else text}
        if kind == "unauthorized":
            body["signin_url"] = "https://ollama.com/connect?name=emulator"
        return whole(status, body, "application/json; charset=utf-8")
    if envelope == "llamacpp":
        llama_type = {
            "unauthorized": "authentication_error",
            "forbidden": "permission_error",
            "model_not_found": "not_found_error",
            "not_found": "not_found_error",
            "context": "exceed_context_size_error",
            "loading": "unavailable_error",
            "busy": "unavailable_error",
            "server": "server_error",
        }.get(kind, "invalid_request_error")
        text = {
            "unauthorized": "Invalid API Key",
            "context": "the request exceeds the available context size, try increasing it",
            "loading": "Loading model",
            "not_found": "File Not Found",
            "model_not_found": f"model '{model}' not found",
        }.get(kind, message)
        error: dict[str, typing.Any] = {"code": status, "message": text, "type": llama_type}
        if kind == "context":
            error.update(n_prompt_tokens=4425, n_ctx=512)
        return whole(status, {"error": error})
    if envelope == "fastapi" and kind == "not_found":
        return whole(404, {"detail": "Not Found"})
    if envelope == "fastapi" and kind == "server":
        return whole(500, "Internal Server Error")  # llama-cpp-python's unhandled errors
    if envelope == "openrouter":
        return whole(status, {"error": {"code": status, "message": message}})
    if envelope == "litellm":
        return _litellm(kind, status, message, model)
    if envelope == "vllm":
        error = {"message": message, "type": err_type, "param": None, "code": status}
        return whole(status, {"error": error})
    error = {"message": message, "type": err_type, "param": None, "code": code}
    return whole(status, {"error": error})


# kind → (exception class, type) of LiteLLM's proxy passing an upstream error on (1.108.7).
_LITELLM: dict[str, tuple[str, str]] = {
    "unauthorized": ("AuthenticationError", "authentication_error"),
    "forbidden": ("PermissionDeniedError", "permission_error"),
    "model_not_found": ("NotFoundError", "invalid_request_error"),
    "context": ("ContextWindowExceededError", "invalid_request_error"),
    "rate_limit": ("RateLimitError", "throttling_error"),
    "server": ("InternalServerError", "internal_server_error"),
    "loading": ("ServiceUnavailableError", "service_unavailable"),
    "busy": ("ServiceUnavailableError", "service_unavailable"),
    "bad_request": ("BadRequestError", "invalid_request_error"),
}


def _litellm(kind: str, status: int, message: str, model: str) -> Plan:
    """The upstream's error as LiteLLM's proxy wraps it: its class, the provider, the
    upstream's words, and the model group it failed for."""
    if kind == "not_found":  # a route the proxy does not have: FastAPI's own answer
        return whole(404, {"detail": "Not Found"})
    cls, err_type = _LITELLM[kind]
    said = f"litellm.{cls}: {cls}: OpenAIException - {message}"
    if kind == "context":  # the proxy adds a layer for this one
        said = f"litellm.{cls}: litellm.BadRequestError: OpenAIException - {message}"
    said += (
        f"\n\nLiteLLM: model group '{model}' failed with the error above. "
        "No fallback was attempted."
    )
    error = {"message": said, "type": err_type, "param": None, "code": str(status)}
    return whole(status, {"error": error}, "application/json")


def litellm_refusal(auth: str) -> Plan:
    """A DB-less LiteLLM proxy refusing a request's key (it answers this itself): no key is
    a 401; any key but the master key is taken for a virtual key it has no database to
    look up, a 400. Note the string "None" as param, unlike its other errors."""
    error: dict[str, str | None]
    if not auth:
        message, err_type, status = "Authentication Error, No api key passed in.", "auth_error", 401
        error = {"message": message, "type": err_type, "param": "None", "code": str(status)}
    else:
        message, err_type, status = "No connected db.", "no_db_connection", 400
        error = {"message": message, "type": err_type, "param": None, "code": str(status)}
    plan = whole(status, {"error": error}, "application/json")
    plan.server_headers = False
    return plan


def json_error_plan(flavour: str, method: str, path: str) -> Plan:
    """A 200 ``application/json`` answer that is an error (LM Studio, old LiteLLM)."""
    if flavour == "lmstudio":
        return whole(200, {"error": f"Unexpected endpoint or method. ({method} {path})"})
    body = {
        "error": {
            "message": "Authentication Error, Invalid proxy server token passed.",
            "type": "auth_error",
            "param": "None",
            "code": "401",
        }
    }
    return whole(200, body)
