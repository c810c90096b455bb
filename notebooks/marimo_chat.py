# nbchat in marimo: `marimo edit notebooks/marimo_chat.py` (or `marimo run` to serve it).
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    import nbchat

    return mo, nbchat


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        r"""
        # nbchat in marimo

        A chat with a language model in a marimo notebook: the reply streams in as Markdown
        with tables, highlighted code and math, and follows marimo's light or dark theme.
        With nothing configured, nbchat looks for an Ollama server on this machine and
        falls back to its offline **demo** model; `nbchat.Chat("ollama:llama3.2")` or
        `nbchat.Chat("openai:gpt-4o-mini")` picks one (see the README).
        """
    )
    return


@app.cell
def _(mo, nbchat):
    # mo.ui.anywidget makes the chat a marimo UI element; `chat.widget` is the nbchat.Chat.
    chat = mo.ui.anywidget(nbchat.Chat())
    chat
    return (chat,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        r"""
        Press **Stop** (or Esc) while a reply streams to keep what was said so far;
        **Continue** carries on from there. From code, `chat.widget.messages` is the
        conversation as plain dicts, and `await chat.widget.ask_async("…")` asks without
        blocking the notebook.
        """
    )
    return


if __name__ == "__main__":
    app.run()
